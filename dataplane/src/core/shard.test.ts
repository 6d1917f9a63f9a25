import { test } from "node:test";
import assert from "node:assert/strict";
import { assignShards, shardOf, symbolsOfShard } from "./shard.js";

const symbols = Array.from({ length: 2000 }, (_, i) => `SYM${i}USDT`);

test("every symbol lands in exactly one shard and shards are balanced", () => {
  const shards = assignShards(symbols, 8);
  const all = shards.flat();
  assert.equal(all.length, symbols.length);
  assert.equal(new Set(all).size, symbols.length);
  for (const s of shards) assert.ok(s.length > 180 && s.length < 320, `unbalanced shard of ${s.length}`);
});

test("growing from 8 to 9 shards moves only symbols into the new shard", () => {
  let moved = 0;
  for (const s of symbols) {
    const before = shardOf(s, 8);
    const after = shardOf(s, 9);
    if (before !== after) {
      moved++;
      assert.equal(after, 8, `${s} moved between old shards`);
    }
  }
  // Expect about 1/9 of the symbols to move.
  assert.ok(moved > 150 && moved < 300, `moved ${moved}`);
});

test("symbolsOfShard agrees with assignShards and rejects bad shard numbers", () => {
  const shards = assignShards(symbols, 5);
  assert.deepEqual(symbolsOfShard(symbols, 3, 5), shards[3]);
  assert.throws(() => symbolsOfShard(symbols, 5, 5), /shard must be in 0..4/);
  assert.throws(() => shardOf("X", 0), /positive integer/);
});
