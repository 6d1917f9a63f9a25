/**
 * Writer benchmark on the real local Kafka and ClickHouse (KAFKA_BROKERS, CLICKHOUSE_URL):
 * 1. Throughput: a backlog of gateway-style messages (one symbol's 16 klines per message, every kline at a new
 *    version each tick) is pre-produced; a fresh writer drains it. Printed: rows consumed/s (before coalescing),
 *    rows written/s, INSERTs/s and rows per INSERT. Baseline in the same process: one INSERT per message (no
 *    coalescing, no batching), on a slice of the same backlog.
 * 2. Latency: a live producer plays a gateway ticking every 100 ms; each 1s kline is produced closed right after its
 *    close time. Printed: close time -> end of the INSERT that made the row readable, p50/p90/p99/max.
 * Run: node dataplane/dist/bench/writer.bench.js
 */
import { loadavg } from "node:os";
import { Kafka, logLevel, type Producer } from "kafkajs";
import { parseWriterConfig } from "../src/config/writer.js";
import { createLogger } from "../src/obs/log.js";
import { ClickHouseSink } from "../src/writer/clickhouse-adapter.js";
import { decodeKlineMessage } from "../src/writer/decode.js";
import { batchBytes, kline, type KlineSpec } from "../src/writer/test-fixtures.js";
import { createWriter } from "../src/writer/writer.js";
import { INTERVALS } from "../src/core/types.js";

const SYMBOLS = Number(process.env.BENCH_WRITER_SYMBOLS ?? 1000);
const TICKS = Number(process.env.BENCH_WRITER_TICKS ?? 25);
const LIVE_SYMBOLS = Number(process.env.BENCH_WRITER_LIVE_SYMBOLS ?? 200);
const LIVE_SECONDS = Number(process.env.BENCH_WRITER_LIVE_SECONDS ?? 8);
const BASELINE_MESSAGES = 300;
const INTERVAL_MS: Record<string, number> = {
  "1s": 1e3, "1m": 6e4, "3m": 18e4, "5m": 3e5, "15m": 9e5, "30m": 18e5, "1h": 36e5, "2h": 72e5,
  "4h": 144e5, "6h": 216e5, "8h": 288e5, "12h": 432e5, "1d": 864e5, "3d": 2592e5, "1w": 6048e5, "1M": 2592e6,
}; // prettier-ignore
const quiet = createLogger("writer", { level: "error" });
const id = `${process.pid}_${Date.now()}`;

function symbolName(i: number): string {
  return `SYM${String(i).padStart(5, "0")}USDT`;
}

/** One symbol's 16 klines at time `now`, all at `version`; `closedAt` marks the closed 1s kline. */
function symbolBatch(symbol: string, now: number, version: number, closed1s?: number): KlineSpec[] {
  const out: KlineSpec[] = [];
  for (const interval of INTERVALS) {
    const ms = INTERVAL_MS[interval]!;
    const openTime = Math.floor(now / ms) * ms;
    const price = `${61000 + (version % 1000)}.${String(version % 100).padStart(2, "0")}000000`;
    out.push({
      symbol,
      interval,
      openTime,
      closeTime: openTime + ms - 1,
      open: price,
      high: price,
      low: price,
      close: price,
      volume: `${version}.12345678`,
      quoteVolume: `${version * 61000}.1234567812345678`,
      trades: version,
      takerBuyVolume: `${version}.5`,
      takerBuyQuoteVolume: `${version * 30500}.0000000000000001`,
      firstTradeId: 1,
      lastTradeId: version,
      closed: false,
      version,
    });
  }
  if (closed1s !== undefined) {
    out.push({
      ...out[0]!,
      openTime: closed1s - 999,
      closeTime: closed1s,
      closed: true,
      version, // a new state of that kline: the closed one must win over the open one of the tick before
    });
  }
  return out;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

async function produceAll(
  producer: Producer,
  topic: string,
  values: Buffer[],
  keys: string[],
): Promise<void> {
  for (let i = 0; i < values.length; i += 1000) {
    const messages = values.slice(i, i + 1000).map((value, j) => ({ key: keys[i + j]!, value }));
    await producer.send({ topic, acks: 1, messages });
  }
}

async function main(): Promise<void> {
  const brokers = process.env.KAFKA_BROKERS;
  const chUrl = process.env.CLICKHOUSE_URL;
  if (!brokers || !chUrl) {
    console.log(
      "writer bench skipped: KAFKA_BROKERS and CLICKHOUSE_URL must be set (deploy/local/klagg-infra env)",
    );
    return;
  }
  const kafka = new Kafka({
    clientId: "writer-bench",
    brokers: brokers.split(","),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer();
  await producer.connect();
  const topic = `klagg-writer-bench-${id}`;
  const database = `klagg_bench_${id}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
  const env = (extra: Record<string, string> = {}) =>
    parseWriterConfig({
      KLAGG_KAFKA_BROKERS: brokers,
      KLAGG_CLICKHOUSE_URL: chUrl,
      KLAGG_KAFKA_TOPIC: topic,
      KLAGG_CLICKHOUSE_DATABASE: database,
      KLAGG_WRITER_GROUP: `bench-${id}`,
      ...extra,
    });
  const ch = new ClickHouseSink({ url: chUrl, database, requestTimeoutMs: 60_000 });
  try {
    // 1. Throughput on a backlog.
    const epoch = Date.UTC(2024, 7, 8, 23, 0, 0);
    const values: Buffer[] = [];
    const keys: string[] = [];
    for (let t = 0; t < TICKS; t++) {
      for (let s = 0; s < SYMBOLS; s++) {
        values.push(
          Buffer.from(batchBytes(symbolBatch(symbolName(s), epoch + t * 100, t + 1).map((k) => kline(k)))),
        );
        keys.push(symbolName(s));
      }
    }
    const rowsTotal = values.length * INTERVALS.length;
    const mb = values.reduce((n, v) => n + v.length, 0) / 1e6;
    await produceAll(producer, topic, values, keys);
    console.log(
      `backlog: ${values.length} messages, ${rowsTotal} rows, ${mb.toFixed(1)} MB, ${SYMBOLS} symbols`,
    );

    const writer = createWriter(env(), { log: quiet });
    // Joining the group costs seconds (the broker's initial rebalance delay): time from the first row consumed.
    let start = 0;
    const watch = setInterval(() => {
      void writer.metrics.rowsIn.get().then((m) => {
        if (start === 0 && (m.values[0]?.value ?? 0) > 0) start = performance.now();
      });
    }, 5);
    const t0 = performance.now();
    // CPU of this process while the writer joins and drains (nothing else runs here then): load-independent.
    const cpu0 = process.cpuUsage();
    await writer.start();
    await writer.flushed();
    const cpu = process.cpuUsage(cpu0);
    clearInterval(watch);
    const secs = (performance.now() - start) / 1000;
    const cpuSecs = (cpu.user + cpu.system) / 1e6;
    console.log(`start + group join: ${((start - t0) / 1000).toFixed(2)} s (not counted)`);
    await writer.stop();
    const written = (await writer.metrics.rowsWritten.get()).values[0]?.value ?? 0;
    const hist = (await writer.metrics.batchRows.get()).values;
    const inserts = hist.find((v) => v.metricName?.endsWith("_count"))?.value ?? 0;
    const rate = rowsTotal / secs;
    console.log(
      `coalescing writer: ${rowsTotal} rows consumed in ${secs.toFixed(2)} s = ${Math.round(rate)} rows/s ` +
        `(goal 200,000), ${written} rows written in ${inserts} INSERTs (${Math.round(written / inserts)} rows each, ` +
        `${(inserts / secs).toFixed(2)} INSERT/s)`,
    );
    console.log(
      `writer CPU (join + drain, this process): ${cpuSecs.toFixed(2)} s = ${Math.round(rowsTotal / cpuSecs)} ` +
        `rows per CPU-second; load average ${loadavg()
          .map((x) => x.toFixed(2))
          .join(" ")}`,
    );

    // Baseline: one INSERT per message, as a naive consumer would do.
    const baseStart = performance.now();
    let baseRows = 0;
    for (const v of values.slice(0, BASELINE_MESSAGES)) {
      const r = decodeKlineMessage(v);
      if (!r.ok) throw new Error(r.detail);
      await ch.insert(r.rows.map((x) => x.tsv));
      baseRows += r.rows.length;
    }
    const baseRate = baseRows / ((performance.now() - baseStart) / 1000);
    console.log(
      `baseline (one INSERT per message, ${BASELINE_MESSAGES} messages): ${Math.round(baseRate)} rows/s; ` +
        `coalescing writer is ${(rate / baseRate).toFixed(1)}x faster`,
    );

    // 2. Close-to-readable latency with a live producer.
    const latencies: number[] = [];
    let liveStart = Infinity;
    const live = createWriter(env({ KLAGG_WRITER_GROUP: `bench-live-${id}` }), {
      log: quiet,
      onInserted: (rows, endedAt) => {
        for (const r of rows)
          if (r.closedAt !== undefined && r.closedAt > liveStart) latencies.push(endedAt - r.closedAt);
      },
    });
    await live.start();
    await live.flushed(); // the backlog is history: latency counts only live klines
    liveStart = Date.now();
    let version = 1_000_000;
    let lastSecond = Math.floor(liveStart / 1000);
    while (Date.now() - liveStart < LIVE_SECONDS * 1000) {
      const now = Date.now();
      const second = Math.floor(now / 1000);
      const closed = second > lastSecond ? second * 1000 - 1 : undefined;
      lastSecond = second;
      version++;
      const vals: Buffer[] = [];
      const ks: string[] = [];
      for (let s = 0; s < LIVE_SYMBOLS; s++) {
        vals.push(
          Buffer.from(batchBytes(symbolBatch(symbolName(s), now, version, closed).map((k) => kline(k)))),
        );
        ks.push(symbolName(s));
      }
      await produceAll(producer, topic, vals, ks);
      await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - now))));
    }
    await live.flushed();
    await live.stop();
    console.log(
      `close -> readable (${latencies.length} closed klines, ${LIVE_SYMBOLS} symbols x 17 klines every 100 ms): ` +
        `p50 ${percentile(latencies, 50)} ms, p90 ${percentile(latencies, 90)} ms, ` +
        `p99 ${percentile(latencies, 99)} ms (goal < 2000 ms), max ${Math.max(...latencies)} ms`,
    );
  } finally {
    await ch.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
    await ch.close();
    await admin.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => undefined);
    await admin.deleteGroups([`bench-${id}`, `bench-live-${id}`]).catch(() => undefined);
    await producer.disconnect();
    await admin.disconnect();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
