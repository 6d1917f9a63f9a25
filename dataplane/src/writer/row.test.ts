import { test } from "node:test";
import assert from "node:assert/strict";
import { formatDateTime, intervalId, rowKey, safeInt, toRow, KLINE_COLUMNS } from "./row.js";
import { INTERVALS } from "../core/types.js";
import { kline } from "./test-fixtures.js";

test("a valid kline becomes one TSV line with every column in table order", () => {
  const r = toRow(kline({ version: 7 }));
  assert.ok(r.ok);
  const cols = r.row.tsv.split("\t");
  assert.equal(cols.length, KLINE_COLUMNS.length);
  assert.deepEqual(cols, [
    "BTCUSDT",
    "1m",
    "2024-08-08 23:55:00",
    "1723161359999",
    "61837.63000000",
    "61900.00000000",
    "61800.10000000",
    "61850.00000000",
    "1.50000000",
    "92755.1234567890123456",
    "10",
    "0.50000000",
    "30918.8150000000000000",
    "3735683259",
    "3735683268",
    "1",
    "7",
    "1",
  ]);
  assert.equal(r.row.version, 7);
  assert.equal(r.row.key, rowKey("BTCUSDT", "1m", 1_723_161_300_000));
  assert.equal(r.row.closedAt, 1_723_161_359_999);
});

test("an open kline has no close time for the latency metric and writes closed = 0", () => {
  const r = toRow(kline({ closed: false }));
  assert.ok(r.ok);
  assert.equal(r.row.closedAt, undefined);
  assert.equal(r.row.tsv.split("\t")[15], "0");
});

test("a kline without trades keeps the -1 trade ids", () => {
  const r = toRow(kline({ firstTradeId: -1, lastTradeId: -1, trades: 0 }));
  assert.ok(r.ok);
  assert.deepEqual(r.row.tsv.split("\t").slice(13, 15), ["-1", "-1"]);
});

test("decimals at the limits of Decimal(38, 16) pass and beyond them are rejected", () => {
  assert.ok(toRow(kline({ quoteVolume: "1234567890123456789012.1234567890123456" })).ok);
  const cases: [string, string][] = [
    ["12345678901234567890123.1", "23 integer digits"],
    ["1.12345678901234567", "17 fraction digits"],
    ["-1.5", "negative"],
    ["1e5", "exponent"],
    ["", "empty"],
    ["1.", "trailing dot"],
    ["1\t2", "tab"],
  ];
  for (const [v, why] of cases) {
    const r = toRow(kline({ volume: v }));
    assert.equal(r.ok, false, why);
    if (!r.ok) assert.equal(r.reason, "bad_decimal");
  }
});

test("invalid identity fields are rejected with their own reason", () => {
  const expectReason = (spec: Parameters<typeof kline>[0], reason: string) => {
    const r = toRow(kline(spec));
    assert.equal(r.ok, false, JSON.stringify(spec));
    if (!r.ok) assert.equal(r.reason, reason);
  };
  expectReason({ symbol: "btc\tusdt" }, "bad_symbol");
  expectReason({ symbol: "" }, "bad_symbol");
  expectReason({ interval: "2m" }, "bad_interval");
  expectReason({ openTime: 1_723_161_300_500 }, "bad_open_time");
  expectReason({ openTime: 4_294_967_296_000 }, "bad_open_time");
  expectReason({ closeTime: 1_723_161_300_000 }, "bad_close_time");
  expectReason({ trades: -1 }, "bad_integer");
  expectReason({ firstTradeId: -2 }, "bad_integer");
  expectReason({ lastTradeId: -5 }, "bad_integer");
});

test("safeInt accepts numbers and bigints in the safe range and returns NaN beyond it", () => {
  assert.equal(safeInt(5n), 5);
  assert.equal(safeInt(-1), -1);
  assert.ok(Number.isNaN(safeInt(2n ** 60n)));
  assert.ok(Number.isNaN(safeInt(1.5)));
});

test("formatDateTime renders a UTC instant as ClickHouse DateTime text", () => {
  assert.equal(formatDateTime(0), "1970-01-01 00:00:00");
  assert.equal(formatDateTime(1_723_161_600_000), "2024-08-09 00:00:00");
});

test("interval ids are distinct and ordered shortest first", () => {
  assert.deepEqual(
    INTERVALS.map((i) => intervalId(i)),
    INTERVALS.map((_, n) => n),
  );
  assert.equal(intervalId("1s"), 0);
  assert.equal(intervalId("1M"), 15);
});
