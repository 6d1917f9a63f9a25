import { test } from "node:test";
import assert from "node:assert/strict";
import { BufferPool, copyBetween } from "./snapshot-pool.js";

test("a pool in pairs allocates two halves of one ArrayBuffer and hands out the second without allocating", () => {
  const pool = new BufferPool(4, true);
  const a = pool.take(1000);
  assert.equal(pool.allocated, 1);
  assert.equal(pool.freeCount, 1);
  const b = pool.take(1000);
  assert.equal(pool.allocated, 1, "the sibling came from the free list");
  assert.equal(a.buffer, b.buffer);
  assert.ok(a.length >= 1000 && b.length === a.length);
  // The halves do not overlap.
  a.fill(1);
  b.fill(2);
  assert.ok(a.every((x) => x === 1));
  const plain = new BufferPool(4);
  const c = plain.take(1000);
  assert.equal(plain.freeCount, 0);
  assert.notEqual(c.buffer, plain.take(1000).buffer);
});

test("copying ranges between two halves of a pair equals copying between separate buffers", () => {
  const pool = new BufferPool(4, true);
  const src = pool.take(4096);
  const dst = pool.take(4096);
  assert.equal(src.buffer, dst.buffer, "the copyWithin path is the one under test");
  for (let i = 0; i < src.length; i++) src[i] = (i * 7) & 0xff;
  dst.fill(0xee);
  const from = Int32Array.of(0, 100, 1000, 4000);
  const to = Int32Array.of(10, 333, 1001, 4096);
  const separate = Buffer.alloc(dst.length, 0xee);
  copyBetween(Buffer.from(src), separate, from, to, from.length);
  copyBetween(src, dst, from, to, from.length);
  assert.deepEqual(dst, separate);
  assert.equal(dst[50], 0xee, "bytes outside the ranges are untouched");
  assert.equal(dst[200], src[200]);
  assert.equal(dst[4095], src[4095]);
  assert.equal(dst[4096], 0xee);
  // Only the first `count` ranges are copied.
  dst.fill(0);
  copyBetween(src, dst, from, to, 1);
  assert.equal(dst[5], src[5]);
  assert.equal(dst[200], 0);
});
