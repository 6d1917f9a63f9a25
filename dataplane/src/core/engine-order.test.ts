import assert from "node:assert/strict";
import { test } from "node:test";
import type { KlineEngine } from "./engine-api.js";
import { engineWith, T0 } from "./engine.test-helper.js";
import { INTERVALS, type KlineRecord, type RawTrade } from "./types.js";

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A market of two symbols over ~3 minutes, with quiet seconds. */
function market(seed: number): RawTrade[] {
  const r = rng(seed);
  const out: RawTrade[] = [];
  const ids = [1000, 5000];
  let t = T0 + 59_000;
  for (let i = 0; i < 600; i++) {
    t += Math.floor(r() * 700);
    const s = r() < 0.7 ? 0 : 1;
    out.push({
      symbol: s === 0 ? "BTCUSDT" : "ETHUSDT",
      firstId: ids[s]!,
      lastId: ids[s]!++,
      price: `${100 + Math.floor(r() * 50)}.${Math.floor(r() * 100)
        .toString()
        .padStart(2, "0")}`,
      qty: `0.${Math.floor(1 + r() * 999)
        .toString()
        .padStart(3, "0")}`,
      time: t,
      buyerMaker: r() < 0.5,
    });
  }
  return out;
}

/** Final klines by identity, versions left out (they depend on the order of work). */
function finalState(e: KlineEngine): Map<string, Omit<KlineRecord, "version">> {
  e.closeAll();
  const out = new Map<string, Omit<KlineRecord, "version">>();
  for (const k of e.pull(0, 0).klines) {
    const { version: _v, ...rest } = k;
    out.set(`${k.symbol} ${k.interval} ${k.openTime}`, rest);
  }
  return out;
}

test("trades shuffled within the grace period give the same klines as trades in order", () => {
  for (const seed of [1, 2, 3]) {
    const trades = market(seed);
    const inOrder = engineWith({ intervals: INTERVALS, graceMs: 5000 });
    for (const t of trades) assert.equal(inOrder.ingest(t), undefined);
    // Each trade arrives up to 2.5 s after its time (grace is 5 s), so arrival order differs from time order.
    const r = rng(seed + 100);
    const shuffled = trades
      .map((t) => ({ t, arrival: t.time + Math.floor(r() * 2500) }))
      .sort((a, b) => a.arrival - b.arrival)
      .map((x) => x.t);
    const outOfOrder = engineWith({ intervals: INTERVALS, graceMs: 5000 });
    shuffled.forEach((t, i) => {
      assert.equal(outOfOrder.ingest(t), undefined);
      if (i % 37 === 0) outOfOrder.pull(0, 0); // folds; a foreign epoch forgets nothing
    });
    assert.ok(outOfOrder.stats().lateAccepted > 0, "the shuffle should produce late trades");
    const expected = finalState(inOrder);
    const actual = finalState(outOfOrder);
    assert.ok(actual.size > 100);
    assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
    for (const [key, k] of actual) assert.deepEqual(k, expected.get(key), key);
  }
});

test("pulling between trades does not change the klines", () => {
  const trades = market(7);
  const quiet = engineWith({ intervals: INTERVALS });
  const busy = engineWith({ intervals: INTERVALS });
  trades.forEach((t, i) => {
    assert.equal(quiet.ingest(t), undefined);
    assert.equal(busy.ingest(t), undefined);
    if (i % 3 === 0) busy.pull(0, 0);
  });
  assert.deepEqual(finalState(busy), finalState(quiet));
});
