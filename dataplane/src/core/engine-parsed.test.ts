import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDecimal } from "./decimal.js";
import type { KlineEngine } from "./engine-api.js";
import { engineWith, fullState, ingestAll, kline, T0, trade } from "./engine.test-helper.js";
import type { RawTrade } from "./types.js";

/** Feeds a decimal-string trade through `ingestParsed`, parsing it the way a byte-level source would. */
function ingestAsParsed(e: KlineEngine, t: RawTrade): ReturnType<KlineEngine["ingest"]> {
  const num = new Float64Array(2);
  const pd = parseDecimal(t.price, num, 0);
  const qd = parseDecimal(t.qty, num, 1);
  const s = e.symbolIndexOf(t.symbol);
  return e.ingestParsed(s, t.time, num[0]!, pd, num[1]!, qd, t.firstId, t.lastId, t.buyerMaker);
}

/** A deterministic mix: two symbols, late, duplicate and out-of-order trades, gaps, price decimals that grow. */
function mixedTrades(): RawTrade[] {
  const out: RawTrade[] = [];
  let seed = 7;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let i = 0; i < 3000; i++) {
    const ms = i * 137 - rand(3) * 900; // some trades a bit late
    const id = i + 1 + (rand(50) === 0 ? 3 : 0) - (rand(60) === 0 ? 2 : 0);
    const price = i > 2000 ? `${100 + rand(9)}.${rand(10)}${rand(10)}5` : `${100 + rand(9)}.${rand(100)}`;
    const symbol = rand(3) === 0 ? "ETHUSDT" : "BTCUSDT";
    out.push(trade(id, ms, price, `0.${rand(1000) + 1}`, { symbol, buyerMaker: rand(2) === 0 }));
  }
  return out;
}

test("ingestParsed builds exactly the klines ingest builds from the same trades' decimal strings", () => {
  const a = engineWith({ intervals: ["1s", "1m", "3m", "1h", "1d"] });
  const b = engineWith({ intervals: ["1s", "1m", "3m", "1h", "1d"] });
  const reasonsA: (string | undefined)[] = [];
  const reasonsB: (string | undefined)[] = [];
  let ack = 0;
  mixedTrades().forEach((t, i) => {
    reasonsA.push(a.ingest(t));
    reasonsB.push(ingestAsParsed(b, t));
    if (i % 500 === 499) {
      const pa = a.pull(a.epoch, ack);
      assert.deepEqual(b.pull(b.epoch, ack), pa);
      ack = pa.version;
    }
  });
  assert.deepEqual(reasonsB, reasonsA);
  assert.ok(reasonsA.includes("duplicate") && reasonsA.includes(undefined), "the mix exercises both paths");
  a.closeAll();
  b.closeAll();
  assert.deepEqual(fullState(b), fullState(a));
  assert.deepEqual(b.stats(), a.stats());
});

test("ingestParsed rejects bad numbers with the same reasons as ingest rejects bad strings", () => {
  const cases: [Parameters<KlineEngine["ingestParsed"]>, string][] = [
    [[2, T0, 100, 2, 1, 0, 1, 1, false], "unknown_symbol"],
    [[-1, T0, 100, 2, 1, 0, 1, 1, false], "unknown_symbol"],
    [[0.5, T0, 100, 2, 1, 0, 1, 1, false], "unknown_symbol"],
    [[0, Number.NaN, 100, 2, 1, 0, 1, 1, false], "absurd_timestamp"],
    [[0, T0, 100, 2, 1, 0, 5, 4, false], "out_of_range"],
    [[0, T0, 0, 2, 1, 0, 1, 1, false], "bad_price"],
    [[0, T0, -100, 2, 1, 0, 1, 1, false], "bad_price"],
    [[0, T0, 100.5, 2, 1, 0, 1, 1, false], "bad_price"],
    [[0, T0, Number.NaN, 2, 1, 0, 1, 1, false], "bad_price"],
    [[0, T0, 100, -1, 1, 0, 1, 1, false], "bad_price"],
    [[0, T0, 100, 13, 1, 0, 1, 1, false], "out_of_range"],
    [[0, T0, 2 ** 53 + 2, 2, 1, 0, 1, 1, false], "out_of_range"],
    [[0, T0, 100, 2, 0, 0, 1, 1, false], "non_positive_quantity"],
    [[0, T0, 100, 2, -3, 1, 1, 1, false], "non_positive_quantity"],
    [[0, T0, 100, 2, 1.5, 0, 1, 1, false], "bad_quantity"],
    [[0, T0, 100, 2, 1, 0.5, 1, 1, false], "bad_quantity"],
    [[0, T0, 100, 2, 1, 13, 1, 1, false], "out_of_range"],
  ];
  for (const [args, reason] of cases) {
    const e = engineWith();
    assert.equal(e.ingestParsed(...args), reason, JSON.stringify(args));
    assert.equal(e.stats().rejected[reason as keyof ReturnType<KlineEngine["stats"]>["rejected"]], 1);
    assert.equal(fullState(e).length, 0);
  }
  const e = engineWith();
  assert.equal(e.ingestParsed(0, T0, 10_000, 2, 5, 1, 1, 1, true), undefined); // buyer is maker: the taker sold
  const k = kline(fullState(e), "1s", 0);
  assert.deepEqual([k.open, k.volume, k.quoteVolume, k.takerBuyVolume], ["100.00", "0.5", "50.000", "0.0"]);
});

test("symbolIndexOf gives each symbol's index and -1 for a symbol the engine does not own", () => {
  const e = engineWith();
  assert.deepEqual(
    ["BTCUSDT", "ETHUSDT", "DOGEUSDT"].map((s) => e.symbolIndexOf(s)),
    [0, 1, -1],
  );
});

test("a 1s kline is closed as soon as a trade of a later second arrives, with one version", () => {
  const e = engineWith();
  ingestAll(e, [trade(1, 100), trade(2, 900, "101.00")]);
  const first = e.pull(e.epoch, 0);
  assert.equal(kline(first.klines, "1s", 0).closed, false, "still open while its second runs");
  ingestAll(e, [trade(3, 1500, "102.00"), trade(4, 1600), trade(5, 2100)]);
  const next = e.pull(e.epoch, first.version);
  const at0 = next.klines.filter((k) => k.interval === "1s" && k.openTime === T0);
  assert.equal(at0.length, 1, "the kline folded at the last pull is sent once more, closed");
  assert.equal(at0[0]!.closed, true);
  assert.deepEqual([at0[0]!.open, at0[0]!.close, at0[0]!.trades], ["100.00", "101.00", 2]);
  const at1 = next.klines.filter((k) => k.interval === "1s" && k.openTime === T0 + 1000);
  assert.equal(at1.length, 1);
  assert.equal(at1[0]!.closed, true, "second 1 closed by the trade at 2.1 s, never sent open");
  assert.deepEqual([at1[0]!.open, at1[0]!.close, at1[0]!.trades], ["102.00", "100.00", 2]);
  assert.equal(kline(next.klines, "1s", 2000).closed, false);
});

test("seconds without trades between two trades become empty klines at the previous close", () => {
  const e = engineWith();
  ingestAll(e, [trade(1, 100, "100.00"), trade(2, 3500, "105.00")]);
  const { klines } = e.pull(e.epoch, 0);
  for (const ms of [1000, 2000]) {
    const k = kline(klines, "1s", ms);
    assert.deepEqual([k.open, k.close, k.trades, k.volume, k.closed], ["100.00", "100.00", 0, "0.000", true]);
  }
  assert.equal(kline(klines, "1m", 0).close, "105.00");
});

test("with a retention bound, the oldest unacknowledged closed klines are forgotten and counted", () => {
  assert.throws(() => engineWith({ maxRetainedClosed: 0 }), /maxRetainedClosed 0 must be a positive integer/);
  const e = engineWith({ intervals: ["1s"], maxRetainedClosed: 10 });
  const bounded = engineWith({ intervals: ["1s"] });
  const trades = Array.from({ length: 30 }, (_, i) => trade(i + 1, i * 1000 + 10, `${100 + i}.00`));
  ingestAll(e, trades);
  ingestAll(bounded, trades);
  assert.deepEqual([e.stats().retainedClosed, e.stats().closedDropped], [10, 19]);
  assert.deepEqual([bounded.stats().retainedClosed, bounded.stats().closedDropped], [29, 0]);
  const byOpen = (a: { openTime: number }, b: { openTime: number }): number => a.openTime - b.openTime;
  const closed = e
    .pull(e.epoch, 0)
    .klines.filter((k) => k.closed)
    .sort(byOpen);
  assert.deepEqual(
    closed.map((k) => k.openTime - T0),
    Array.from({ length: 10 }, (_, i) => (19 + i) * 1000),
    "the newest ten are kept",
  );
  const strip = ({ version: _, ...k }: { version: number }): object => k;
  const all = bounded
    .pull(bounded.epoch, 0)
    .klines.filter((k) => k.closed)
    .sort(byOpen);
  assert.deepEqual(closed.map(strip), all.slice(-10).map(strip), "and they are intact");
});
