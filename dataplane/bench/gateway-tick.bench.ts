/**
 * Gateway tick cost: 5,000 symbols x 16 intervals (80,000 slots) over 8
 * in-process workers (625 symbols each), 10% of the klines changed per tick.
 * Measured per tick: apply the answers, build and encode the immutable
 * snapshot and update, hand off to the Kafka queue, publish to an in-memory
 * publisher. The pulls are fakes that resolve at once with answers prepared
 * before the tick (decoding belongs to the gRPC client, not to the tick). The
 * answers carry symbol refs, as the worker's encoder sends them.
 *
 * Old vs new in the same run, tick by tick on the same answers: "old" = the
 * gateway fed decoded kline objects (re-encodes every changed kline), "new" =
 * fed raw kline bytes (`WorkerClient` with `rawKlines`, what `createGateway`
 * uses). Their snapshots are compared byte for byte after every tick. The
 * gRPC client's decoding of the answers (objects vs raw) is timed apart.
 * Also printed: the naive tick of the design we started from (copy the whole
 * state into messages and encode the full Snapshot with protobuf-es).
 * The newest snapshot of each pattern is also decoded with protobuf-es and
 * compared with the newest kline of every slot (content check of the
 * fixed-slot encoding). Per pattern, a memory floor (`memory-floor.ts`: the
 * bare random writes of a uniform tick) is timed in the same loop under the
 * same conditions, and the tick is printed as a ratio of it; the floor is also
 * timed back to back, without the idle before each run: on this VM, memory-bound
 * work right after an idle period runs several times slower.
 * Env: BENCH_TICKS, BENCH_WARMUP, BENCH_OLD=0 (new path only),
 * BENCH_FULL_BASELINE=0 (skip the naive tick), BENCH_SETTLE_MS, BENCH_HOLD=1
 * (the publisher holds each snapshot through the next tick), BENCH_PATTERNS=uniform
 * (one pattern only; default "trades,uniform").
 * Run: node --expose-gc dataplane/dist/bench/gateway-tick.bench.js
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { KlineSchema, type Kline } from "../src/gen/klagg/v1/kline_pb.js";
import { SnapshotSchema } from "../src/gen/klagg/v1/snapshot_pb.js";
import { parseGatewayConfig } from "../src/config/gateway.js";
import { INTERVALS, type Interval, type KlineRecord } from "../src/core/types.js";
import { decodePullChunk } from "../src/grpc/pull-decoder.js";
import { encodePullChunk, symbolRefsOf } from "../src/grpc/pull-encoder.js";
import { decodePullChunkRaw } from "../src/grpc/pull-raw-decoder.js";
import { RawKlineList } from "../src/grpc/raw-klines.js";
import { toProtoKline } from "../src/grpc/kline-proto.js";
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
  SnapshotLease,
  SnapshotPublisher,
  WorkerPuller,
} from "../src/gateway/ports.js";
import { Registry } from "prom-client";
import { loadavg } from "node:os";
import { MemoryFloor } from "./memory-floor.js";
import { rng } from "./rng.js";

const SYMBOLS = 5000;
const WORKERS = 8;
const CHANGED = 0.1;
const WARMUP = Number(process.env.BENCH_WARMUP ?? 40);
const TICKS = Number(process.env.BENCH_TICKS ?? 200);
const T0 = Date.UTC(2024, 7, 8, 23, 0, 0);
/** Klines per PullChunk (the worker's chunking keeps chunks well under 4 MiB). */
const CHUNK = 4000;
/** Pause after the forced GC between ticks (BENCH_SETTLE_MS). */
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 30);

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

/** A kline as the worker holds it (encoded by the worker's Pull encoder). */
function kline(sym: string, iv: Interval, closed: boolean): KlineRecord {
  return {
    symbol: sym,
    interval: iv,
    openTime: T0,
    closeTime: T0 + 59_999,
    open: pick(prices),
    high: pick(prices),
    low: pick(prices),
    close: pick(prices),
    volume: pick(volumes),
    quoteVolume: pick(quotes),
    trades: Math.floor(r() * 5000),
    takerBuyVolume: pick(volumes),
    takerBuyQuoteVolume: pick(quotes),
    firstTradeId: 3_000_000_000,
    lastTradeId: 3_000_000_000 + Math.floor(r() * 5000),
    closed,
    version: ++version,
  };
}

/**
 * How the changed 10% are spread: "trades" = a trade updates all 16 intervals of its
 * symbol, so 10% of the symbols change completely (what a market does); "uniform" =
 * 10% of the slots at random (worst case for the incremental copy).
 */
type Pattern = "trades" | "uniform";

/**
 * One worker's next answer, encoded into PullChunks by the worker's encoder and decoded
 * outside the tick both ways the gRPC client can: into objects (the old path: what
 * `WorkerClient` returns by default) and into raw kline bytes (`rawKlines: true`).
 */
class PreparedAnswer {
  objects!: PullResult;
  raw!: PullResult;
  /** The newest kline of each of this worker's symbol x interval (what the snapshot must hold). */
  readonly newest = new Map<string, KlineRecord>();
  /** Symbol -> index in `mine`: the symbol refs the worker sends with each kline. */
  private readonly refIndex: ReadonlyMap<string, number>;
  constructor(
    readonly name: string,
    readonly mine: readonly string[],
  ) {
    this.refIndex = new Map(mine.map((s, i) => [s, i]));
    const all: KlineRecord[] = [];
    for (const s of mine) for (const iv of INTERVALS) all.push(kline(s, iv, false));
    this.set(all, true);
  }
  prepare(pattern: Pattern): void {
    const n = Math.round(this.mine.length * INTERVALS.length * CHANGED);
    const ks: KlineRecord[] = [];
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
    this.set(ks, false);
  }
  private set(ks: KlineRecord[], full: boolean): void {
    for (const k of ks) this.newest.set(`${k.symbol}|${k.interval}`, k);
    const head = { worker: this.name, epoch: 1, version, full, sourceDone: false };
    const chunks: Buffer[] = [];
    for (let from = 0, c = 0; from < ks.length || c === 0; from += CHUNK, c++) {
      const to = Math.min(ks.length, from + CHUNK);
      const refs = symbolRefsOf(ks, from, to, this.refIndex);
      chunks.push(
        encodePullChunk(head, to === ks.length, c, ks, from, to, c === 0 && full ? this.mine : [], refs),
      );
    }
    // The gRPC client's decoding, both ways, timed apart from the tick (CPU time of this thread only).
    let c0 = process.cpuUsage();
    const objects: Kline[] = [];
    for (const c of chunks) for (const k of decodePullChunk(c).klines) objects.push(k);
    let c1 = process.cpuUsage(c0);
    decodeCpu.objects += (c1.user + c1.system) / 1000;
    c0 = process.cpuUsage();
    const raw = new RawKlineList(ks.length);
    for (const c of chunks) decodePullChunkRaw(c, raw);
    c1 = process.cpuUsage(c0);
    decodeCpu.raw += (c1.user + c1.system) / 1000;
    const base = { ...head, symbols: full ? this.mine : [] };
    this.objects = { ...base, klines: objects };
    this.raw = { ...base, klines: [], raw };
  }
}

/** CPU ms spent decoding prepared answers, per decoding mode (reset per tick). */
const decodeCpu = { objects: 0, raw: 0 };

/** A worker whose answer is whatever the bench prepared. */
class PreparedWorker implements WorkerPuller {
  constructor(
    readonly answer: PreparedAnswer,
    readonly rawMode: boolean,
  ) {}
  pull(_req: PullRequestArgs): Promise<PullResult> {
    return Promise.resolve(this.rawMode ? this.answer.raw : this.answer.objects);
  }
}

/**
 * BENCH_HOLD=1: the publisher keeps a lease on each snapshot until the next one arrives, like a Redis
 * publisher still sending it when the next tick runs; the gateway then cannot patch that buffer in place
 * and writes the double buffer (catching it up with the previous tick's slots) instead.
 */
const HOLD = process.env.BENCH_HOLD === "1";

class MemoryPublisher implements SnapshotPublisher {
  readonly name = "memory";
  latest: GatewaySnapshot | undefined;
  bytes = 0;
  private lease: SnapshotLease | undefined;
  publish(s: GatewaySnapshot): void {
    this.latest = s;
    this.bytes = s.bytes.length;
    if (HOLD) {
      this.lease?.release();
      this.lease = s.retain();
    }
  }
  async stop(): Promise<void> {}
}

const nullProducer: KafkaProducerPort = { send: async () => {}, close: async () => {} };

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

interface Rig {
  readonly label: string;
  readonly gw: Gateway;
  readonly kafka: KafkaHandoff;
  readonly pub: MemoryPublisher;
}

function rig(
  label: string,
  config: ReturnType<typeof parseGatewayConfig>,
  answers: PreparedAnswer[],
  rawMode: boolean,
): Rig {
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
    workers: answers.map((a, i) => ({
      endpoint: config.workers[i]!,
      puller: new PreparedWorker(a, rawMode),
    })),
    publishers: [pub],
    kafka,
    log,
    metrics,
    // One fixed clock for both gateways: same seq, time and epoch, so their snapshots must be byte-identical.
    now: () => T0,
  });
  kafka.start();
  return { label, gw, kafka, pub };
}

/**
 * Whether `bytes` decode (protobuf-es) to exactly the newest klines of every slot in slot order, with the
 * tick's seq: the content check of the fixed-slot encoding (its padding field is dropped before comparing).
 */
function decodesToNewest(bytes: Uint8Array, answers: PreparedAnswer[], seq: number): boolean {
  const got = fromBinary(SnapshotSchema, bytes);
  got.padding = new Uint8Array(0);
  const klines: Kline[] = [];
  for (const a of answers)
    for (const sym of a.mine)
      for (const iv of INTERVALS) {
        const k = a.newest.get(`${sym}|${iv}`);
        if (k !== undefined) klines.push(toProtoKline(k));
      }
  const want = create(SnapshotSchema, {
    aggregator: "local",
    seq: BigInt(seq),
    time: BigInt(T0),
    klines,
    gatewayEpoch: BigInt(T0),
  });
  return Buffer.compare(toBinary(SnapshotSchema, got), toBinary(SnapshotSchema, want)) === 0;
}

const gc = (globalThis as { gc?: () => void }).gc;
const fmt = (xs: number[]): string => `p50 ${pct(xs, 50).toFixed(2)} ms, p99 ${pct(xs, 99).toFixed(2)} ms`;

async function main(): Promise<void> {
  const config = parseGatewayConfig({
    KLAGG_WORKERS: Array.from({ length: WORKERS }, (_, i) => `w${i}=127.0.0.1:${7000 + i}`).join(","),
    KLAGG_SYMBOLS: symbols.join(","),
    KLAGG_KAFKA_QUEUE_LIMIT: "2000000",
  });
  const per = SYMBOLS / WORKERS;
  const answers = Array.from(
    { length: WORKERS },
    (_, i) => new PreparedAnswer(`w${i}`, symbols.slice(i * per, (i + 1) * per)),
  );
  // Old: the gateway decodes klines into objects and re-encodes them. New: raw kline bytes copied as is.
  const all = [
    rig("old (objects, re-encode)", config, answers, false),
    rig("new (raw bytes)", config, answers, true),
  ];
  // BENCH_OLD=0: the new path only (profiling).
  const rigs = process.env.BENCH_OLD === "0" ? all.slice(1) : all;
  for (const x of rigs) {
    const full = await x.gw.tickOnce();
    console.log(
      `${x.label}: ${SYMBOLS} symbols x ${INTERVALS.length} intervals = ${SYMBOLS * INTERVALS.length} slots, ` +
        `${WORKERS} workers; first (full) tick ${full.durationMs.toFixed(1)} ms, snapshot ${(x.pub.bytes / 1e6).toFixed(1)} MB`,
    );
  }
  let identical = true;
  let decodedOk = true;
  // The memory floor: as many random kline-sized writes as a uniform tick's changes, into a buffer the
  // snapshot's size (see memory-floor.ts), timed in the same loop under the same conditions as the ticks.
  const floor = new MemoryFloor(
    SYMBOLS * INTERVALS.length,
    rigs[0]!.pub.bytes,
    Math.round(SYMBOLS * INTERVALS.length * CHANGED),
    180,
    rng(11),
  );
  // Before each measured tick (and floor run): let the Kafka sender run, as it does between ticks in the real
  // loop; then, since the preparation (records, chunks, decoded objects) is garbage the tick must not pay
  // for, a forced GC and a pause that lets V8's background sweeper finish (process CPU time counts every thread).
  const settle = async (): Promise<void> => {
    await new Promise((res) => setImmediate(res));
    if (gc !== undefined) {
      gc();
      await new Promise((res) => setTimeout(res, SETTLE_MS));
    }
  };
  const run = async (pattern: Pattern, ticks: number): Promise<number> => {
    const floorMs: number[] = [];
    const wall = rigs.map((): number[] => []);
    const cpu = rigs.map((): number[] => []);
    const dec = { objects: [] as number[], raw: [] as number[] };
    for (let t = 0; t < WARMUP + ticks; t++) {
      decodeCpu.objects = decodeCpu.raw = 0;
      for (const a of answers) a.prepare(pattern);
      if (t >= WARMUP) {
        dec.objects.push(decodeCpu.objects);
        dec.raw.push(decodeCpu.raw);
      }
      // Alternate who goes first, so neither always inherits the other's garbage.
      for (let j = 0; j < rigs.length; j++) {
        const k = (j + t) % rigs.length;
        await settle();
        const c0 = process.cpuUsage();
        const rep = await rigs[k]!.gw.tickOnce();
        const c1 = process.cpuUsage(c0);
        if (t >= WARMUP) {
          wall[k]!.push(rep.durationMs);
          cpu[k]!.push((c1.user + c1.system) / 1000);
        }
      }
      floor.prepare();
      await settle();
      const f = floor.run();
      if (t >= WARMUP) floorMs.push(f);
      const [a, b] = all.map((x) => x.pub.latest?.bytes);
      if (rigs.length === 2 && (a === undefined || b === undefined || Buffer.compare(a, b) !== 0)) {
        identical = false;
      }
    }
    const latest = rigs[rigs.length - 1]!.pub.latest;
    const content = latest !== undefined && decodesToNewest(latest.bytes, answers, latest.seq);
    if (!content) decodedOk = false;
    console.log(
      `  ${pattern}: newest snapshot decodes to the newest kline of every slot: ${content ? "yes" : "NO"}`,
    );
    const changed = latest?.changedCount ?? 0;
    console.log(
      `  ${pattern}: snapshot writes so far${HOLD ? " (BENCH_HOLD: publisher holds the newest)" : ""}: ` +
        JSON.stringify(rigs[rigs.length - 1]!.gw.snapshotStats()),
    );
    // Wall time suffers from the other tenants of this shared 2-core machine; CPU time is the tick's own cost.
    rigs.forEach((x, k) =>
      console.log(
        `gateway tick, ${pattern} pattern, ${x.label} (${changed} klines changed/tick, ${ticks} ticks): ` +
          `wall ${fmt(wall[k]!)}; CPU ${fmt(cpu[k]!)} (goal: p99 < 10 ms)`,
      ),
    );
    const hot: number[] = [];
    for (let i = 0; i < 100; i++) {
      floor.prepare();
      hot.push(floor.run());
    }
    const newWall = wall[rigs.length - 1]!;
    console.log(
      `  ${pattern}: memory floor (${floor.changes} random 180-byte copies into a ${(rigs[0]!.pub.bytes / 1e6).toFixed(1)} MB ` +
        `buffer + record reads, same conditions): ${fmt(floorMs)}; new tick / floor: p50 ` +
        `${(pct(newWall, 50) / pct(floorMs, 50)).toFixed(1)}x, p99 ${(pct(newWall, 99) / pct(floorMs, 99)).toFixed(1)}x; ` +
        `the floor back to back (no idle before it): ${fmt(hot)}`,
    );
    console.log(
      `  ${pattern}: gRPC client decode of the 8 answers (outside the tick): objects ${fmt(dec.objects)}, ` +
        `raw ${fmt(dec.raw)}`,
    );
    if (rigs.length === 2)
      console.log(
        `  ${pattern}: new vs old CPU p50 ${(pct(cpu[0]!, 50) / pct(cpu[1]!, 50)).toFixed(1)}x, ` +
          `p99 ${(pct(cpu[0]!, 99) / pct(cpu[1]!, 99)).toFixed(1)}x faster; load avg ${loadavg()[0]!.toFixed(1)}`,
      );
    return pct(wall[rigs.length - 1]!, 50);
  };
  const patterns = (process.env.BENCH_PATTERNS ?? "trades,uniform").split(",");
  const p50 = patterns.includes("trades") ? await run("trades", TICKS) : NaN;
  // As many ticks as the trades pattern: with 100, "p99" would be the slowest tick.
  if (patterns.includes("uniform")) await run("uniform", TICKS);
  console.log(
    rigs.length === 2
      ? `old and new snapshots byte-identical after every tick: ${identical ? "yes" : "NO"}`
      : "old path skipped (BENCH_OLD=0): snapshots not compared",
  );

  if (process.env.BENCH_FULL_BASELINE !== "0") {
    // Baseline: rebuild every kline message from the state and encode the whole Snapshot with protobuf-es.
    const allKlines: Kline[] = [];
    for (const s of symbols) for (const iv of INTERVALS) allKlines.push(toProtoKline(kline(s, iv, false)));
    const t = performance.now();
    const copy = allKlines.map((k) => create(KlineSchema, { ...k }));
    toBinary(SnapshotSchema, create(SnapshotSchema, { aggregator: "local", seq: 1n, klines: copy }));
    const b = performance.now() - t;
    console.log(
      `baseline (copy state + protobuf-es encode of the full snapshot per tick): ${b.toFixed(1)} ms/tick; ` +
        (Number.isNaN(p50) ? "" : `new incremental tick wall p50 is ${(b / p50).toFixed(0)}x faster`),
    );
  }
  for (const x of all) {
    await x.gw.stop();
    await x.kafka.stop(1000);
  }
  if (!identical || !decodedOk) process.exitCode = 1;
}

await main();
