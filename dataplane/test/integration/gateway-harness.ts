/**
 * Shared harness of the gateway fault tests: real `klagg worker` subprocesses
 * (a pace-limited replay of the USD-M capture plus a synthetic market), an
 * in-process gateway wired to the real Redis and Kafka of the local infra
 * (REDIS_URL, KAFKA_BROKERS from `deploy/local/klagg-infra env`), a Kafka
 * consumer collecting what the gateway produced and a Redis subscriber
 * collecting the published update sequence numbers.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { fromBinary } from "@bufbuild/protobuf";
import { Redis } from "ioredis";
import { Kafka, logLevel, type Consumer } from "kafkajs";
import { deleteTestTopics, ensureTopics } from "./kafka-topics.js";
import { Registry } from "prom-client";
import { KlineBatchSchema } from "../../src/gen/klagg/v1/kline_pb.js";
import { SnapshotUpdateSchema } from "../../src/gen/klagg/v1/snapshot_pb.js";
import { parseGatewayConfig, type GatewayConfig } from "../../src/config/gateway.js";
import { createGateway } from "../../src/gateway/create.js";
import type { Gateway } from "../../src/gateway/gateway.js";
import { fromProtoKline } from "../../src/grpc/kline-proto.js";
import { formatKlineCsvRow } from "../../src/core/kline-csv.js";
import { updatesChannel } from "../../src/scheduler/snapshot-bus.js";
import { createLogger } from "../../src/obs/log.js";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
export const CLI = join(ROOT, "dataplane/dist/src/cli/main.js");
export const INFRA = join(ROOT, "deploy/local/klagg-infra");
const DATA = resolve(ROOT, "../shared/data/binance");

/** A required environment variable of the local infra; fails loudly, never skips. */
export function infraEnv(name: "REDIS_URL" | "KAFKA_BROKERS"): string {
  const v = process.env[name];
  if (v === undefined || v === "") {
    throw new Error(
      `${name} is not set: run under \`deploy/local/klagg-infra with-infra -- ...\` or eval its env`,
    );
  }
  return v;
}

export function dataFile(rel: string): string {
  const p = join(DATA, rel);
  if (!existsSync(p)) throw new Error(`Binance test data missing: ${p} (expected ../shared/data/binance)`);
  return p;
}

/** Official 1m klines (open time -> CSV row) of the USD-M capture's hour. */
export function officialOneMinute(): Map<number, string> {
  const m = new Map<number, string>();
  for (const line of readFileSync(dataFile("klines/usdm-BTCUSDT-1m-2024-08-08T2330-0030.csv"), "utf8").split(
    "\n",
  )) {
    if (/^\d/.test(line)) m.set(Number(line.slice(0, line.indexOf(","))), line.trim());
  }
  return m;
}

/** Minutes fully covered by the capture (23:54:15 .. 00:00:00). */
export const COVERED_MINUTES = Array.from(
  { length: 5 },
  (_, i) => Date.parse("2024-08-08T23:55:00Z") + i * 60_000,
);

export type LogLine = Record<string, unknown>;

/** A `klagg worker` subprocess. */
export class WorkerProc {
  readonly logs: LogLine[] = [];
  child!: ChildProcess;
  port = 0;
  exited!: Promise<number | null>;

  constructor(private readonly args: string[]) {}

  async start(port = 0): Promise<this> {
    this.child = spawn(
      process.execPath,
      [
        CLI,
        "worker",
        ...this.args,
        "--grpc-host",
        "127.0.0.1",
        "--grpc-port",
        String(port),
        "--metrics-host",
        "127.0.0.1",
        "--metrics-port",
        "0",
        "--drain",
        "1s",
      ],
      { stdio: ["ignore", "ignore", "pipe"], env: { PATH: process.env.PATH } },
    );
    this.exited = new Promise((r) => this.child.on("exit", (code) => r(code)));
    let buf = "";
    this.child.stderr!.setEncoding("utf8").on("data", (s: string) => {
      buf += s;
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.logs.push({ msg: line });
        }
      }
    });
    const started = await waitFor(
      () => this.logs.find((l) => l.msg === "worker started"),
      15_000,
      "worker started",
    );
    this.port = Number(started.grpc_port);
    return this;
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGKILL");
      await this.exited;
    }
  }
}

/** The pace-limited replay worker owning BTCUSDT. */
export function replayWorker(name: string, speed: number): WorkerProc {
  return new WorkerProc([
    `--name=${name}`,
    "--symbols",
    "BTCUSDT",
    "--intervals",
    "1s,1m,3m",
    "--market",
    "usdm",
    "--source",
    `replay:${dataFile("ws-captures/usdm-btcusdt-20240808.gz")}`,
    "--replay-speed",
    String(speed),
  ]);
}

/** A synthetic-market worker owning two made-up symbols. */
export function syntheticWorker(name: string): WorkerProc {
  return new WorkerProc([
    `--name=${name}`,
    "--symbols",
    "SYNAUSDT,SYNBUSDT",
    "--intervals",
    "1s,1m,3m",
    "--source",
    "synthetic",
    "--synthetic-rate",
    "50",
  ]);
}

export async function waitFor<T>(
  f: () => T | undefined | false,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
}

/** A decoded kline as the tests compare them. */
export interface SeenKline {
  readonly symbol: string;
  readonly interval: string;
  readonly openTime: number;
  readonly closed: boolean;
  readonly version: number;
  /** The kline as a Binance USD-M CSV row (for comparison with the official files). */
  readonly csv: string;
}

/** The gateway under test plus the observers of its outputs. */
export class GatewayRun {
  readonly logs: LogLine[] = [];
  readonly registry = new Registry();
  /** Seq and failed workers of every tick, in order. */
  readonly ticks: { seq: number; failed: readonly string[] }[] = [];
  readonly kafkaKlines: SeenKline[] = [];
  readonly kafkaHeaders: string[] = [];
  readonly redisSeqs: number[] = [];
  readonly name = `t${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
  readonly topic = `klagg.test.${this.name}`;
  config!: GatewayConfig;
  gateway!: Gateway;
  private consumer: Consumer | undefined;
  private sub: Redis | undefined;

  async start(workers: { name: string; port: number }[], symbols: string): Promise<this> {
    this.config = parseGatewayConfig({
      KLAGG_NAME: this.name,
      KLAGG_WORKERS: workers.map((w) => `${w.name}=127.0.0.1:${w.port}`).join(","),
      KLAGG_SYMBOLS: symbols,
      KLAGG_INTERVALS: "1s,1m,3m",
      KLAGG_TICK: "100ms",
      KLAGG_PULL_DEADLINE: "50ms",
      KLAGG_TIMEOUT_ALERT_THRESHOLD: "5",
      KLAGG_REDIS_URL: infraEnv("REDIS_URL"),
      KLAGG_KAFKA_BROKERS: infraEnv("KAFKA_BROKERS"),
      KLAGG_KAFKA_TOPIC: this.topic,
    });
    await this.startKafkaConsumer();
    await this.startRedisSubscriber();
    const log = createLogger("gateway", {
      level: "info",
      sink: (l) => this.logs.push(JSON.parse(l) as LogLine),
    });
    this.gateway = createGateway(this.config, { log, registry: this.registry });
    this.gateway.onTick((r) => this.ticks.push({ seq: r.snapshot.seq, failed: r.failedWorkers }));
    this.gateway.start();
    return this;
  }

  private async startKafkaConsumer(): Promise<void> {
    const kafka = new Kafka({
      clientId: "gateway-test",
      brokers: infraEnv("KAFKA_BROKERS").split(","),
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic: this.topic, numPartitions: 2 }]);
    await admin.disconnect();
    this.consumer = kafka.consumer({ groupId: `gateway-test-${this.name}`, sessionTimeout: 10_000 });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ message }) => {
        if (message.value === null) return;
        const tp = message.headers?.traceparent;
        if (tp !== undefined) this.kafkaHeaders.push(String(tp));
        const batch = fromBinary(KlineBatchSchema, message.value);
        for (const k of batch.klines) {
          this.kafkaKlines.push({
            symbol: k.symbol,
            interval: k.interval,
            openTime: Number(k.openTime),
            closed: k.closed,
            version: Number(k.version),
            csv: formatKlineCsvRow(fromProtoKline(k), "usdm"),
          });
        }
      },
    });
  }

  private async startRedisSubscriber(): Promise<void> {
    this.sub = new Redis(infraEnv("REDIS_URL"), { maxRetriesPerRequest: null, retryStrategy: () => 100 });
    this.sub.on("error", () => undefined);
    await this.sub.subscribe(updatesChannel(this.name));
    this.sub.on("messageBuffer", (_ch: Buffer, msg: Buffer) => {
      this.redisSeqs.push(Number(fromBinary(SnapshotUpdateSchema, msg).seq));
    });
  }

  /** Log lines of the gateway matching `pred`. */
  find(pred: (l: LogLine) => boolean): LogLine[] {
    return this.logs.filter(pred);
  }

  async metric(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
    const m = this.registry.getSingleMetric(name);
    if (m === undefined) return undefined;
    const v = (await m.get()).values.find((x) =>
      Object.entries(labels).every(([k, val]) => x.labels[k] === val),
    );
    return v?.value;
  }

  /** Closed klines of `symbol`/`interval` that reached Kafka, newest version per open time. */
  closedInKafka(symbol: string, interval: string): Map<number, SeenKline> {
    const m = new Map<number, SeenKline>();
    for (const k of this.kafkaKlines) {
      if (k.symbol !== symbol || k.interval !== interval || !k.closed) continue;
      const prev = m.get(k.openTime);
      if (prev === undefined || prev.version < k.version) m.set(k.openTime, k);
    }
    return m;
  }

  async stop(): Promise<void> {
    await this.gateway?.stop();
    await this.consumer?.disconnect().catch(() => undefined);
    this.sub?.disconnect();
    if (this.consumer !== undefined) await deleteTestTopics(infraEnv("KAFKA_BROKERS"), [this.topic]);
  }
}

/** Every seq from first to last, none missing and none repeated. */
export function isUnbroken(seqs: readonly number[]): boolean {
  return seqs.every((s, i) => i === 0 || s === seqs[i - 1]! + 1);
}
