import { test } from "node:test";
import assert from "node:assert/strict";
import { FakePublisher, kline } from "../../test/support/snapshot-fixtures.js";
import {
  compareDecimals,
  formatCsv,
  formatJson,
  formatTable,
  selectKlines,
  SNAPSHOT_CSV_HEADER,
  toRecords,
  topByQuoteVolume,
} from "./snapshot-format.js";
import { create } from "@bufbuild/protobuf";
import { KlineSchema } from "../gen/klagg/v1/kline_pb.js";

const T0 = Date.UTC(2024, 7, 8, 23, 55);

test("compareDecimals orders plain decimals exactly, whatever their number of digits", () => {
  assert.ok(compareDecimals("10.5", "9.75") > 0);
  assert.ok(compareDecimals("0.00000001", "0.000000009") > 0);
  assert.equal(compareDecimals("1.50", "1.5"), 0);
  assert.equal(compareDecimals("007", "7.000"), 0);
  assert.ok(compareDecimals("123456789012345678901.1", "123456789012345678901.09") > 0);
  assert.equal(compareDecimals("garbage", "0"), 0);
});

test("CSV has symbol and interval first, Binance's 12 columns in order, then closed", () => {
  const k = kline("BTCUSDT", "1m", T0, "61837.63", { closed: true });
  const text = formatCsv(toRecords([k]), "spot");
  const [header, row] = text.trimEnd().split("\n");
  assert.equal(header, SNAPSHOT_CSV_HEADER);
  assert.equal(
    header,
    "symbol,interval,open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore,closed",
  );
  assert.equal(
    row,
    `BTCUSDT,1m,${T0},61837.63000000,61837.63000000,61837.63000000,61837.63000000,1.00000000,${T0 + 59_999},100.00000000,1,0.50000000,50.00000000,0,true`,
  );
});

test("filters select by symbol (any case) and interval", () => {
  const snap = new FakePublisher().tick([
    kline("BTCUSDT", "1m", T0, "1"),
    kline("BTCUSDT", "5m", T0, "2"),
    kline("ETHUSDT", "1m", T0, "3"),
  ]).snapshot;
  assert.deepEqual(
    selectKlines(snap, { symbol: "btcusdt" }).map((k) => k.interval),
    ["1m", "5m"],
  );
  assert.deepEqual(
    selectKlines(snap, { interval: "1m" }).map((k) => k.symbol),
    ["BTCUSDT", "ETHUSDT"],
  );
});

test("a kline with an unknown interval is reported and skipped, not printed", () => {
  const bad = create(KlineSchema, { symbol: "BTCUSDT", interval: "7m" });
  const seen: string[] = [];
  const recs = toRecords([bad, kline("BTCUSDT", "1m", T0, "1")], (k) => seen.push(k.interval));
  assert.equal(recs.length, 1);
  assert.deepEqual(seen, ["7m"]);
});

test("the table shows one aligned row per kline and JSON carries numbers", () => {
  const snap = new FakePublisher("demo").tick([
    kline("BTCUSDT", "1m", T0, "61837.63", { closed: true }),
  ]).snapshot;
  const table = formatTable(toRecords(snap.klines)).trimEnd().split("\n");
  assert.equal(table.length, 2);
  assert.match(table[1]!, /^BTCUSDT\s+1m\s+2024-08-08 23:55:00\s+61837\.63.*closed$/);
  const json = JSON.parse(formatJson(snap, toRecords(snap.klines)));
  assert.equal(json.aggregator, "demo");
  assert.equal(json.seq, 1);
  assert.equal(json.klines[0].openTime, T0);
});

test("top by quote volume takes each symbol's newest kline of the interval", () => {
  const snap = new FakePublisher().tick([
    kline("AAAUSDT", "1m", T0, "1", { volume: "1" }),
    kline("BBBUSDT", "1m", T0, "1"),
    kline("CCCUSDT", "5m", T0, "1"),
  ]).snapshot;
  snap.klines[0]!.quoteVolume = "99.5";
  snap.klines[1]!.quoteVolume = "100.25";
  assert.deepEqual(
    topByQuoteVolume(snap, "1m", 5).map((k) => k.symbol),
    ["BBBUSDT", "AAAUSDT"],
  );
  assert.equal(topByQuoteVolume(snap, "1m", 1).length, 1);
});
