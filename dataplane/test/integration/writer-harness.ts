/**
 * Shared helpers of the writer's integration tests: a private topic, group and
 * database per test on the real local Kafka and ClickHouse, a deterministic
 * kline stream with many versions per kline, and exact read-back with FINAL.
 * Reads only KAFKA_BROKERS, CLICKHOUSE_URL (and KLAGG_INFRA for fault tests).
 */
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { Kafka, logLevel, type Admin, type Producer } from "kafkajs";
import { ensureTopics } from "./kafka-topics.js";
import { ClickHouseSink } from "../../src/writer/clickhouse-adapter.js";
import { SocketTracker } from "../../src/kafka/client-support.js";
import { batchBytes, kline, type KlineSpec } from "../../src/writer/test-fixtures.js";
import { formatDateTime } from "../../src/writer/row.js";
import { INTERVALS, type Interval } from "../../src/core/types.js";

export function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run under \`deploy/local/klagg-infra with-infra -- ...\``);
  return v;
}

const here = dirname(fileURLToPath(import.meta.url));
/** dataplane/dist/src/cli/main.js, from dataplane/dist/test/integration. */
export const CLI = join(here, "..", "..", "src", "cli", "main.js");

let counter = 0;

/** One test's private topic, dead-letter topic, group and database. */
export class WriterEnv {
  readonly id = `${process.pid}_${Date.now()}_${counter++}`;
  readonly topic = `klagg-writer-test-${this.id}`;
  readonly dlqTopic = `${this.topic}.dlq`;
  readonly group = `klagg-writer-test-${this.id}`;
  readonly database = `klagg_test_${this.id}`;
  readonly brokers = requireEnv("KAFKA_BROKERS");
  readonly clickhouseUrl = requireEnv("CLICKHOUSE_URL");
  /** The test's own kafkajs clients leak sockets after a broker restart too (see SocketTracker). */
  private readonly sockets = new SocketTracker();
  readonly kafka = new Kafka({
    clientId: "writer-test",
    brokers: this.brokers.split(","),
    logLevel: logLevel.NOTHING,
    socketFactory: this.sockets.factory,
  });
  readonly admin: Admin = this.kafka.admin();
  producer: Producer = this.kafka.producer({ allowAutoTopicCreation: false });
  private producerConnected = false;
  readonly ch = new ClickHouseSink({
    url: this.clickhouseUrl,
    database: this.database,
    requestTimeoutMs: 10_000,
  });

  /** The writer's config keys for this environment. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      KLAGG_KAFKA_BROKERS: this.brokers,
      KLAGG_CLICKHOUSE_URL: this.clickhouseUrl,
      KLAGG_KAFKA_TOPIC: this.topic,
      KLAGG_WRITER_DLQ_TOPIC: this.dlqTopic,
      KLAGG_WRITER_GROUP: this.group,
      KLAGG_CLICKHOUSE_DATABASE: this.database,
      KLAGG_KAFKA_PARTITIONS: "3",
      KLAGG_WRITER_MAX_BATCH_AGE: "200ms",
      KLAGG_WRITER_RETRY_CAP: "2s",
      KLAGG_METRICS_PORT: "0",
      KLAGG_METRICS_HOST: "127.0.0.1",
      ...extra,
    };
  }

  async setUp(partitions = 3): Promise<void> {
    await this.admin.connect();
    await ensureTopics(this.admin, [
      { topic: this.topic, numPartitions: partitions },
      { topic: this.dlqTopic, numPartitions: 1 },
    ]);
    await this.producer.connect();
    this.producerConnected = true;
  }

  /**
   * Replaces the producer. A kafkajs send to a restarting broker blocks until the broker is back or its retries run
   * out; the fault tests give up on such a send after a while and retry with a fresh producer.
   */
  resetProducer(): void {
    const old = this.producer;
    this.producer = this.kafka.producer({ allowAutoTopicCreation: false });
    this.producerConnected = false;
    void old.disconnect().catch(() => undefined);
  }

  async tearDown(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
    await this.admin.deleteTopics({ topics: [this.topic, this.dlqTopic] }).catch(() => undefined);
    await this.admin.deleteGroups([this.group]).catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
    this.sockets.destroyAll();
    // After a ClickHouse restart the first request may hit a dead keep-alive socket: try a few times.
    for (let i = 0; i < 3; i++) {
      const ok = await this.ch.command(`DROP DATABASE IF EXISTS ${this.database}`).then(
        () => true,
        () => false,
      );
      if (ok) break;
      await sleep(500);
    }
    await this.ch.close();
  }

  /** Produces one message per kline batch, keyed by symbol (as the gateway does). */
  async produce(batches: readonly KlineSpec[][], extraValues: (Buffer | null)[] = []): Promise<void> {
    const messages = batches.map((b) => ({
      key: b[0]?.symbol ?? "BTCUSDT",
      value: Buffer.from(batchBytes(b.map((s) => kline(s)))),
    }));
    if (!this.producerConnected) {
      await this.producer.connect();
      this.producerConnected = true;
    }
    for (let i = 0; i < messages.length; i += 500) {
      await this.producer.send({ topic: this.topic, acks: -1, messages: messages.slice(i, i + 500) });
    }
    if (extraValues.length > 0) {
      await this.producer.send({
        topic: this.topic,
        acks: -1,
        messages: extraValues.map((value) => ({ key: "BTCUSDT", value })),
      });
    }
  }

  /** Messages produced but not committed by the group, summed over partitions. */
  async uncommitted(): Promise<bigint> {
    const end = await this.admin.fetchTopicOffsets(this.topic);
    const committed = (await this.admin.fetchOffsets({ groupId: this.group, topics: [this.topic] }))[0]
      ?.partitions;
    let n = 0n;
    for (const e of end) {
      const c = BigInt(committed?.find((p) => p.partition === e.partition)?.offset ?? "-1");
      n += BigInt(e.high) - (c < 0n ? 0n : c);
    }
    return n;
  }

  /** Resolves when the group has committed up to the topic's current end on every partition. */
  async waitCommitted(timeoutMs: number): Promise<void> {
    const t0 = Date.now();
    const end = await this.admin.fetchTopicOffsets(this.topic);
    for (;;) {
      const committed = await this.admin.fetchOffsets({ groupId: this.group, topics: [this.topic] });
      const parts = committed[0]?.partitions ?? [];
      const behind = end.filter((e) => {
        const c = parts.find((p) => p.partition === e.partition);
        return BigInt(c?.offset ?? "-1") < BigInt(e.high) && e.high !== "0";
      });
      if (behind.length === 0) return;
      if (Date.now() - t0 > timeoutMs) {
        throw new Error(
          `group still behind after ${timeoutMs} ms on partitions ${behind.map((b) => b.partition)}`,
        );
      }
      await sleep(200);
    }
  }

  /** The table read with FINAL, one TSV line per row, sorted by key. */
  async readFinal(): Promise<string[]> {
    const text = await this.ch.queryText(
      `SELECT * FROM ${this.database}.klines FINAL ORDER BY symbol, \`interval\`, open_time FORMAT TabSeparated`,
    );
    return text.split("\n").filter((l) => l.length > 0);
  }

  /** Rows stored without FINAL (duplicates before merges included). */
  async countRaw(): Promise<number> {
    return Number(
      (await this.ch.queryText(`SELECT count() FROM ${this.database}.klines FORMAT TabSeparated`)).trim(),
    );
  }

  /** Starts `klagg writer` as a child process with this environment. */
  spawnWriter(extra: Record<string, string> = {}): ChildProcess {
    const child = spawn(process.execPath, [CLI, "writer"], {
      env: { PATH: process.env.PATH ?? "", ...this.env(extra) },
      stdio: ["ignore", "ignore", "pipe"],
    });
    const lines: string[] = [];
    child.stderr?.setEncoding("utf8").on("data", (d: string) => lines.push(...d.split("\n")));
    (child as ChildProcess & { logLines: string[] }).logLines = lines;
    return child;
  }
}

/** Pads a plain decimal to the table's scale of 16, as ClickHouse prints Decimal(38, 16). */
export function scale16(d: string): string {
  const [i, f = ""] = d.split(".");
  return `${i}.${f.padEnd(16, "0")}`;
}

/** The TSV line ClickHouse returns for a kline spec (defaults as in test-fixtures). */
export function expectedLine(spec: KlineSpec): string {
  const k = kline(spec);
  const dec = [k.open, k.high, k.low, k.close, k.volume, k.quoteVolume].map(scale16);
  return [
    k.symbol,
    k.interval,
    formatDateTime(Number(k.openTime)),
    String(k.closeTime),
    ...dec,
    String(k.trades),
    scale16(k.takerBuyVolume),
    scale16(k.takerBuyQuoteVolume),
    String(k.firstTradeId),
    String(k.lastTradeId),
    k.closed ? "1" : "0",
    String(k.version),
    String(INTERVALS.indexOf(k.interval as Interval)),
  ].join("\t");
}

const SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "DOGEUSDT"];
const INTERVAL_MS: Record<string, number> = { "1s": 1000, "1m": 60_000, "5m": 300_000 };

/**
 * A deterministic market: `ticks` gateway ticks of 1 s, each producing one
 * batch per symbol with that symbol's 1s, 1m and 5m klines at a new version.
 * Values depend on (symbol, interval, open time, version), so a stale version
 * written over a newer one would show. Returns the batches in production order
 * and the final state (highest version per kline).
 */
export function market(ticks: number, symbols = SYMBOLS): { batches: KlineSpec[][]; final: KlineSpec[] } {
  const t0 = 1_723_161_000_000; // 2024-08-08 23:50:00 UTC
  const batches: KlineSpec[][] = [];
  const final = new Map<string, KlineSpec>();
  for (let t = 0; t < ticks; t++) {
    const now = t0 + t * 1000;
    for (const [si, symbol] of symbols.entries()) {
      const batch: KlineSpec[] = [];
      for (const [interval, ms] of Object.entries(INTERVAL_MS)) {
        const openTime = Math.floor(now / ms) * ms;
        const version = t + 1;
        const cents = (si + 1) * 1_000_000 + t * 7 + ((openTime / 1000) % 97);
        const spec: KlineSpec = {
          symbol,
          interval,
          openTime,
          closeTime: openTime + ms - 1,
          open: `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}000000`,
          high: `${Math.floor(cents / 100) + 1}.${String(version % 100).padStart(2, "0")}`,
          low: `${Math.floor(cents / 100) - 1}.5`,
          close: `${Math.floor(cents / 100)}.${String(version % 100).padStart(2, "0")}123456`,
          volume: `${version}.${String(si).padStart(8, "0")}`,
          // 16 decimals, as spot quote volumes carry, and large integer parts.
          quoteVolume: `${123_456_789_012 + version}.${String(version * 7919 + si).padStart(16, "0")}`,
          trades: version * 3,
          takerBuyVolume: `${version}.5`,
          takerBuyQuoteVolume: `${version * 1000}.0000000000000001`,
          firstTradeId: 1_000_000 + si,
          lastTradeId: 1_000_000 + si + version,
          closed: now + 1000 > openTime + ms - 1,
          version,
        };
        batch.push(spec);
        final.set(`${symbol}\u0000${interval}\u0000${openTime}`, spec);
      }
      batches.push(batch);
    }
  }
  return { batches, final: sortSpecs([...final.values()]) };
}

/** The final state (highest version per kline) of a prefix of a market's batches, sorted by table key. */
export function finalOf(batches: readonly KlineSpec[][]): KlineSpec[] {
  const final = new Map<string, KlineSpec>();
  for (const b of batches) {
    for (const k of b) {
      const key = `${k.symbol}\u0000${k.interval}\u0000${k.openTime}`;
      const prev = final.get(key);
      if (prev === undefined || (prev.version ?? 0) < (k.version ?? 0)) final.set(key, k);
    }
  }
  return sortSpecs([...final.values()]);
}

function sortSpecs(xs: KlineSpec[]): KlineSpec[] {
  const key = (k: KlineSpec) =>
    [k.symbol ?? "", k.interval ?? "", String(k.openTime).padStart(15, "0")].join("\u0000");
  return xs.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** Runs the infra script (fault tests): e.g. `infra("down", "clickhouse")`. */
export async function infra(...args: string[]): Promise<void> {
  const script = requireEnv("KLAGG_INFRA");
  await promisify(execFile)(script, args, { timeout: 180_000 });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits for a child process to exit; returns its exit code (or signal name). */
export function exited(child: ChildProcess): Promise<number | string> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code, sig) => resolve(code ?? sig ?? "unknown")));
}
