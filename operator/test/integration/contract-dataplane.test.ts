/**
 * Contract: the config the operator renders for a sample's workers and
 * gateway starts the real dataplane binaries, and klines flow end to end
 * into Redis. Only what differs between a pod and this machine is changed:
 * listen addresses/ports (workers bind 127.0.0.1 on free ports; the gateway
 * gets those addresses through the same render function) and the sample's
 * Redis/Kafka endpoints, pointed at the local services.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { Redis } from "ioredis";
import yaml from "js-yaml";
import { SnapshotSchema } from "@klagg/dataplane/gen/klagg/v1/snapshot_pb";
import { withDefaults, type KlineAggregator } from "../../src/api/types.js";
import { envToSource, renderGatewayEnv, renderWorkerEnv } from "../../src/render/config.js";
import { desiredState } from "../../src/render/desired.js";
import { ROOT, waitFor } from "./kube-helpers.js";

const CLI = join(ROOT, "dataplane/dist/src/cli/main.js");

function infra(key: string): string {
  const v = process.env[key];
  if (!v)
    throw new Error(`${key} is not set: run through deploy/local/klagg-infra with-infra (or eval its env)`);
  return v;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (typeof a === "object" && a ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}

function start(cmd: string, env: Record<string, string>, logs: string[]): ChildProcess {
  const p = spawn(process.execPath, [CLI, cmd], {
    env: { PATH: process.env["PATH"] ?? "", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  p.stderr!.setEncoding("utf8").on("data", (s: string) => logs.push(s));
  return p;
}

test("a sample's operator-rendered worker and gateway configs run the dataplane and klines reach Redis", async () => {
  const sample = yaml.load(
    readFileSync(join(ROOT, "deploy/samples/klineaggregator-synthetic.yaml"), "utf8"),
  ) as KlineAggregator;
  const name = `contract${Date.now().toString(36)}`;
  const cr: KlineAggregator = {
    ...sample,
    metadata: { ...sample.metadata, name, namespace: "local", uid: "contract" },
    spec: {
      ...sample.spec,
      redis: { url: infra("REDIS_URL") },
      kafka: {
        ...sample.spec.kafka,
        brokers: infra("KAFKA_BROKERS").split(","),
        topic: `klagg.contract.${name}`,
      },
    },
  };
  const spec = withDefaults(cr.spec);
  const shards = desiredState(cr).shards.filter((s) => s.symbols.length > 0);
  const ports = new Map<number, number>();
  for (const s of shards) ports.set(s.index, await freePort());
  const logs: string[] = [];
  const procs: ChildProcess[] = [];
  const redis = new Redis(infra("REDIS_URL"));
  try {
    for (const s of shards) {
      const env = envToSource(renderWorkerEnv(cr, spec, s.index, s.symbols));
      procs.push(
        start(
          "worker",
          {
            ...env,
            KLAGG_GRPC_HOST: "127.0.0.1",
            KLAGG_GRPC_PORT: String(ports.get(s.index)),
            KLAGG_METRICS_HOST: "127.0.0.1",
            KLAGG_METRICS_PORT: "0",
          },
          logs,
        ),
      );
    }
    const gwEnv = envToSource(
      renderGatewayEnv(
        cr,
        spec,
        shards.map((s) => s.index),
        (i) => `127.0.0.1:${ports.get(i)}`,
      ),
    );
    procs.push(
      start("gateway", { ...gwEnv, KLAGG_METRICS_HOST: "127.0.0.1", KLAGG_METRICS_PORT: "0" }, logs),
    );
    const symbols = new Set(cr.spec.symbols);
    const snap = await waitFor(
      "klines of every sample symbol in the Redis snapshot",
      async () => {
        const b = await redis.getBuffer(`klagg:${name}:snapshot`);
        if (!b) return undefined;
        const s = fromBinary(SnapshotSchema, b);
        const seen = new Set(s.klines.filter((k) => k.trades > 0n).map((k) => k.symbol));
        return [...symbols].every((x) => seen.has(x)) ? s : undefined;
      },
      20_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n--- dataplane logs ---\n${logs.join("").slice(-4000)}`);
    });
    assert.equal(snap.aggregator, name);
    const intervals = new Set(snap.klines.map((k) => k.interval));
    for (const i of spec.intervals) assert.ok(intervals.has(i), `interval ${i} missing`);
  } finally {
    for (const p of procs) p.kill("SIGTERM");
    await Promise.all(
      procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.on("exit", r)))),
    );
    await redis.del(`klagg:${name}:snapshot`);
    redis.disconnect();
  }
});
