import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { aggregateFiles, guessMarket, marketFromContent, marketFromName } from "./aggregate.js";

test("the market is read from Binance-style file names", () => {
  assert.equal(marketFromName("/d/usdm-btcusdt-20240808.gz"), "usdm");
  assert.equal(marketFromName("BTCUSDT-aggTrades-2024-08-08.zip"), undefined);
  assert.equal(marketFromName("um-BTCUSDT-trades-2024-08-08.csv"), "usdm");
  assert.equal(marketFromName("cm-BTCUSD_PERP-aggTrades-2026-05-08.csv"), "coinm");
  assert.equal(marketFromName("spot-btcusdt-20240809.gz"), "spot");
  assert.equal(marketFromName("customer-data.csv"), undefined, "only whole tokens count");
});

test("without a telling name, the content decides", () => {
  const fut = '1 {"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","X":"MARKET","p":"1.0"}}';
  const spot = '1 {"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","p":"1.0","M":true}}';
  const coin = '{"e":"aggTrade","s":"BTCUSD_PERP","p":"1.0"}';
  assert.equal(marketFromContent("a.gz", fut), "usdm");
  assert.equal(marketFromContent("a.gz", spot), "spot");
  assert.equal(marketFromContent("a.jsonl", coin), "coinm");
  assert.equal(
    marketFromContent("BTCUSDT-aggTrades-2024-01-01.csv", "agg_trade_id,price,quantity\n1,2,3"),
    "usdm",
  );
  assert.equal(
    marketFromContent("BTCUSDT-aggTrades-2024-01-01.csv", "1,2.0,3.0,4,4,1700000000000,True,True"),
    "spot",
  );
  assert.equal(marketFromContent("ETHUSD_240927-aggTrades-2024-01-01.csv", "agg_trade_id,price\n"), "coinm");
});

test("aggregating a small JSON-lines file writes one CSV per symbol and interval, bad lines counted", async () => {
  const dir = mkdtempSync(join(tmpdir(), "klagg-agg-unit-"));
  try {
    const t0 = Date.UTC(2024, 7, 8, 23, 55);
    const msg = (s: string, id: number, t: number, p: string, q: string): string =>
      JSON.stringify({
        stream: `${s.toLowerCase()}@trade`,
        data: { e: "trade", s, t: id, p, q, T: t, m: false },
      });
    const input = join(dir, "spot-trades.jsonl");
    writeFileSync(
      input,
      [
        msg("BTCUSDT", 1, t0 + 1000, "61837.63000000", "0.02000000"),
        "{not json",
        msg("ETHUSDT", 7, t0 + 2000, "2600.10000000", "1.00000000"),
        msg("BTCUSDT", 2, t0 + 61_000, "61840.00000000", "0.01000000"),
      ].join("\n") + "\n",
    );
    assert.equal(await guessMarket([input]), "spot");
    const out = join(dir, "out");
    const s = await aggregateFiles({
      inputs: [input],
      outDir: out,
      intervals: ["1m", "5m"],
      market: "spot",
      graceMs: 2000,
      emptyKlines: true,
      utcOffsetMinutes: 0,
    });
    assert.equal(s.trades, 3);
    assert.equal(s.rejected.malformed_json, 1);
    assert.deepEqual(readdirSync(out).sort(), [
      "BTCUSDT-1m.csv",
      "BTCUSDT-5m.csv",
      "ETHUSDT-1m.csv",
      "ETHUSDT-5m.csv",
    ]);
    assert.equal(s.klines, 2 + 1 + 1 + 1);
    const btc1m = readFileSync(join(out, "BTCUSDT-1m.csv"), "utf8").trimEnd().split("\n");
    assert.deepEqual(btc1m, [
      `${t0},61837.63000000,61837.63000000,61837.63000000,61837.63000000,0.02000000,${t0 + 59_999},1236.75260000,1,0.02000000,1236.75260000,0`,
      `${t0 + 60_000},61840.00000000,61840.00000000,61840.00000000,61840.00000000,0.01000000,${t0 + 119_999},618.40000000,1,0.01000000,618.40000000,0`,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("files of different markets are refused without --market", async () => {
  const dir = mkdtempSync(join(tmpdir(), "klagg-agg-unit-"));
  try {
    const a = join(dir, "usdm-a.jsonl");
    const b = join(dir, "spot-b.jsonl");
    writeFileSync(a, "\n");
    writeFileSync(b, "\n");
    await assert.rejects(guessMarket([a, b]), /different markets \(usdm, spot\); pass --market/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
