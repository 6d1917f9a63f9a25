import { test } from "node:test";
import assert from "node:assert/strict";
import { WorkQueue } from "./queue.js";

const tick = () => new Promise((r) => setImmediate(r));

test("a key is never processed by two workers at once and re-runs once when added meanwhile", async () => {
  let running = 0;
  let maxRunning = 0;
  let runs = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const q = new WorkQueue(
    async () => {
      running++;
      runs++;
      maxRunning = Math.max(maxRunning, running);
      if (runs === 1) await gate;
      running--;
    },
    { concurrency: 4, baseDelayMs: 1, maxDelayMs: 10 },
  );
  q.add("ns/a");
  await tick();
  q.add("ns/a");
  q.add("ns/a");
  release();
  await q.idle();
  await q.idle();
  assert.equal(maxRunning, 1);
  assert.equal(runs, 2);
});

test("different keys run in parallel up to the concurrency", async () => {
  let running = 0;
  let maxRunning = 0;
  const q = new WorkQueue(
    async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
    },
    { concurrency: 2, baseDelayMs: 1, maxDelayMs: 10 },
  );
  for (const k of ["a", "b", "c", "d"]) q.add(k);
  await q.idle();
  assert.equal(maxRunning, 2);
});

test("a failing key is retried with exponential backoff and the failure count resets on success", async () => {
  const delays: number[] = [];
  let calls = 0;
  const timers: (() => void)[] = [];
  const q = new WorkQueue(
    async () => {
      calls++;
      if (calls < 4) throw new Error("apiserver says no");
    },
    {
      concurrency: 1,
      baseDelayMs: 100,
      maxDelayMs: 250,
      setTimer: (fn, ms) => {
        delays.push(ms);
        timers.push(fn);
        return {};
      },
    },
  );
  q.add("k");
  for (let i = 0; i < 3; i++) {
    await q.idle();
    assert.equal(q.failuresOf("k"), i + 1);
    timers.shift()!();
  }
  await q.idle();
  assert.deepEqual(delays, [100, 200, 250]);
  assert.equal(calls, 4);
  assert.equal(q.failuresOf("k"), 0);
});

test("after shutdown nothing new runs", async () => {
  let calls = 0;
  const q = new WorkQueue(async () => void calls++, { concurrency: 1, baseDelayMs: 1, maxDelayMs: 1 });
  await q.shutdown();
  q.add("x");
  await q.idle();
  assert.equal(calls, 0);
});
