import assert from "node:assert/strict";
import { test } from "node:test";
import { engineWith, fullState, ingestAll, kline, trade } from "./engine.test-helper.js";
import type { RawTrade } from "./types.js";

/** BigInt reference: sum of price * qty with 8 + 8 decimals, as a plain 16-decimal string. */
function referenceQuote(trades: RawTrade[]): string {
  let sum = 0n;
  for (const t of trades) sum += BigInt(t.price.replace(".", "")) * BigInt(t.qty.replace(".", ""));
  const s = sum.toString().padStart(17, "0");
  return `${s.slice(0, -16)}.${s.slice(-16)}`;
}

test("quote volumes are exact where float64 sums are wrong, even beyond 2^53 units", () => {
  const trades: RawTrade[] = [];
  for (let i = 0; i < 2000; i++) {
    const price = `${65000 + (i % 97)}.${String(12345678 + i * 7919).slice(-8)}`;
    const qty = `${1000 + (i % 13)}.${String(87654321 + i * 104729).slice(-8)}`;
    trades.push(trade(i + 1, i * 10, price, qty));
  }
  const e = engineWith({ intervals: ["1m"] });
  ingestAll(e, trades);
  const k = kline(fullState(e), "1m", 0);
  const expected = referenceQuote(trades);
  assert.equal(k.quoteVolume, expected);
  let float = 0;
  for (const t of trades) float += Number(t.price) * Number(t.qty);
  assert.notEqual(float.toFixed(8), expected.slice(0, -8), "float64 should be wrong here");
  assert.ok(BigInt(expected.replace(".", "")) > 2n ** 53n);
});

test("volumes sum exactly: 200,000 times 0.1 is 20000.0", () => {
  const e = engineWith({ intervals: ["1m", "1M"] });
  for (let i = 0; i < 200_000; i++) {
    assert.equal(e.ingest(trade(i + 1, Math.floor(i / 20), "0.3", "0.1")), undefined);
  }
  const klines = fullState(e);
  const m = kline(klines, "1m", 0);
  assert.equal(m.volume, "20000.0");
  assert.equal(m.quoteVolume, "6000.00");
  assert.equal(klines.find((k) => k.interval === "1M")!.volume, "20000.0");
});

test("a trade with more decimals than earlier ones raises the symbol's decimals without changing values", () => {
  const e = engineWith({ intervals: ["1m"] });
  ingestAll(e, [trade(1, 0, "100.5", "2"), trade(2, 1_000, "100.25", "0.5")]);
  const k = kline(fullState(e), "1m", 0);
  assert.equal(k.open, "100.50");
  assert.equal(k.close, "100.25");
  assert.equal(k.volume, "2.5");
  assert.equal(k.quoteVolume, "251.125"); // 201.0 + 50.125
  assert.equal(k.takerBuyQuoteVolume, "251.125");
});

test("prices keep the decimals the exchange sends, trailing zeros included", () => {
  const e = engineWith({ intervals: ["1m"] });
  ingestAll(e, [trade(1, 0, "61837.63000000", "0.02000000")]);
  const k = kline(fullState(e), "1m", 0);
  assert.equal(k.open, "61837.63000000");
  assert.equal(k.volume, "0.02000000");
  assert.equal(k.quoteVolume, "1236.7526000000000000");
});
