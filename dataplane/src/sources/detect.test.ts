import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { detectFormat, detectLine, isGzip, symbolFromFileName } from "./detect.js";

describe("detect", () => {
  it("recognises capture lines and JSON lines", () => {
    assert.deepEqual(detectLine('1723161254087896568 {"stream":"btcusdt@trade","data":{}}'), {
      format: "capture",
      header: false,
    });
    assert.deepEqual(detectLine('{"e":"trade"}'), { format: "jsonl", header: false });
  });

  it("recognises headed dump CSVs by their column names", () => {
    assert.deepEqual(
      detectLine("agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker"),
      { format: "aggtrades-csv", header: true },
    );
    assert.deepEqual(detectLine("id,price,qty,quote_qty,time,is_buyer_maker"), {
      format: "trades-csv",
      header: true,
    });
  });

  it("recognises headerless dump CSVs by their column types", () => {
    const agg8 = "3800397495,87648.21000000,0.08185000,5723703861,5723703861,1767225600039409,True,True";
    const agg7 = "480537903,79972.8,542.0,1123474160,1123474164,1778198400020,false";
    const trades7 = "3735683259,61837.63000000,0.02000000,1236.75260000,1723161255342,True,True";
    const trades6 = "5266583935,61800.30,0.006,370.8018,1723161256322,false";
    assert.equal(detectLine(agg8)?.format, "aggtrades-csv");
    assert.equal(detectLine(agg7)?.format, "aggtrades-csv");
    assert.equal(detectLine(trades7)?.format, "trades-csv");
    assert.equal(detectLine(trades6)?.format, "trades-csv");
  });

  it("does not mistake a klines CSV or garbage for trades", () => {
    const kline =
      "1577836800000,7195.24000000,7196.25000000,7183.14000000,7186.68000000,51.64281200,1577836859999,371233.51835535,493,19.59823000,140888.41428273,0";
    assert.equal(detectLine(kline), undefined);
    assert.equal(detectFormat([kline, kline]), undefined);
    assert.equal(detectFormat(["hello", "", "world"]), undefined);
  });

  it("lets the first informative line decide, skipping blank and garbage lines", () => {
    assert.equal(detectFormat(["", "garbage", '1 {"a":1}']), "capture");
  });

  it("takes the symbol from dump file names with or without a market prefix", () => {
    assert.equal(symbolFromFileName("/x/BTCUSDT-aggTrades-2024-08-08.csv"), "BTCUSDT");
    assert.equal(symbolFromFileName("spot-BTCUSDT-aggTrades-2026-01-01-first5000.csv"), "BTCUSDT");
    assert.equal(symbolFromFileName("cm-BTCUSD_PERP-aggTrades-2026-05-08.csv"), "BTCUSD_PERP");
    assert.equal(symbolFromFileName("ETHUSDT-trades-2024-08.zip.csv.gz"), "ETHUSDT");
    assert.equal(symbolFromFileName("usdm-btcusdt-20240808.gz"), undefined);
  });

  it("detects gzip by its magic bytes", () => {
    assert.equal(isGzip(Buffer.from([0x1f, 0x8b, 8])), true);
    assert.equal(isGzip(Buffer.from("17")), false);
    assert.equal(isGzip(Buffer.alloc(1, 0x1f)), false);
  });
});
