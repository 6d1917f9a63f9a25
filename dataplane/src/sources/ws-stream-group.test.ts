import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { backoffDelay } from "./ws-stream-group.js";
import { abortableSleep } from "../async/sleep.js";

describe("backoffDelay", () => {
  it("doubles the ceiling per attempt with jitter in its upper half, up to the maximum", () => {
    const lo = (a: number): number => backoffDelay(a, 500, 30_000, () => 0);
    const hi = (a: number): number => backoffDelay(a, 500, 30_000, () => 1);
    assert.deepEqual([lo(0), hi(0)], [250, 500]);
    assert.deepEqual([lo(3), hi(3)], [2000, 4000]);
    assert.deepEqual([lo(10), hi(10)], [15_000, 30_000]);
    assert.equal(hi(1000), 30_000);
  });
});

describe("abortableSleep", () => {
  it("resolves early and without error when aborted", async () => {
    const ac = new AbortController();
    const t = Date.now();
    setTimeout(() => ac.abort(), 20);
    await abortableSleep(10_000, ac.signal);
    assert.ok(Date.now() - t < 1000);
  });

  it("resolves at once when already aborted, and after the delay otherwise", async () => {
    const ac = new AbortController();
    ac.abort();
    await abortableSleep(10_000, ac.signal);
    const t = Date.now();
    await abortableSleep(30, new AbortController().signal);
    assert.ok(Date.now() - t >= 25);
  });
});
