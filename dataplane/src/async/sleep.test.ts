import { test } from "node:test";
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { abortableSleep } from "./sleep.js";

test("sleeps that run out leave no abort listener behind on the long-lived signal", async () => {
  const ac = new AbortController();
  for (let i = 0; i < 25; i++) await abortableSleep(1, ac.signal);
  assert.equal(getEventListeners(ac.signal, "abort").length, 0);
});

test("an abort ends a long sleep at once, and an aborted signal does not sleep at all", async () => {
  const ac = new AbortController();
  const t0 = Date.now();
  const sleeping = abortableSleep(60_000, ac.signal);
  setTimeout(() => ac.abort(), 10);
  await sleeping;
  await abortableSleep(60_000, ac.signal);
  assert.ok(Date.now() - t0 < 5_000);
});
