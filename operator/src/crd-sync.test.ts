import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";
import { withDefaults } from "./api/types.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const read = (p: string) => readFileSync(join(root, p), "utf8");
const SOURCE = "operator/crd/klineaggregators.klagg.io.yaml";

test("the chart's and the plain manifests' CRD are byte-identical copies of the single source", () => {
  const src = read(SOURCE);
  for (const copy of ["charts/klagg/crds/klineaggregators.klagg.io.yaml", "deploy/manifests/crd.yaml"]) {
    assert.equal(read(copy), src, `${copy} differs from ${SOURCE}: run node operator/scripts/sync-crd.mjs`);
  }
});

type Schema = {
  default?: unknown;
  properties?: Record<string, Schema>;
  description?: string;
  items?: Schema;
};

function specSchema(): Schema {
  const crd = yaml.load(read(SOURCE)) as { spec: { versions: { schema: { openAPIV3Schema: Schema } }[] } };
  return crd.spec.versions[0]!.schema.openAPIV3Schema.properties!["spec"]!;
}

test("withDefaults applies exactly the defaults the CRD declares", () => {
  const s = specSchema().properties!;
  const d = withDefaults({
    symbols: ["BTCUSDT"],
    shards: 1,
    redis: { url: "redis://r:1" },
    kafka: { brokers: ["k:1"] },
    clickhouse: { url: "http://c:1" },
  });
  assert.deepEqual(d.intervals, s["intervals"]!.default);
  assert.equal(d.logLevel, s["logLevel"]!.default);
  assert.equal(d.suspend, s["suspend"]!.default);
  for (const k of ["exchange", "market", "tradeStream"] as const)
    assert.equal(d.source[k], s["source"]!.properties![k]!.default);
  for (const k of ["tick", "pullDeadline", "timeoutAlertThreshold"] as const)
    assert.equal(d.gateway[k], s["gateway"]!.properties![k]!.default);
  assert.equal(d.kafka.topic, s["kafka"]!.properties!["topic"]!.default);
  assert.equal(d.clickhouse.user, s["clickhouse"]!.properties!["user"]!.default);
  assert.equal(d.writer.replicas, s["writer"]!.properties!["replicas"]!.default);
  assert.equal(d.worker.maxRetainedClosed, s["worker"]!.properties!["maxRetainedClosed"]!.default);
  for (const k of ["repository", "tag", "pullPolicy"] as const)
    assert.equal(d.image[k], s["image"]!.properties![k]!.default);
});

test("every spec field has a description for kubectl explain", () => {
  const missing: string[] = [];
  const walk = (sch: Schema, path: string) => {
    if (!sch.description) missing.push(path);
    for (const [k, v] of Object.entries(sch.properties ?? {})) walk(v, `${path}.${k}`);
  };
  walk(specSchema(), "spec");
  assert.deepEqual(missing, []);
});
