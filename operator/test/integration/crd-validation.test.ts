/**
 * The API server itself rejects invalid KlineAggregators with the messages
 * the CRD's schema and CEL rules define.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { KubeApiError, type KubeClient } from "../../src/kube/client.js";
import { createCr, crBody, freshNamespace, installCrd, newClient } from "./kube-helpers.js";

let client: KubeClient;
let ns: string;
let cleanup: () => Promise<void>;

before(async () => {
  client = newClient();
  await installCrd(client);
  ({ ns, cleanup } = await freshNamespace(client, "klagg-crd"));
});

after(async () => {
  await cleanup?.();
  client?.close();
});

const invalid: [string, Record<string, unknown>, RegExp][] = [
  [
    "duplicate symbols",
    { symbols: ["BTCUSDT", "ETHUSDT", "BTCUSDT"], shards: 1 },
    /spec.symbols must not contain duplicates/,
  ],
  [
    "more shards than symbols",
    { symbols: ["BTCUSDT", "ETHUSDT"], shards: 3 },
    /every shard needs at least one symbol/,
  ],
  [
    "pull deadline not shorter than the tick",
    { gateway: { tick: "100ms", pullDeadline: "100ms" } },
    /pullDeadline must be shorter than spec.gateway.tick/,
  ],
  [
    "pull deadline longer than the default tick",
    { gateway: { pullDeadline: "2s" } },
    /pullDeadline must be shorter than spec.gateway.tick/,
  ],
  ["an unknown interval", { intervals: ["1m", "7m"] }, /spec.intervals may only contain 1s, 1m/],
  ["duplicate intervals", { intervals: ["1m", "1m"] }, /spec.intervals must not contain duplicates/],
  [
    "a lower-case symbol",
    { symbols: ["btcusdt"], shards: 1 },
    /each symbol must be 2-32 upper-case letters or digits/,
  ],
  [
    "a password in the Redis URL",
    { redis: { url: "redis://:hunter2@redis:6379" } },
    /must not contain credentials; use spec.redis.passwordSecretRef/,
  ],
  [
    "a password in the ClickHouse URL",
    { clickhouse: { url: "http://u:p@ch:8123" } },
    /must not contain credentials; use spec.clickhouse.passwordSecretRef/,
  ],
  [
    "replay without a capture path",
    { source: { exchange: "replay" } },
    /replayPath is required when spec.source.exchange is replay/,
  ],
  [
    "an http exchange endpoint",
    { source: { endpoint: "http://stream.binance.com" } },
    /spec.source.endpoint must be a ws:\/\/ or wss:\/\/ URL/,
  ],
  [
    "a broker without a port",
    { kafka: { brokers: ["kafka"] } },
    /each spec.kafka.brokers entry must be host:port/,
  ],
  [
    "a sample ratio above 1",
    { tracing: { endpoint: "http://j:4318", sampleRatio: 1.5 } },
    /sampleRatio must be between 0 and 1/,
  ],
  [
    "a secret reference without key",
    { redis: { url: "redis://r:6379", passwordSecretRef: { name: "x" } } },
    /passwordSecretRef.key: Required value/,
  ],
];

for (const [what, spec, message] of invalid) {
  test(`the API server rejects ${what} with a clear message`, async () => {
    await assert.rejects(
      createCr(client, crBody(ns, `bad-${invalid.findIndex((x) => x[0] === what)}`, spec)),
      (err: unknown) => {
        assert.ok(err instanceof KubeApiError, String(err));
        assert.equal(err.status, 422);
        assert.match(err.message, message);
        return true;
      },
    );
  });
}

test("a name too long for the children's names is rejected", async () => {
  await assert.rejects(
    createCr(client, crBody(ns, "x".repeat(41))),
    /metadata.name must be at most 40 characters/,
  );
});

test("a valid resource is accepted and the schema's defaults are stored", async () => {
  const cr = await createCr(client, crBody(ns, "ok"));
  const spec = cr["spec"] as Record<string, Record<string, unknown>>;
  assert.deepEqual(spec["gateway"], { tick: "100ms", pullDeadline: "80ms", timeoutAlertThreshold: 3 });
  assert.deepEqual(spec["source"], { exchange: "binance", market: "spot", tradeStream: "trade" });
  assert.equal(spec["suspend"], false);
});
