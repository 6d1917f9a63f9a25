/**
 * The BUILT `klagg gateway` CLI as a subprocess against a replaying worker and
 * the real Redis and Kafka: it publishes snapshots under `klagg:<name>:*`,
 * serves its metrics, and stops gracefully on SIGTERM (exit 0).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fromBinary } from "@bufbuild/protobuf";
import { Redis } from "ioredis";
import { SnapshotSchema } from "../../src/gen/klagg/v1/snapshot_pb.js";
import { CLI, infraEnv, replayWorker, waitFor, type LogLine } from "./gateway-harness.js";

test("klagg gateway publishes snapshots to Redis, exposes metrics and exits 0 on SIGTERM", async () => {
  const worker = await replayWorker("replay-cli", 0).start();
  const name = `cli${Date.now().toString(36)}`;
  const redis = new Redis(infraEnv("REDIS_URL"));
  const gw = spawn(
    process.execPath,
    [
      CLI,
      "gateway",
      "--name",
      name,
      "--workers",
      `replay-cli=127.0.0.1:${worker.port}`,
      "--symbols",
      "BTCUSDT",
      "--intervals",
      "1s,1m,3m",
      "--redis-url",
      infraEnv("REDIS_URL"),
      "--kafka-brokers",
      infraEnv("KAFKA_BROKERS"),
      "--kafka-topic",
      `klagg.test.${name}`,
      "--metrics-host",
      "127.0.0.1",
      "--metrics-port",
      "0",
    ],
    { stdio: ["ignore", "ignore", "pipe"], env: { PATH: process.env.PATH } },
  );
  const logs: LogLine[] = [];
  let buf = "";
  gw.stderr.setEncoding("utf8").on("data", (s: string) => {
    buf += s;
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      logs.push(JSON.parse(buf.slice(0, i)) as LogLine);
      buf = buf.slice(i + 1);
    }
  });
  const exited = new Promise<number | null>((r) => gw.on("exit", (code) => r(code)));
  try {
    const metricsLine = await waitFor(
      () => logs.find((l) => l.msg === "metrics server listening"),
      10_000,
      "metrics",
    );
    const snap = await waitFor(
      () => {
        void redis.getBuffer(`klagg:${name}:snapshot`).then((b) => (latest = b ?? undefined));
        return latest;
      },
      15_000,
      "a snapshot in Redis",
    );
    const decoded = fromBinary(SnapshotSchema, snap);
    assert.equal(decoded.aggregator, name);
    assert.ok(decoded.seq >= 1n);
    const res = await fetch(`http://127.0.0.1:${String(metricsLine.port)}/metrics`);
    const text = (await res.text()).split("\n").filter((l) => l.startsWith("klagg_gateway_"));
    assert.ok(
      text.some((l) => /^klagg_gateway_snapshot_seq\{service="klagg-gateway"\} \d+$/.test(l)),
      text.join("\n"),
    );
    assert.ok(text.includes('klagg_gateway_worker_degraded{worker="replay-cli",service="klagg-gateway"} 0'));
    await waitFor(
      () => {
        void redis.getBuffer(`klagg:${name}:snapshot`).then((b) => (latest = b ?? undefined));
        const ks = decodeKlines(latest);
        return ks.length > 0 && ks.every((k) => k.closed);
      },
      15_000,
      "the finished replay's closed klines in the snapshot",
    );
    const t = Date.now();
    gw.kill("SIGTERM");
    assert.equal(await exited, 0);
    assert.ok(Date.now() - t < 8000, "graceful stop within the flush bound");
    assert.ok(logs.some((l) => l.msg === "gateway stopped"));
  } finally {
    if (gw.exitCode === null) gw.kill("SIGKILL");
    redis.disconnect();
    await worker.kill();
  }
});

let latest: Buffer | undefined;

function decodeKlines(b: Buffer | undefined) {
  return b === undefined ? [] : fromBinary(SnapshotSchema, b).klines;
}

test("klagg gateway rejects an invalid config with exit code 2 naming the keys", async () => {
  const child = spawn(
    process.execPath,
    [
      CLI,
      "gateway",
      "--workers",
      "127.0.0.1:1",
      "--symbols",
      "BTCUSDT",
      "--tick",
      "100ms",
      "--pull-deadline",
      "150ms",
    ],
    { stdio: ["ignore", "ignore", "pipe"], env: { PATH: process.env.PATH } },
  );
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => (err += s));
  assert.equal(await new Promise<number | null>((r) => child.on("exit", r)), 2);
  assert.match(err, /KLAGG_PULL_DEADLINE="150ms": must be shorter than KLAGG_TICK \(100ms\)/);
});
