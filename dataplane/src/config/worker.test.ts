import { test } from "node:test";
import assert from "node:assert/strict";
import { INTERVALS } from "../core/types.js";
import { shardOf } from "../core/shard.js";
import { parseCommonConfig } from "./common.js";
import { ConfigError } from "./parse.js";
import { parseUtcOffset, parseWorkerConfig } from "./worker.js";

const BASE = { KLAGG_SYMBOLS: "btcusdt,ETHUSDT,BNBUSDT" };

function rejects(src: Record<string, string>, key: string, pattern: RegExp): void {
  assert.throws(
    () => parseWorkerConfig(src),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
      assert.equal(e.key, key);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

test("defaults: one shard owning every symbol, all 16 intervals, live spot trades", () => {
  const c = parseWorkerConfig(BASE);
  assert.deepEqual(c.symbols, ["BTCUSDT", "ETHUSDT", "BNBUSDT"]);
  assert.deepEqual(c.intervals, INTERVALS);
  assert.equal(c.workerName, "worker-0");
  assert.deepEqual(c.source, { kind: "binance", market: "spot", stream: "trade", baseUrl: undefined });
  assert.equal(c.grpcHost, "0.0.0.0");
  assert.equal(c.grpcPort, 50051);
  assert.equal(c.graceMs, 2000);
  assert.equal(c.drainMs, 5000);
  assert.equal(c.emptyKlines, true);
  assert.equal(c.utcOffsetMinutes, 0);
  assert.equal(c.maxRetainedClosed, 2_000_000);
  assert.equal(c.common.logLevel, "info");
  assert.equal(c.common.traceSampleRatio, 1);
  assert.equal(c.common.metricsPort, 9464);
  assert.equal(c.common.otlpEndpoint, undefined);
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.symbols));
});

test("a shard keeps exactly the symbols rendezvous hashing assigns it", () => {
  const all = Array.from({ length: 50 }, (_, i) => `S${i}USDT`);
  const parts = [0, 1, 2].map(
    (i) =>
      parseWorkerConfig({
        KLAGG_SYMBOLS: all.join(","),
        KLAGG_SHARD_COUNT: "3",
        KLAGG_SHARD_INDEX: String(i),
      }).symbols,
  );
  assert.deepEqual(parts.flat().sort(), [...all].sort());
  parts.forEach((p, i) => p.forEach((s) => assert.equal(shardOf(s, 3), i)));
});

test("every documented key is read, with flags-style values", () => {
  const c = parseWorkerConfig({
    ...BASE,
    KLAGG_WORKER_NAME: "klagg-btc-worker-1",
    KLAGG_INTERVALS: "1h, 1m,1M",
    KLAGG_MARKET: "usdm",
    KLAGG_SOURCE: "binance",
    KLAGG_BINANCE_WS_URL: "ws://127.0.0.1:9999",
    KLAGG_TRADE_STREAM: "aggTrade",
    KLAGG_GRPC_HOST: "127.0.0.1",
    KLAGG_GRPC_PORT: "0",
    KLAGG_GRACE: "500ms",
    KLAGG_DRAIN: "1s",
    KLAGG_EMPTY_KLINES: "false",
    KLAGG_TIMEZONE: "+08:00",
    KLAGG_LOG_LEVEL: "debug",
    OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318",
    KLAGG_TRACE_SAMPLE_RATIO: "0.25",
    KLAGG_METRICS_PORT: "0",
  });
  assert.equal(c.workerName, "klagg-btc-worker-1");
  assert.deepEqual(c.intervals, ["1m", "1h", "1M"]);
  assert.deepEqual(c.source, {
    kind: "binance",
    market: "usdm",
    stream: "aggTrade",
    baseUrl: "ws://127.0.0.1:9999",
  });
  assert.equal(c.grpcHost, "127.0.0.1");
  assert.equal(c.grpcPort, 0);
  assert.equal(c.graceMs, 500);
  assert.equal(c.drainMs, 1000);
  assert.equal(c.emptyKlines, false);
  assert.equal(c.utcOffsetMinutes, 480);
  assert.equal(c.common.logLevel, "debug");
  assert.equal(c.common.otlpEndpoint, "http://127.0.0.1:4318");
  assert.equal(c.common.traceSampleRatio, 0.25);
  assert.equal(c.common.metricsPort, 0);
});

test("replay sources take one or more files, also from repeated flags", () => {
  const a = parseWorkerConfig({ ...BASE, KLAGG_SOURCE: "replay:a.gz,b.gz", KLAGG_REPLAY_SPEED: "0" });
  assert.deepEqual(a.source, { kind: "replay", files: ["a.gz", "b.gz"], speed: 0 });
  const b = parseWorkerConfig({ ...BASE, KLAGG_SOURCE: "replay:a.gz,replay:b.gz" });
  assert.deepEqual(b.source, { kind: "replay", files: ["a.gz", "b.gz"], speed: 1 });
});

test("the synthetic source reads seed and rate", () => {
  const c = parseWorkerConfig({
    ...BASE,
    KLAGG_SOURCE: "synthetic",
    KLAGG_SYNTHETIC_SEED: "7",
    KLAGG_SYNTHETIC_RATE: "250",
  });
  assert.deepEqual(c.source, { kind: "synthetic", seed: 7, tradesPerSecond: 250 });
});

test("invalid values are rejected naming the key and the value", () => {
  rejects({}, "KLAGG_SYMBOLS", /is required/);
  rejects({ KLAGG_SYMBOLS: "BTCUSDT,btcusdt" }, "KLAGG_SYMBOLS", /"BTCUSDT" is repeated/);
  rejects({ KLAGG_SYMBOLS: "BTC/USDT" }, "KLAGG_SYMBOLS", /"BTC\/USDT" is not an exchange symbol/);
  rejects({ ...BASE, KLAGG_INTERVALS: "1m,7m" }, "KLAGG_INTERVALS", /"7m" is not one of/);
  rejects({ ...BASE, KLAGG_INTERVALS: "1m,1m" }, "KLAGG_INTERVALS", /"1m" is repeated/);
  rejects({ ...BASE, KLAGG_SHARD_COUNT: "2", KLAGG_SHARD_INDEX: "2" }, "KLAGG_SHARD_INDEX", /must be below/);
  rejects({ ...BASE, KLAGG_SHARD_COUNT: "0" }, "KLAGG_SHARD_COUNT", /between 1 and/);
  rejects({ ...BASE, KLAGG_SOURCE: "kafka" }, "KLAGG_SOURCE", /KLAGG_SOURCE="kafka".*must be "binance"/);
  rejects({ ...BASE, KLAGG_SOURCE: "replay:" }, "KLAGG_SOURCE", /at least one file/);
  rejects({ ...BASE, KLAGG_MARKET: "coinm" }, "KLAGG_MARKET", /coinm is replay-only/);
  rejects({ ...BASE, KLAGG_MARKET: "options" }, "KLAGG_MARKET", /must be one of spot, usdm, coinm/);
  rejects({ ...BASE, KLAGG_TRADE_STREAM: "depth" }, "KLAGG_TRADE_STREAM", /must be one of trade, aggTrade/);
  rejects({ ...BASE, KLAGG_BINANCE_WS_URL: "http://x" }, "KLAGG_BINANCE_WS_URL", /ws:\/\//);
  rejects({ ...BASE, KLAGG_GRPC_PORT: "70000" }, "KLAGG_GRPC_PORT", /between 0 and 65535/);
  rejects({ ...BASE, KLAGG_GRACE: "soon" }, "KLAGG_GRACE", /duration/);
  rejects({ ...BASE, KLAGG_EMPTY_KLINES: "maybe" }, "KLAGG_EMPTY_KLINES", /true or false/);
  rejects({ ...BASE, KLAGG_REPLAY_SPEED: "-1", KLAGG_SOURCE: "replay:a" }, "KLAGG_REPLAY_SPEED", /between 0/);
  rejects({ ...BASE, KLAGG_WORKER_NAME: "a b" }, "KLAGG_WORKER_NAME", /letters, digits/);
  rejects({ ...BASE, KLAGG_MAX_RETAINED_CLOSED: "10" }, "KLAGG_MAX_RETAINED_CLOSED", /between 1000 and/);
  rejects({ ...BASE, KLAGG_TRACE_SAMPLE_RATIO: "1.5" }, "KLAGG_TRACE_SAMPLE_RATIO", /between 0 and 1/);
  rejects({ ...BASE, KLAGG_LOG_LEVEL: "loud" }, "KLAGG_LOG_LEVEL", /must be one of debug/);
  rejects({ ...BASE, OTEL_EXPORTER_OTLP_ENDPOINT: "jaeger:4318" }, "OTEL_EXPORTER_OTLP_ENDPOINT", /http/);
});

test("a shard that owns no symbol is a configuration error", () => {
  // With 2 symbols over 40 shards most shards are empty; find one.
  const empty = Array.from({ length: 40 }, (_, i) => i).find(
    (i) => shardOf("BTCUSDT", 40) !== i && shardOf("ETHUSDT", 40) !== i,
  );
  assert.notEqual(empty, undefined);
  rejects(
    { KLAGG_SYMBOLS: "BTCUSDT,ETHUSDT", KLAGG_SHARD_COUNT: "40", KLAGG_SHARD_INDEX: String(empty) },
    "KLAGG_SHARD_INDEX",
    /owns none of the 2 symbols/,
  );
});

test("time zones follow Binance's accepted forms and range", () => {
  const off = (v: string): number => parseUtcOffset({ KLAGG_TIMEZONE: v });
  assert.equal(off("0"), 0);
  assert.equal(off("8"), 480);
  assert.equal(off("-1:00"), -60);
  assert.equal(off("05:45"), 345);
  assert.equal(off("+14:00"), 840);
  assert.throws(() => off("-12:30"), /between -12:00 and \+14:00/);
  assert.throws(() => off("+05:75"), /below 60/);
  assert.throws(() => off("UTC"), /KLAGG_TIMEZONE="UTC"/);
});

test("common keys parse on their own for the other binaries", () => {
  const c = parseCommonConfig({ KLAGG_METRICS_PORT: "9100", KLAGG_METRICS_HOST: "127.0.0.1" });
  assert.equal(c.metricsPort, 9100);
  assert.equal(c.metricsHost, "127.0.0.1");
});
