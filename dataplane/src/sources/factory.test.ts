import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger } from "../obs/log.js";
import { binanceData } from "../../test/support/shared-data.js";
import { CollectingSink } from "../../test/support/collecting-sink.js";
import { BinanceWsSource } from "./binance-ws.js";
import { createTradeSource } from "./factory.js";

const log = createLogger("test", { sink: () => {} });

describe("createTradeSource", () => {
  it("builds a WebSocket source subscribed to the shard's symbols", () => {
    const src = createTradeSource(
      { kind: "binance", market: "usdm", stream: "aggTrade" },
      { symbols: ["ETHUSDT"], log },
    );
    assert.ok(src instanceof BinanceWsSource);
    assert.deepEqual(src.urls(), ["wss://fstream.binance.com/stream?streams=ethusdt@aggTrade"]);
  });

  it("builds a replay that keeps only the shard's symbols", async () => {
    const file = binanceData("dumps/spot-BTCUSDT-aggTrades-2026-01-01-first5000.csv");
    const mine = new CollectingSink();
    await createTradeSource({ kind: "replay", files: [file], speed: 0 }, { symbols: ["BTCUSDT"], log }).run(
      mine,
      new AbortController().signal,
    );
    const other = new CollectingSink();
    await createTradeSource({ kind: "replay", files: [file], speed: 0 }, { symbols: ["ETHUSDT"], log }).run(
      other,
      new AbortController().signal,
    );
    assert.equal(mine.trades.length, 5000);
    assert.equal(other.trades.length, 0);
  });

  it("builds a synthetic market over the shard's symbols", async () => {
    const sink = new CollectingSink();
    await createTradeSource(
      { kind: "synthetic", tradesPerSecond: 1000, virtualStartMs: Date.UTC(2024, 0, 1), limit: 300 },
      { symbols: ["AAAUSDT", "BBBUSDT"], log },
    ).run(sink, new AbortController().signal);
    assert.equal(sink.trades.length, 300);
    assert.ok(sink.trades.every((t) => t.symbol === "AAAUSDT" || t.symbol === "BBBUSDT"));
  });
});
