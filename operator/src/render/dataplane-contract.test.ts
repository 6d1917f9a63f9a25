/**
 * One source of truth for configuration: what the operator renders for a
 * worker, the gateway and the writer is parsed here by the very modules the
 * dataplane binaries call at startup, and the parsed values must be the
 * resource's values (CR -> env -> parser -> same settings).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { V1Deployment, V1EnvVar, V1StatefulSet } from "@kubernetes/client-node";
import { parseWorkerConfig } from "@klagg/dataplane/config/worker";
import { parseGatewayConfig } from "@klagg/dataplane/config/gateway";
import { parseWriterConfig } from "@klagg/dataplane/config/writer";
import { withDefaults } from "../api/types.js";
import { desiredState } from "./desired.js";
import { envToSource, renderGatewayEnv, renderWorkerEnv, renderWriterEnv } from "./config.js";
import { sampleCr } from "./fixtures.test-helper.js";

const secrets: Record<string, string> = {
  "redis/password": "r-pw",
  "kafka/user": "k-user",
  "kafka/password": "k-pw",
  "ch/pw": "ch-pw",
};
const resolve = (r: { name: string; key: string }) => {
  const v = secrets[`${r.name}/${r.key}`];
  if (v === undefined) throw new Error(`test has no secret ${r.name}/${r.key}`);
  return v;
};
const envOf = (o: unknown): V1EnvVar[] => (o as V1StatefulSet).spec!.template.spec!.containers[0]!.env!;

test("every worker's rendered env parses with the worker's own config module into the resource's values", () => {
  const cr = sampleCr({
    grace: "3s",
    timezone: "+08:00",
    source: {
      exchange: "binance",
      market: "usdm",
      tradeStream: "aggTrade",
      endpoint: "wss://fstream.example:443",
    },
  });
  const { shards, children } = desiredState(cr);
  for (const s of shards.filter((x) => x.symbols.length > 0)) {
    const sts = children.find((c) => c.metadata?.name === `spot-worker-${s.index}`);
    const cfg = parseWorkerConfig(envToSource(envOf(sts), resolve));
    assert.deepEqual([...cfg.symbols], s.symbols);
    assert.equal(cfg.shardIndex, s.index);
    assert.equal(cfg.shardCount, 3);
    assert.equal(cfg.workerName, `spot-worker-${s.index}`);
    assert.deepEqual([...cfg.intervals], ["1s", "1m", "1h"]);
    assert.equal(cfg.market, "usdm");
    assert.deepEqual(cfg.source, {
      kind: "binance",
      market: "usdm",
      stream: "aggTrade",
      baseUrl: "wss://fstream.example:443",
    });
    assert.equal(cfg.grpcPort, 50051);
    assert.equal(cfg.graceMs, 3000);
    assert.equal(cfg.utcOffsetMinutes, 480);
    assert.equal(cfg.common.metricsPort, 9464);
    assert.equal(cfg.common.otlpEndpoint, "http://jaeger:4318");
    assert.equal(cfg.common.traceSampleRatio, 0.5);
  }
});

test("replay and synthetic sources render into the worker's source forms", () => {
  const replay = withDefaults(
    sampleCr({ source: { exchange: "replay", market: "coinm", replayPath: "/data/a.gz" } }).spec,
  );
  const cr = sampleCr();
  const sym = desiredState(cr).shards.find((s) => s.symbols.length > 0)!;
  const r = parseWorkerConfig(envToSource(renderWorkerEnv(cr, replay, sym.index, sym.symbols)));
  assert.equal(r.source.kind, "replay");
  assert.deepEqual(r.source.kind === "replay" ? [...r.source.files] : [], ["/data/a.gz"]);
  assert.equal(r.market, "coinm");
  const synth = withDefaults(sampleCr({ source: { exchange: "synthetic" } }).spec);
  assert.equal(
    parseWorkerConfig(envToSource(renderWorkerEnv(cr, synth, sym.index, sym.symbols))).source.kind,
    "synthetic",
  );
});

test("the gateway's rendered env parses with the gateway's config module into the resource's values", () => {
  const cr = sampleCr();
  const { children, shards } = desiredState(cr);
  const gw = children.find(
    (c) => c.kind === "Deployment" && c.metadata?.name === "spot-gateway",
  ) as V1Deployment;
  const cfg = parseGatewayConfig(envToSource(envOf(gw), resolve));
  assert.equal(cfg.name, "spot");
  assert.deepEqual(
    cfg.workers.map((w) => w.name),
    shards.filter((s) => s.symbols.length > 0).map((s) => `spot-worker-${s.index}`),
  );
  assert.ok(cfg.workers.every((w) => /^spot-worker-\d-0\.spot-worker\.markets\.svc:50051$/.test(w.address)));
  assert.equal(cfg.tickMs, 100);
  assert.equal(cfg.pullDeadlineMs, 80);
  assert.equal(cfg.timeoutAlertThreshold, 3);
  assert.deepEqual([...cfg.symbols], cr.spec.symbols);
  assert.deepEqual([...cfg.intervals], ["1s", "1m", "1h"]);
  assert.equal(cfg.redisUrl, "redis://redis:6379");
  assert.deepEqual([...cfg.kafkaBrokers], ["kafka-0:9092", "kafka-1:9092"]);
  assert.equal(cfg.kafkaTopic, "klagg.klines");
});

test("the writer's rendered env parses with the writer's config module, its password from the Secret", () => {
  const cr = sampleCr();
  const cfg = parseWriterConfig(envToSource(renderWriterEnv(cr, withDefaults(cr.spec)), resolve));
  assert.deepEqual([...cfg.kafkaBrokers], ["kafka-0:9092", "kafka-1:9092"]);
  assert.equal(cfg.topic, "klagg.klines");
  assert.equal(cfg.groupId, "klagg-writer-spot");
  assert.equal(cfg.clickhouseUrl, "http://clickhouse:8123");
  assert.equal(cfg.clickhouseUser, "klagg");
  assert.equal(cfg.clickhousePassword, "ch-pw");
});

test("the parsers reject what the CRD rejects: a pull deadline not below the tick", () => {
  const cr = sampleCr({ gateway: { tick: "100ms", pullDeadline: "100ms", timeoutAlertThreshold: 3 } });
  const env = renderGatewayEnv(cr, withDefaults(cr.spec), [0]);
  assert.throws(
    () => parseGatewayConfig(envToSource(env)),
    /KLAGG_PULL_DEADLINE.*must be shorter than KLAGG_TICK/,
  );
});

test("every sample in deploy/samples renders configs all three parsers accept", async () => {
  const { readdirSync, readFileSync } = await import("node:fs");
  const { join, dirname } = await import("node:path");
  const { fileURLToPath } = await import("node:url");
  const yaml = (await import("js-yaml")).default;
  const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", "deploy", "samples");
  const files = readdirSync(dir).filter((f) => f.startsWith("klineaggregator-"));
  assert.ok(files.length >= 2);
  for (const f of files) {
    const doc = yaml.load(readFileSync(join(dir, f), "utf8")) as ReturnType<typeof sampleCr>;
    const cr = { ...doc, metadata: { ...doc.metadata, namespace: "samples", uid: "u" } };
    const { children } = desiredState(cr);
    for (const c of children.filter((x) => x.kind === "StatefulSet" || x.kind === "Deployment")) {
      const src = envToSource(envOf(c));
      const parse =
        c.kind === "StatefulSet"
          ? parseWorkerConfig
          : c.metadata?.name?.endsWith("-gateway")
            ? parseGatewayConfig
            : parseWriterConfig;
      assert.doesNotThrow(() => parse(src), `${f}: ${c.kind}/${c.metadata?.name}`);
    }
  }
});
