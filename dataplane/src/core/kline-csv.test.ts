import assert from "node:assert/strict";
import { test } from "node:test";
import { formatKlineCsvRow, KLINE_CSV_HEADER } from "./kline-csv.js";
import type { KlineRecord } from "./types.js";

const base: KlineRecord = {
  symbol: "BTCUSDT",
  interval: "1m",
  openTime: 1723159800000,
  closeTime: 1723159859999,
  open: "61940.00",
  high: "61963.10",
  low: "61715.00",
  close: "61780.60",
  volume: "890.639",
  quoteVolume: "55058847.96410",
  trades: 9652,
  takerBuyVolume: "280.861",
  takerBuyQuoteVolume: "17363841.06700",
  firstTradeId: 1,
  lastTradeId: 9652,
  closed: true,
  version: 1,
};

test("USD-M rows keep the input precision in Binance's 12 columns", () => {
  assert.equal(
    formatKlineCsvRow(base, "usdm"),
    "1723159800000,61940.00,61963.10,61715.00,61780.60,890.639,1723159859999,55058847.96410,9652,280.861,17363841.06700,0",
  );
  assert.equal(KLINE_CSV_HEADER.split(",").length, formatKlineCsvRow(base, "coinm").split(",").length);
});

test("spot rows print every price and volume with 8 decimals", () => {
  const k = { ...base, open: "61837.63000000", volume: "0.02000000", quoteVolume: "1236.7526000000000000" };
  const cols = formatKlineCsvRow(k, "spot").split(",");
  assert.equal(cols[1], "61837.63000000");
  assert.equal(cols[2], "61963.10000000");
  assert.equal(cols[5], "0.02000000");
  assert.equal(cols[7], "1236.75260000");
});

test("spot quote volumes with more than 8 decimals are truncated by default and other modes are available", () => {
  const k = { ...base, quoteVolume: "12.1234567850000000", takerBuyQuoteVolume: "0.0000000099999999" };
  assert.equal(formatKlineCsvRow(k, "spot").split(",")[7], "12.12345678");
  assert.equal(formatKlineCsvRow(k, "spot").split(",")[10], "0.00000000");
  assert.equal(formatKlineCsvRow(k, "spot", "half_up").split(",")[7], "12.12345679");
  assert.equal(formatKlineCsvRow(k, "spot", "half_even").split(",")[7], "12.12345678");
  assert.equal(formatKlineCsvRow(k, "spot", "half_up").split(",")[10], "0.00000001");
});
