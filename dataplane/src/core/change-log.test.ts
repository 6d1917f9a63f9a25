import assert from "node:assert/strict";
import { test } from "node:test";
import { ChangeLog } from "./change-log.js";

function after(log: ChangeLog, ack: number): [number, number][] {
  const out: [number, number][] = [];
  log.forEachAfter(ack, (ref, v) => out.push([ref, v]));
  return out;
}

test("the change log lists every change after an ack with its version", () => {
  const log = new ChangeLog(100);
  for (const ref of [3, -1, 3, 7]) log.record(ref);
  assert.deepEqual(after(log, 100), [
    [3, 101],
    [-1, 102],
    [3, 103],
    [7, 104],
  ]);
  assert.deepEqual(after(log, 102), [
    [3, 103],
    [7, 104],
  ]);
});

test("truncating forgets acknowledged changes and older acks are no longer covered", () => {
  const log = new ChangeLog(0);
  for (let i = 0; i < 5000; i++) log.record(i);
  log.truncate(4990);
  assert.equal(log.size, 10);
  assert.equal(log.covers(4990), true);
  assert.equal(log.covers(4989), false);
  assert.deepEqual(after(log, 4998), [
    [4998, 4999],
    [4999, 5000],
  ]);
});

test("a full log restarts after the newest change instead of growing without bound", () => {
  const log = new ChangeLog(0, 4);
  for (let i = 0; i < 4; i++) log.record(i);
  log.record(99); // version 5 overflows: versions up to 5 are forgotten
  assert.equal(log.covers(4), false);
  assert.equal(log.covers(5), true);
  log.record(100);
  assert.deepEqual(after(log, 5), [[100, 6]]);
});
