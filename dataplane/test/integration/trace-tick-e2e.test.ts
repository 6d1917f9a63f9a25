/**
 * One gateway tick is one trace, end to end across processes: two `klagg worker`s (synthetic market), `klagg
 * gateway` (Redis + Kafka) and `klagg writer` (ClickHouse), all exporting to the local Jaeger with sample ratio 1.
 * The test reads a tick's trace back from Jaeger's query API and checks its spans, their services and their parent
 * links: gateway.tick (root) -> per worker a Pull client span -> that worker's Pull server span; redis.publish and
 * kafka.produce under the tick; the writer's consume span under the tick (through the Kafka `traceparent` header)
 * and its insert span under the consume span.
 * Reads REDIS_URL, KAFKA_BROKERS, CLICKHOUSE_URL, OTEL_EXPORTER_OTLP_ENDPOINT, JAEGER_QUERY_URL.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { freeLoopbackPorts, waitForPort } from "../../src/local/free-port.js";
import { CLI, exited, requireEnv, sleep } from "./writer-harness.js";
import { Kafka, logLevel } from "kafkajs";
import { ClickHouseSink } from "../../src/writer/clickhouse-adapter.js";

const env = {
  REDIS_URL: requireEnv("REDIS_URL"),
  KAFKA_BROKERS: requireEnv("KAFKA_BROKERS"),
  CLICKHOUSE_URL: requireEnv("CLICKHOUSE_URL"),
  OTEL_EXPORTER_OTLP_ENDPOINT: requireEnv("OTEL_EXPORTER_OTLP_ENDPOINT"),
  JAEGER_QUERY_URL: requireEnv("JAEGER_QUERY_URL"),
};
const id = `${process.pid}_${Date.now()}`;
/** Aggregator and worker names must be DNS labels. */
const dnsId = id.replace(/_/g, "-");
const topic = `klagg-trace-${id}`;
const database = `klagg_trace_${id}`;
const children: ChildProcess[] = [];
const logs = new Map<string, string[]>();

after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  const ch = new ClickHouseSink({ url: env.CLICKHOUSE_URL, database, requestTimeoutMs: 10_000 });
  await ch.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
  await ch.close();
  const admin = new Kafka({
    clientId: "trace",
    brokers: env.KAFKA_BROKERS.split(","),
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => undefined);
  await admin.disconnect();
});

function start(name: string, cmd: string, extra: Record<string, string>): ChildProcess {
  const lines: string[] = [];
  logs.set(name, lines);
  const child = spawn(process.execPath, [CLI, cmd], {
    stdio: ["ignore", "ignore", "pipe"],
    env: {
      PATH: process.env.PATH ?? "",
      OTEL_EXPORTER_OTLP_ENDPOINT: env.OTEL_EXPORTER_OTLP_ENDPOINT,
      KLAGG_TRACE_SAMPLE_RATIO: "1",
      KLAGG_METRICS_HOST: "127.0.0.1",
      KLAGG_METRICS_PORT: "0",
      KLAGG_LOG_LEVEL: "warn",
      ...extra,
    },
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => lines.push(d));
  children.push(child);
  return child;
}

interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; spanID: string }[];
  processID: string;
  tags: { key: string; value: unknown }[];
}
interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags?: { key: string; value: unknown }[] }>;
}

async function jaeger<T>(path: string): Promise<T | undefined> {
  const res = await fetch(`${env.JAEGER_QUERY_URL}${path}`);
  return res.ok ? ((await res.json()) as { data: T }).data : undefined;
}

const PULL = "klagg.v1.WorkerService/Pull";

/** Checks one trace; returns a reason when it is not a complete tick trace, undefined when it is. */
function check(t: JaegerTrace): string | undefined {
  const byId = new Map(t.spans.map((s) => [s.spanID, s]));
  const service = (s: JaegerSpan) => t.processes[s.processID]?.serviceName;
  // Jaeger shows a parent as CHILD_OF, but when the span also links to its parent (kafka.produce links every tick
  // it carries, its parent included) the two references are merged into one FOLLOWS_FROM; the other links point
  // into other ticks' traces.
  const parent = (s: JaegerSpan) => {
    const child = s.references.find((r) => r.refType === "CHILD_OF");
    if (child !== undefined) return byId.get(child.spanID);
    return s.references.map((r) => byId.get(r.spanID)).find((p) => p !== undefined);
  };
  const named = (n: string) => t.spans.filter((s) => s.operationName === n);
  const roots = t.spans.filter((s) => s.references.length === 0);
  if (roots.length !== 1 || roots[0]!.operationName !== "gateway.tick") return "root is not one gateway.tick";
  const tick = roots[0]!;
  if (service(tick) !== "klagg-gateway") return "tick not from klagg-gateway";
  const dangling = t.spans.filter((s) => s !== tick && parent(s) === undefined);
  if (dangling.length > 0)
    return `spans with a parent missing from the trace: ${dangling.map((s) => s.operationName)}`;
  const clients = named(PULL).filter((s) => service(s) === "klagg-gateway");
  const servers = named(PULL).filter((s) => service(s) === "klagg-worker");
  if (clients.length !== 2 || clients.some((c) => parent(c) !== tick))
    return "not 2 pull client spans under the tick";
  if (servers.length !== 2 || new Set(servers.map((s) => parent(s)?.spanID)).size !== 2) {
    return "not one worker server span under each pull client span";
  }
  if (servers.some((s) => !clients.includes(parent(s)!)))
    return "a server span's parent is not a client span";
  if (new Set(servers.map((s) => s.processID)).size !== 2)
    return "both server spans come from the same worker";
  const redis = named("redis.publish");
  if (redis.length !== 1 || service(redis[0]!) !== "klagg-gateway") return "no redis.publish span";
  if (!isUnder(redis[0]!, tick, parent)) return "redis.publish not under the tick";
  const produce = named("kafka.produce");
  if (produce.length !== 1 || parent(produce[0]!) !== tick) return "no kafka.produce span under the tick";
  const consume = named("klagg.writer consume").filter((s) => service(s) === "klagg-writer");
  if (consume.length === 0 || consume.some((c) => parent(c) !== tick))
    return "no writer consume span under the tick";
  const insert = named("klagg.writer insert").filter((s) => service(s) === "klagg-writer");
  if (insert.length === 0 || insert.some((i) => !consume.includes(parent(i)!))) {
    return "no writer insert span under a consume span";
  }
  return undefined;
}

function isUnder(s: JaegerSpan, anc: JaegerSpan, parent: (s: JaegerSpan) => JaegerSpan | undefined): boolean {
  for (let p = parent(s); p !== undefined; p = parent(p)) if (p === anc) return true;
  return false;
}

test("one gateway tick is one trace across gateway, both workers and the writer, with correct parent links", async () => {
  const [p0, p1] = (await freeLoopbackPorts(2)) as [number, number];
  const symbols = "BTCUSDT,ETHUSDT,SOLUSDT,BNBUSDT";
  const workerEnv = (i: number, port: number) => ({
    KLAGG_WORKER_NAME: `trace-w${i}-${dnsId}`,
    KLAGG_SYMBOLS: symbols,
    KLAGG_SHARD_INDEX: String(i),
    KLAGG_SHARD_COUNT: "2",
    KLAGG_INTERVALS: "1s,1m",
    KLAGG_SOURCE: "synthetic",
    KLAGG_SYNTHETIC_RATE: "50",
    KLAGG_GRPC_HOST: "127.0.0.1",
    KLAGG_GRPC_PORT: String(port),
  });
  start("worker0", "worker", workerEnv(0, p0));
  start("worker1", "worker", workerEnv(1, p1));
  await Promise.all([
    waitForPort("127.0.0.1", p0, 30_000, () => undefined),
    waitForPort("127.0.0.1", p1, 30_000, () => undefined),
  ]);
  const writer = start("writer", "writer", {
    KLAGG_KAFKA_BROKERS: env.KAFKA_BROKERS,
    KLAGG_CLICKHOUSE_URL: env.CLICKHOUSE_URL,
    KLAGG_KAFKA_TOPIC: topic,
    KLAGG_CLICKHOUSE_DATABASE: database,
    KLAGG_WRITER_GROUP: `trace-${id}`,
    KLAGG_WRITER_MAX_BATCH_AGE: "300ms",
  });
  const gateway = start("gateway", "gateway", {
    KLAGG_NAME: `trace-${dnsId}`,
    KLAGG_WORKERS: `trace-w0-${dnsId}=127.0.0.1:${p0},trace-w1-${dnsId}=127.0.0.1:${p1}`,
    KLAGG_SYMBOLS: symbols,
    KLAGG_INTERVALS: "1s,1m",
    KLAGG_TICK: "200ms",
    KLAGG_REDIS_URL: env.REDIS_URL,
    KLAGG_KAFKA_BROKERS: env.KAFKA_BROKERS,
    KLAGG_KAFKA_TOPIC: topic,
  });
  await sleep(6000);
  // Stop gracefully so every process flushes its spans.
  gateway.kill("SIGTERM");
  await exited(gateway);
  await sleep(1500);
  writer.kill("SIGTERM");
  for (const c of children) if (c !== writer && c !== gateway) c.kill("SIGTERM");
  await Promise.all(children.map((c) => exited(c)));

  const tags = encodeURIComponent(JSON.stringify({ "messaging.destination.name": topic }));
  let reasons: string[] = [];
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const found =
      (await jaeger<JaegerTrace[]>(
        `/api/traces?service=klagg-writer&operation=${encodeURIComponent("klagg.writer consume")}` +
          `&tags=${tags}&lookback=1h&limit=30`,
      )) ?? [];
    reasons = [];
    for (const t of found) {
      // The search answers with the matching spans' traces, complete.
      const why = check(t);
      if (why === undefined) return;
      reasons.push(`${t.traceID}: ${why}`);
    }
    await sleep(1000);
  }
  const tail = [...logs].map(([n, l]) => `${n}: ${l.join("").slice(-800)}`).join("\n");
  assert.fail(
    `no complete tick trace in Jaeger; candidates:\n${reasons.slice(0, 10).join("\n")}\nlogs:\n${tail}`,
  );
});
