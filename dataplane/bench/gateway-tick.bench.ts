/**
 * Gateway tick cost: 5,000 symbols x 16 intervals (80,000 slots) over 8
 * in-process workers (625 symbols each), 10% of the klines changed per tick.
 * Measured per tick: apply the answers, build and encode the immutable
 * snapshot and update, hand off to the Kafka queue, publish to an in-memory
 * publisher. The pulls are fakes that resolve at once with answers prepared
 * before the tick (decoding belongs to the gRPC client, not to the tick).
 *
 * Baseline in the same process: the naive tick of the design we started from
 * (copy the whole state into messages and encode the full Snapshot with
 * protobuf-es on every tick).
 * Run: node --expose-gc dataplane/dist/bench/gateway-tick.bench.js
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { KlineSchema, type Kline } from "../src/gen/klagg/v1/kline_pb.js";
import { SnapshotSchema } from "../src/gen/klagg/v1/snapshot_pb.js";
import { parseGatewayConfig } from "../src/config/gateway.js";
import { INTERVALS } from "../src/core/types.js";
import { Gateway } from "../src/gateway/gateway.js";
import { KafkaHandoff } from "../src/gateway/kafka-handoff.js";
import { StateLayout } from "../src/gateway/global-state.js";
import { createLogger } from "../src/obs/log.js";
import { createGatewayMetrics } from "../src/gateway/metrics.js";
import type {
  GatewaySnapshot,
  KafkaProducerPort,
  PullRequestArgs,
  PullResult,
  SnapshotPublisher,
  WireKline,
  WorkerPuller,
} from "../src/gateway/ports.js";
import { Registry } from "prom-client";
import { loadavg } from "node:os";

const SYMBOLS = 5000;
const WORKERS = 8;
const CHANGED = 0.1;
const WARMUP = Number(process.env.BENCH_WARMUP ?? 40);
const TICKS = Number(process.env.BENCH_TICKS ?? 200);
const T0 = Date.UTC(2024, 7, 8, 23, 0, 0);

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const r = rng(7);
const symbols = Array.from({ length: SYMBOLS }, (_, i) => `SYM${i}USDT`);
const dec = (units: number, d: number): string => {
  const s = String(units).padStart(d + 1, "0");
  return `${s.slice(0, s.length - d)}.${s.slice(s.length - d)}`;
};

let version = 1_700_000_000_000_000;
// A pool of realistic decimal strings (8 price decimals, 16 quote-volume decimals), built once.
const prices = Array.from({ length: 4096 }, () => dec(1_000_000 + Math.floor(r() * 9_000_000_000), 8));
const volumes = Array.from({ length: 4096 }, () => dec(Math.floor(r() * 1e9), 8));
const quotes = Array.from({ length: 4096 }, () => dec(Math.floor(r() * 1e15), 16));
const pick = (a: string[]): string => a[Math.floor(r() * a.length)]!;

/** A wire kline as the gRPC client hands it over (64-bit fields as bigint). */
function kline(sym: string, iv: string, closed: boolean): WireKline {
  return {
    symbol: sym,
    interval: iv,
    openTime: BigInt(T0),
    closeTime: BigInt(T0 + 59_999),
    open: pick(prices),
    high: pick(prices),
    low: pick(prices),
    close: pick(prices),
    volume: pick(volumes),
    quoteVolume: pick(quotes),
    trades: BigInt(Math.floor(r() * 5000)),
    takerBuyVolume: pick(volumes),
    takerBuyQuoteVolume: pick(quotes),
    firstTradeId: 3_000_000_000n,
    lastTradeId: BigInt(3_000_000_000 + Math.floor(r() * 5000)),
    closed,
    version: BigInt(++version),
  };
}

/**
 * How the changed 10% are spread: "trades" = a trade updates all 16 intervals of its
 * symbol, so 10% of the symbols change completely (what a market does); "uniform" =
 * 10% of the slots at random (worst case for the incremental copy).
 */
type Pattern = "trades" | "uniform";

/** A worker whose next answer is set before each tick. */
class PreparedWorker implements WorkerPuller {
  next: PullResult;
  constructor(
    readonly name: string,
    readonly mine: readonly string[],
  ) {
    const all: WireKline[] = [];
    for (const s of mine) for (const iv of INTERVALS) all.push(kline(s, iv, false));
    this.next = {
      worker: name,
      epoch: 1,
      version: version,
      full: true,
      sourceDone: false,
      symbols: mine,
      klines: all,
    };
  }
  prepare(pattern: Pattern): void {
    const n = Math.round(this.mine.length * INTERVALS.length * CHANGED);
    const ks: WireKline[] = [];
    // ~1 in 50 changes is a close (the shortest intervals close every second).
    if (pattern === "trades") {
      for (let i = 0; i < n / INTERVALS.length; i++) {
        const s = this.mine[Math.floor(r() * this.mine.length)]!;
        for (const iv of INTERVALS) ks.push(kline(s, iv, r() < 0.02));
      }
    } else {
      for (let i = 0; i < n; i++) {
        const s = this.mine[Math.floor(r() * this.mine.length)]!;
        ks.push(kline(s, INTERVALS[Math.floor(r() * INTERVALS.length)]!, r() < 0.02));
      }
    }
    this.next = {
      worker: this.name,
      epoch: 1,
      version,
      full: false,
      sourceDone: false,
      symbols: [],
      klines: ks,
    };
  }
  pull(_req: PullRequestArgs): Promise<PullResult> {
    return Promise.resolve(this.next);
  }
}

class MemoryPublisher implements SnapshotPublisher {
  readonly name = "memory";
  latest: GatewaySnapshot | undefined;
  bytes = 0;
  publish(s: GatewaySnapshot): void {
    this.latest = s;
    this.bytes = s.bytes.length;
  }
  async stop(): Promise<void> {}
}

const nullProducer: KafkaProducerPort = { send: async () => {}, close: async () => {} };

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function main(): Promise<void> {
  const config = parseGatewayConfig({
    KLAGG_WORKERS: Array.from({ length: WORKERS }, (_, i) => `w${i}=127.0.0.1:${7000 + i}`).join(","),
    KLAGG_SYMBOLS: symbols.join(","),
    KLAGG_KAFKA_QUEUE_LIMIT: "2000000",
  });
  const per = SYMBOLS / WORKERS;
  const workers = Array.from(
    { length: WORKERS },
    (_, i) => new PreparedWorker(`w${i}`, symbols.slice(i * per, (i + 1) * per)),
  );
  const log = createLogger("bench", { level: "warn" });
  const metrics = createGatewayMetrics(new Registry());
  const kafka = new KafkaHandoff(
    nullProducer,
    new StateLayout(config.symbols, config.intervals),
    { aggregator: config.name, limit: config.kafkaQueueLimit },
    log,
    metrics,
  );
  const pub = new MemoryPublisher();
  const gw = new Gateway(config, {
    workers: workers.map((w, i) => ({ endpoint: config.workers[i]!, puller: w })),
    publishers: [pub],
    kafka,
    log,
    metrics,
  });
  kafka.start();
  const full = await gw.tickOnce();
  console.log(
    `setup: ${SYMBOLS} symbols x ${INTERVALS.length} intervals = ${SYMBOLS * INTERVALS.length} slots, ${WORKERS} workers; ` +
      `first (full) tick ${full.durationMs.toFixed(1)} ms, snapshot ${(pub.bytes / 1e6).toFixed(1)} MB`,
  );
  const run = async (pattern: Pattern, ticks: number): Promise<number> => {
    const times: number[] = [];
    const cpu: number[] = [];
    for (let t = 0; t < WARMUP + ticks; t++) {
      for (const w of workers) w.prepare(pattern);
      // Let the Kafka sender run between ticks, as it does in the real loop.
      await new Promise((res) => setImmediate(res));
      const c0 = process.cpuUsage();
      const rep = await gw.tickOnce();
      const c1 = process.cpuUsage(c0);
      if (t >= WARMUP) {
        times.push(rep.durationMs);
        cpu.push((c1.user + c1.system) / 1000);
      }
    }
    const changed = pub.latest?.changedCount ?? 0;
    const p50 = pct(times, 50);
    // Wall time suffers from the other tenants of this shared 2-core machine; CPU time is the tick's own cost.
    console.log(
      `gateway tick, ${pattern} pattern (${changed} klines changed/tick, ${ticks} ticks): ` +
        `wall p50 ${p50.toFixed(2)} ms, p99 ${pct(times, 99).toFixed(2)} ms; ` +
        `CPU p50 ${pct(cpu, 50).toFixed(2)} ms, p99 ${pct(cpu, 99).toFixed(2)} ms (goal: p99 < 10 ms); ` +
        `load avg ${loadavg()[0]!.toFixed(1)}`,
    );
    return p50;
  };
  const p50 = await run("trades", TICKS);
  await run("uniform", Math.round(TICKS / 2));

  // Baseline: rebuild every kline message from the state and encode the whole Snapshot with protobuf-es.
  const allKlines: Kline[] = [];
  for (const s of symbols)
    for (const iv of INTERVALS)
      allKlines.push(
        create(KlineSchema, kline(s, iv, false) as Parameters<typeof create<typeof KlineSchema>>[1]),
      );
  const base: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const copy = allKlines.map((k) => create(KlineSchema, { ...k }));
    toBinary(SnapshotSchema, create(SnapshotSchema, { aggregator: "local", seq: BigInt(i), klines: copy }));
    base.push(performance.now() - t);
  }
  const b50 = pct(base, 50);
  console.log(
    `baseline (copy state + protobuf-es encode of the full snapshot per tick): ${b50.toFixed(1)} ms/tick; ` +
      `incremental tick p50 is ${(b50 / p50).toFixed(1)}x faster`,
  );
  await gw.stop();
  await kafka.stop(1000);
}

await main();
