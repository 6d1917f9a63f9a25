import { test } from "node:test";
import assert from "node:assert/strict";
import { CoalescingBuffer, flushDecision, shouldPause } from "./coalesce.js";
import type { KlineRow } from "./row.js";

const row = (key: string, version: number): KlineRow => ({
  key,
  version,
  tsv: `${key}@${version}`,
  closedAt: undefined,
});

test("rows with the same key keep the highest version whatever the arrival order", () => {
  const b = new CoalescingBuffer();
  b.add([row("a", 2), row("b", 1)], "t", 0, 10n, 1000);
  b.add([row("a", 5), row("a", 3)], "t", 0, 11n, 1001);
  b.add([row("a", 4), row("b", 1)], "t", 1, 3n, 1002);
  assert.equal(b.size, 2);
  assert.equal(b.added, 6);
  const d = b.drain();
  assert.deepEqual(d.rows.map((r) => r.tsv).sort(), ["a@5", "b@1"]);
  assert.equal(d.rowsIn, 6);
  assert.equal(d.oldestAt, 1000);
});

test("offsets to commit are one past the highest message offset per partition", () => {
  const b = new CoalescingBuffer();
  b.add([row("a", 1)], "t", 0, 10n, 0);
  b.add([], "t", 0, 12n, 0);
  b.add([row("a", 1)], "t", 0, 11n, 0);
  b.add([row("b", 1)], "t", 2, 0n, 0);
  const d = b.drain();
  assert.deepEqual(
    [...d.offsets.values()].map((o) => [o.partition, o.offset]),
    [
      [0, 13n],
      [2, 1n],
    ],
  );
});

test("a message without rows still moves the offset and starts the age clock", () => {
  const b = new CoalescingBuffer();
  b.add([], "t", 0, 7n, 500);
  assert.equal(b.size, 0);
  assert.equal(b.empty, false);
  assert.equal(b.oldestAt, 500);
});

test("drain empties the buffer and later adds start a new batch", () => {
  const b = new CoalescingBuffer();
  b.add([row("a", 1)], "t", 0, 0n, 1);
  b.drain();
  assert.equal(b.empty, true);
  assert.equal(b.oldestAt, undefined);
  b.add([row("a", 1)], "t", 0, 1n, 9);
  const d = b.drain();
  assert.equal(d.oldestAt, 9);
  assert.equal(d.rows.length, 1);
});

test("flush when the row limit is reached, whatever the age", () => {
  assert.deepEqual(flushDecision(50_000, 1000, 1000, { maxRows: 50_000, maxAgeMs: 1000 }), {
    flush: true,
    reason: "rows",
  });
});

test("flush when the oldest row reaches the age limit, else wait for the rest of it", () => {
  const limits = { maxRows: 50_000, maxAgeMs: 1000 };
  assert.deepEqual(flushDecision(3, 1000, 2000, limits), { flush: true, reason: "age" });
  assert.deepEqual(flushDecision(3, 1000, 1250, limits), { flush: false, waitMs: 750 });
  assert.deepEqual(flushDecision(0, undefined, 5000, limits), { flush: false, waitMs: undefined });
});

test("consumption pauses while the sink fails or the waiting rows reach the bound", () => {
  assert.equal(shouldPause(10, 100, false), false);
  assert.equal(shouldPause(100, 100, false), true);
  assert.equal(shouldPause(0, 100, true), true);
});
