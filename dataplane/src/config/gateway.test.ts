import { test } from "node:test";
import assert from "node:assert/strict";
import { INTERVALS } from "../core/types.js";
import { parseGatewayConfig } from "./gateway.js";

const base = {
  KLAGG_WORKERS: "127.0.0.1:7001,w2=worker-1.workers.ns.svc:7001",
  KLAGG_SYMBOLS: "btcusdt,ETHUSDT",
};

test("defaults follow the issue: 100ms tick, half-tick deadline, threshold 5, all intervals, name local", () => {
  const c = parseGatewayConfig(base);
  assert.equal(c.name, "local");
  assert.equal(c.tickMs, 100);
  assert.equal(c.pullDeadlineMs, 50);
  assert.equal(c.timeoutAlertThreshold, 5);
  assert.deepEqual(c.intervals, [...INTERVALS]);
  assert.deepEqual(c.symbols, ["BTCUSDT", "ETHUSDT"]);
  assert.deepEqual(c.workers, [
    { name: "127.0.0.1:7001", address: "127.0.0.1:7001" },
    { name: "w2", address: "worker-1.workers.ns.svc:7001" },
  ]);
  assert.equal(c.redisUrl, undefined);
  assert.deepEqual(c.kafkaBrokers, []);
  assert.equal(c.kafkaTopic, "klagg.klines");
  assert.equal(c.common.logLevel, "info");
});

test("the pull deadline must be shorter than the tick and the error names both keys", () => {
  assert.throws(
    () => parseGatewayConfig({ ...base, KLAGG_TICK: "200ms", KLAGG_PULL_DEADLINE: "250ms" }),
    /KLAGG_PULL_DEADLINE="250ms": must be shorter than KLAGG_TICK \(200ms\)/,
  );
  assert.equal(parseGatewayConfig({ ...base, KLAGG_TICK: "1s" }).pullDeadlineMs, 500);
});

test("bad workers, symbols, intervals and URLs are rejected naming key and value", () => {
  assert.throws(() => parseGatewayConfig({ KLAGG_SYMBOLS: "A" }), /KLAGG_WORKERS="": is required/);
  assert.throws(() => parseGatewayConfig({ ...base, KLAGG_WORKERS: "nohost" }), /KLAGG_WORKERS="nohost"/);
  assert.throws(
    () => parseGatewayConfig({ ...base, KLAGG_WORKERS: "a=h:1,a=h:2" }),
    /"a" is empty or repeated/,
  );
  assert.throws(() => parseGatewayConfig({ ...base, KLAGG_SYMBOLS: "A,a" }), /"A" is repeated/);
  assert.throws(
    () => parseGatewayConfig({ ...base, KLAGG_INTERVALS: "1m,2m" }),
    /KLAGG_INTERVALS="1m,2m": "2m"/,
  );
  assert.throws(() => parseGatewayConfig({ ...base, KLAGG_REDIS_URL: "http://x" }), /KLAGG_REDIS_URL/);
  assert.throws(() => parseGatewayConfig({ ...base, KLAGG_KAFKA_BROKERS: "k1" }), /KLAGG_KAFKA_BROKERS="k1"/);
  assert.throws(() => parseGatewayConfig({ ...base, KLAGG_NAME: "Bad_Name" }), /KLAGG_NAME/);
  assert.throws(() => parseGatewayConfig({ ...base, KLAGG_TIMEOUT_ALERT_THRESHOLD: "0" }), /THRESHOLD="0"/);
});

test("intervals are kept in canonical order whatever order they were written in", () => {
  assert.deepEqual(parseGatewayConfig({ ...base, KLAGG_INTERVALS: "1h,1s,1m" }).intervals, [
    "1s",
    "1m",
    "1h",
  ]);
});

test("the Redis password and Kafka SASL credentials reach the gateway config", () => {
  const c = parseGatewayConfig({
    ...base,
    KLAGG_REDIS_URL: "redis://redis:6379",
    KLAGG_REDIS_PASSWORD: "pw",
    KLAGG_KAFKA_BROKERS: "k:9093",
    KLAGG_KAFKA_SASL_MECHANISM: "plain",
    KLAGG_KAFKA_SASL_USERNAME: "u",
    KLAGG_KAFKA_SASL_PASSWORD: "p",
  });
  assert.equal(c.redisPassword, "pw");
  assert.deepEqual(c.kafkaSasl, { mechanism: "plain", username: "u", password: "p" });
});
