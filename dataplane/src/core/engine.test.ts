import assert from "node:assert/strict";
import { test } from "node:test";
import { engineWith, fullState, ingestAll, kline, T0, trade } from "./engine.test-helper.js";

test("trades build a kline in every configured interval with exact decimal strings", () => {
  const e = engineWith();
  ingestAll(e, [
    trade(10, 100, "61800.30", "0.006", { buyerMaker: false }),
    trade(11, 200, "61800.40", "0.199", { buyerMaker: true }),
    trade(12, 300, "61800.10", "0.100", { buyerMaker: false }),
  ]);
  const klines = fullState(e);
  for (const iv of ["1s", "1m", "5m"] as const) {
    const k = kline(klines, iv, 0);
    assert.equal(k.open, "61800.30");
    assert.equal(k.high, "61800.40");
    assert.equal(k.low, "61800.10");
    assert.equal(k.close, "61800.10");
    assert.equal(k.volume, "0.305");
    assert.equal(k.quoteVolume, "18849.09140"); // 370.80180 + 12298.27960 + 6180.01000
    assert.equal(k.takerBuyVolume, "0.106");
    assert.equal(k.takerBuyQuoteVolume, "6550.81180"); // trades 10 and 12
    assert.equal(k.trades, 3);
    assert.equal(k.firstTradeId, 10);
    assert.equal(k.lastTradeId, 12);
    assert.equal(k.closed, false);
  }
  assert.equal(kline(klines, "1m", 0).closeTime, T0 + 59_999);
});

test("open and close follow trade ids when trades of one bucket arrive out of order", () => {
  const e = engineWith();
  ingestAll(e, [
    trade(21, 300, "3.00"),
    trade(20, 100, "1.00"),
    trade(23, 500, "5.00"),
    trade(22, 400, "4.00"),
  ]);
  const k = kline(fullState(e), "1m", 0);
  assert.equal(k.open, "1.00");
  assert.equal(k.close, "5.00");
  assert.equal(k.firstTradeId, 20);
  assert.equal(k.lastTradeId, 23);
  assert.equal(e.stats().lateAccepted, 0);
});

test("intervals without trades are emitted like Binance: previous close, zero volume, ids -1, closed", () => {
  const e = engineWith({ intervals: ["1m"] });
  ingestAll(e, [trade(1, 5_000, "100.50"), trade(2, 190_000, "101.00")]);
  const klines = fullState(e);
  for (const ms of [60_000, 120_000]) {
    const k = kline(klines, "1m", ms);
    assert.deepEqual(
      [
        k.open,
        k.high,
        k.low,
        k.close,
        k.volume,
        k.quoteVolume,
        k.trades,
        k.firstTradeId,
        k.lastTradeId,
        k.closed,
      ],
      ["100.50", "100.50", "100.50", "100.50", "0.000", "0.00000", 0, -1, -1, true],
    );
  }
  assert.equal(kline(klines, "1m", 0).closed, true);
  assert.equal(kline(klines, "1m", 180_000).closed, false);
});

test("intervals without trades are skipped when emptyKlines is off", () => {
  const e = engineWith({ intervals: ["1m"], emptyKlines: false });
  ingestAll(e, [trade(1, 5_000), trade(2, 190_000)]);
  const opens = fullState(e).map((k) => k.openTime - T0);
  assert.deepEqual(
    opens.sort((a, b) => a - b),
    [0, 180_000],
  );
});

test("a kline closes as soon as a later trade of its symbol passes its close time", () => {
  const e = engineWith();
  ingestAll(e, [trade(1, 100)]);
  assert.equal(kline(fullState(e), "1s", 0).closed, false);
  ingestAll(e, [trade(2, 1_000)]);
  const klines = fullState(e);
  assert.equal(kline(klines, "1s", 0).closed, true);
  assert.equal(kline(klines, "1s", 1_000).closed, false);
  assert.equal(kline(klines, "1m", 0).closed, false);
});

test("advanceTime closes a quiet symbol's klines only after close time plus grace, then opens empty ones", () => {
  const e = engineWith({ graceMs: 2000, intervals: ["1m"] });
  ingestAll(e, [trade(1, 10_000, "7.00")]);
  e.advanceTime(T0 + 61_000); // past close (59,999) but within grace
  assert.equal(kline(fullState(e), "1m", 0).closed, false);
  e.advanceTime(T0 + 62_001);
  const klines = fullState(e);
  assert.equal(kline(klines, "1m", 0).closed, true);
  const empty = kline(klines, "1m", 60_000);
  assert.equal(empty.closed, false);
  assert.equal(empty.trades, 0);
  assert.equal(empty.close, "7.00");
  assert.equal(e.stats().openKlines, 1);
});

test("advanceTime does not invent klines for symbols that never traded or when empty klines are off", () => {
  const e = engineWith({ emptyKlines: false, intervals: ["1m"] });
  ingestAll(e, [trade(1, 10_000)]);
  e.advanceTime(T0 + 10 * 60_000);
  const klines = fullState(e);
  assert.equal(klines.length, 1);
  assert.equal(klines[0]!.closed, true);
  assert.equal(e.stats().openKlines, 0);
});

test("a late trade within grace updates the closed kline, which comes again with a higher version", () => {
  const e = engineWith({ graceMs: 2000 });
  ingestAll(e, [trade(1, 100, "10.00"), trade(3, 1_500, "12.00")]);
  const first = e.pull(e.epoch, 0);
  const before = kline(first.klines, "1s", 0);
  assert.equal(before.closed, true);
  ingestAll(e, [trade(2, 900, "9.00")]); // 1s kline 0 closed at 999, trade 2 is 1.5 s late: within grace
  const again = e.pull(e.epoch, first.version);
  const after = kline(again.klines, "1s", 0);
  assert.ok(after.version > before.version);
  assert.equal(after.closed, true);
  assert.equal(after.low, "9.00");
  assert.equal(after.close, "9.00"); // highest id in that second
  assert.equal(after.trades, 2);
  assert.equal(kline(again.klines, "1m", 0).trades, 3);
  assert.equal(e.stats().lateAccepted, 1);
});

test("a late trade beyond grace is counted as late_beyond_grace and changes nothing", () => {
  const e = engineWith({ graceMs: 2000 });
  ingestAll(e, [trade(1, 100), trade(3, 5_000)]);
  const v = e.pull(e.epoch, 0).version;
  assert.equal(e.ingest(trade(2, 900)), "late_beyond_grace");
  assert.equal(e.pull(e.epoch, v).klines.length, 0);
  assert.equal(e.stats().rejected.late_beyond_grace, 1);
  assert.equal(kline(fullState(e), "1m", 0).trades, 2);
});

test("a late trade is judged against the wall clock given to advanceTime too", () => {
  const e = engineWith({ graceMs: 2000, intervals: ["1m"] });
  ingestAll(e, [trade(1, 100)]);
  e.advanceTime(T0 + 62_500);
  assert.equal(e.ingest(trade(2, 59_000)), "late_beyond_grace");
  assert.equal(e.ingest(trade(3, 61_000)), undefined);
});

test("duplicate trade ids are ignored and counted, so replaying a stream is idempotent", () => {
  const e = engineWith();
  const trades = [trade(1, 100, "1.00"), trade(2, 200, "2.00"), trade(3, 1_200, "3.00")];
  ingestAll(e, trades);
  const v = e.pull(e.epoch, 0);
  for (const t of trades) assert.equal(e.ingest(t), "duplicate");
  assert.equal(e.pull(e.epoch, v.version).klines.length, 0);
  assert.equal(e.stats().rejected.duplicate, 3);
  assert.equal(kline(fullState(e), "1m", 0).trades, 3);
});

test("gaps in trade ids are reported and a late trade inside a gap fills it", () => {
  const e = engineWith();
  ingestAll(e, [trade(1, 100), trade(5, 200), trade(6, 300), trade(10, 400)]);
  assert.equal(e.stats().gaps, 2);
  assert.equal(e.stats().missingTradeIds, 6); // 2-4 and 7-9
  ingestAll(e, [trade(3, 250)]);
  assert.equal(e.stats().gaps, 3); // 2 and 4 remain of the first gap
  assert.equal(e.stats().missingTradeIds, 5);
  ingestAll(e, [trade(2, 250), trade(4, 250)]);
  assert.equal(e.stats().gaps, 1);
  assert.equal(e.stats().missingTradeIds, 3);
  assert.equal(e.ingest(trade(3, 250)), "duplicate");
  assert.equal(kline(fullState(e), "1s", 0).trades, 7);
});

test("a trade with ids below every id seen is out of order, not a duplicate", () => {
  const e = engineWith();
  ingestAll(e, [trade(100, 500), trade(98, 400)]);
  assert.equal(e.stats().gaps, 1); // 99
  assert.equal(e.ingest(trade(98, 400)), "duplicate");
  const k = kline(fullState(e), "1s", 0);
  assert.equal(k.firstTradeId, 98);
  assert.equal(k.trades, 2);
});

test("an aggregated trade counts every trade id it covers", () => {
  const e = engineWith();
  ingestAll(e, [
    { ...trade(0, 100, "2.00", "1.500"), firstId: 100, lastId: 104 },
    { ...trade(0, 200, "3.00", "0.500"), firstId: 105, lastId: 105 },
  ]);
  const k = kline(fullState(e), "1m", 0);
  assert.equal(k.trades, 6);
  assert.equal(k.firstTradeId, 100);
  assert.equal(k.lastTradeId, 105);
  assert.equal(e.ingest({ ...trade(0, 300), firstId: 103, lastId: 106 }), "duplicate");
});

test("trades of each symbol are aggregated separately", () => {
  const e = engineWith({ intervals: ["1m"] });
  ingestAll(e, [trade(1, 100, "1.00"), trade(1, 200, "2000.0", "0.5", { symbol: "ETHUSDT" })]);
  const klines = fullState(e);
  assert.equal(kline(klines, "1m", 0, "BTCUSDT").close, "1.00");
  assert.equal(kline(klines, "1m", 0, "ETHUSDT").quoteVolume, "1000.00");
});

test("closeAll closes every open kline", () => {
  const e = engineWith();
  ingestAll(e, [trade(1, 100), trade(2, 70_000)]);
  e.closeAll();
  const klines = fullState(e);
  assert.ok(klines.every((k) => k.closed));
  assert.equal(e.stats().openKlines, 0);
  assert.equal(kline(klines, "5m", 0).trades, 2);
});

test("a UTC offset moves day klines: +08:00 days open at 16:00 UTC", () => {
  const e = engineWith({ intervals: ["1h", "1d", "1M"], utcOffsetMinutes: 480 });
  ingestAll(e, [trade(1, 6 * 3_600_000 + 1)]); // 16:00:00.001 UTC
  const klines = fullState(e);
  assert.equal(kline(klines, "1d", 6 * 3_600_000).closeTime, Date.parse("2024-08-09T15:59:59.999Z"));
  assert.equal(kline(klines, "1h", 6 * 3_600_000).closeTime, Date.parse("2024-08-08T16:59:59.999Z"));
  const month = klines.find((k) => k.interval === "1M")!;
  assert.equal(month.openTime, Date.parse("2024-07-31T16:00:00Z"));
  assert.equal(month.closeTime, Date.parse("2024-08-31T15:59:59.999Z"));
});

test("invalid engine options are configuration errors", () => {
  assert.throws(() => engineWith({ intervals: [] }), /at least one interval/);
  assert.throws(() => engineWith({ intervals: ["2d" as "1d"] }), /not a Binance interval/);
  assert.throws(() => engineWith({ symbols: ["A", "A"] }), /listed twice/);
  assert.throws(() => engineWith({ graceMs: -1 }), /graceMs/);
  assert.throws(() => engineWith({ utcOffsetMinutes: 900 }), /utcOffsetMinutes/);
  assert.throws(() => engineWith({ epoch: 1e16 }), /epoch/);
});

test("the open kline count follows klines opening and closing", () => {
  const e = engineWith({ intervals: ["1s", "1m"], emptyKlines: false });
  assert.equal(e.stats().openKlines, 0);
  ingestAll(e, [trade(1, 100)]);
  e.pull(0, 0);
  assert.equal(e.stats().openKlines, 2);
  e.advanceTime(T0 + 5_000);
  assert.equal(e.stats().openKlines, 1); // the 1s kline closed, the minute is still open
  ingestAll(e, [trade(2, 4_000)]);
  e.pull(0, 0);
  assert.equal(e.stats().openKlines, 2);
  e.closeAll();
  assert.equal(e.stats().openKlines, 0);
});
