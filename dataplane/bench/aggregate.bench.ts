/**
 * Aggregation throughput: our engine vs tardis-dev's computeTradeBars on the
 * same synthetic trades (2,000 symbols x all 16 intervals; the mix is described
 * in aggregate-market.ts), plus memory per 1,000 symbols and the cost of a pull
 * with 10% of the klines changed.
 *
 * The engine is fed two ways: parsed trades (`ingestParsed`: symbol index and
 * exact scaled integers, the aggregation itself; tardis-dev likewise gets
 * trades whose numbers are already parsed) and Binance-style trades with
 * decimal strings (`ingest`: parsing plus aggregation).
 *
 * Pulls are measured the way the worker answers them: `engine.pullRows` into
 * the gRPC answer's PullChunk bytes (`PullAnswerBuilder`, everything but the
 * socket write). The object API `engine.pull` (KlineRecord objects with decimal
 * strings, what earlier versions of this bench counted) is measured next to it.
 * Throughput is that of the steady state: trades after the first minute of
 * market time, when every slot already holds a kline (a worker runs for
 * hours). A fresh engine's first 30 s, where each of the 32,000 slots opens its
 * first kline and the tables are first touched, is printed next to it ("cold").
 * BENCH_TRADES sets the count (default 3,000,000 = 5 min of market time);
 * memory and the pull cost use the first 300,000 (30 s).
 * Run: node --expose-gc dataplane/dist/bench/aggregate.bench.js
 */
import { loadavg } from "node:os";
import { parseDecimal } from "../src/core/decimal.js";
import { createEngine } from "../src/core/engine.js";
import type { KlineEngine } from "../src/core/engine-api.js";
import { INTERVALS, type RawTrade, type RejectReason } from "../src/core/types.js";
import { parseInterval } from "../src/core/intervals.js";
import { PullAnswerBuilder, type AnswerOptions } from "../src/grpc/pull-answer.js";
import { makeMarket, rawTrades, SYMBOLS, TRADES_PER_SECOND, type Market } from "./aggregate-market.js";
import { TardisPeer } from "./tardis-peer.js";

const TRADES = Number(process.env.BENCH_TRADES ?? 3_000_000);
/** Trades of the cold figure (a fresh engine's first 30 s), of the memory figure and of the pull cost. */
const COLD_TRADES = 300_000;
/** Trades between two acknowledging pulls in the throughput runs (a 100 ms gateway tick at ~500k trades/s). */
const ACK_EVERY = 50_000;

/** BENCH_INTERVALS=1m,1h narrows the engine's intervals, for profiling. */
const ENGINE_INTERVALS = process.env.BENCH_INTERVALS?.split(",").map((s) => parseInterval(s)!) ?? INTERVALS;

function newEngine(symbols: string[], epoch = 1): KlineEngine {
  return createEngine({
    symbols,
    intervals: ENGINE_INTERVALS,
    epoch,
    emptyKlines: true,
    graceMs: 2000,
    utcOffsetMinutes: 0,
  });
}

/**
 * CPU seconds of this process since `from` (user + system). The benchmark machine is shared, so CPU time
 * is a steadier measure than wall time; both are single-threaded work here.
 */
function cpuSeconds(from: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1e6;
}

function memoryBytes(): number {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * How the pulls of a run answer: PullChunk bytes from the engine's rows as the worker sends them, KlineRecord
 * objects (`engine.pull`), or KlineRecord objects encoded by `encodePullChunk` (the worker's previous path).
 */
type PullMode = "wire" | "records" | "records-wire";

const ANSWER: Omit<AnswerOptions, "symbols"> = {
  worker: "bench",
  sourceDone: false,
  maxCount: 4096,
  maxBytes: 1024 * 1024,
};

/** A pull acknowledging `ack`: its version and number of klines. */
function pullOnce(
  engine: KlineEngine,
  builder: PullAnswerBuilder,
  mode: PullMode,
  epoch: number,
  ack: number,
): { version: number; klines: number } {
  if (mode === "records") {
    const v = engine.pull(epoch, ack);
    return { version: v.version, klines: v.klines.length };
  }
  const b = mode === "wire" ? builder : new PullAnswerBuilder({ pull: (e, a) => engine.pull(e, a) });
  const a = b.answer(epoch, ack, { ...ANSWER, symbols: engine.symbols });
  let bytes = 0;
  for (const c of a.chunks) bytes += c.length;
  if (a.head.count > 0 && bytes === 0) throw new Error("empty answer");
  return { version: a.head.version, klines: a.head.count };
}

/**
 * Throughput of one configuration: trades per CPU second of ingestion alone and with the pulls counted (steady
 * state), and of ingestion in a fresh engine's first COLD_TRADES trades.
 */
interface EngineRate {
  readonly ingest: number;
  readonly cold: number;
  readonly withPulls: number;
  /** Mean klines per pull answer. */
  readonly klinesPerPull: number;
}

/**
 * Trade i of the market into the engine: parsed (`raw` undefined) or from decimal strings; `id` replaces its
 * trade id (parsed only).
 */
function ingestOne(
  engine: KlineEngine,
  m: Market,
  raw: RawTrade[] | undefined,
  i: number,
  id = m.id[i]!,
): RejectReason | undefined {
  if (raw !== undefined) return engine.ingest(raw[i]!);
  const { symbol, time, price, priceDec, qty, qtyDec, buyerMaker } = m;
  return engine.ingestParsed(
    symbol[i]!,
    time[i]!,
    price[i]!,
    priceDec[i]!,
    qty[i]!,
    qtyDec[i]!,
    id,
    id,
    buyerMaker[i] === 1,
  );
}

/** Trades from..to-1 into the engine (a function of its own, so the JIT optimizes it whole, not by OSR). */
function feed(engine: KlineEngine, m: Market, raw: RawTrade[] | undefined, from: number, to: number): void {
  for (let i = from; i < to; i++) ingestOne(engine, m, raw, i);
}

/**
 * The first trade of the steady-state window: one minute of market time in (every slot then holds a kline and
 * the 1m..1M klines have rolled once), or half the market when BENCH_TRADES is smaller than two minutes.
 */
function steadyFrom(length: number, step: number): number {
  const minute = TRADES_PER_SECOND * 60;
  return length >= 2 * minute ? minute : Math.floor(length / 2 / step) * step;
}

/**
 * Trades per second through our engine: best of `rounds` fresh engines, fed parsed trades, or `raw` (decimal
 * strings) when given. Every `ackEvery` trades a pull acknowledges everything, as the gateway does each tick,
 * so closed klines do not pile up (0: never). Figures: ingestion alone (each feed's CPU time; the garbage the
 * pulls leave is collected during ingestion and stays in) and everything including the pulls, so work moved
 * from ingestion into the pull is not hidden, both over the steady-state window; and ingestion over the first
 * COLD_TRADES trades of the fresh engine.
 */
function runEngine(
  m: Market,
  rounds: number,
  ackEvery: number,
  mode: PullMode,
  raw?: RawTrade[],
): EngineRate {
  let ingest = 0;
  let cold = 0;
  let withPulls = 0;
  let klines = 0;
  let pulls = 0;
  const step = ackEvery > 0 ? ackEvery : COLD_TRADES;
  const from = steadyFrom(m.length, step);
  for (let round = 0; round < rounds; round++) {
    const engine = newEngine(m.symbols);
    const builder = new PullAnswerBuilder(engine);
    (globalThis as { gc?: () => void }).gc?.();
    let ack = 0;
    let coldSeconds = 0;
    let feedSeconds = 0;
    let allSeconds = 0;
    for (let i = 0; i < m.length; i += step) {
      const end = Math.min(m.length, i + step);
      const t0 = process.cpuUsage();
      feed(engine, m, raw, i, end);
      if (end === m.length) engine.closeAll(); // folds what is pending: part of the work
      const f = cpuSeconds(t0);
      let p = 0;
      if (ackEvery > 0 && end < m.length) {
        const p0 = process.cpuUsage();
        const view = pullOnce(engine, builder, mode, 1, ack);
        p = cpuSeconds(p0);
        ack = view.version;
        klines += view.klines;
        pulls++;
      }
      if (end <= COLD_TRADES) coldSeconds += f;
      if (i >= from) {
        feedSeconds += f;
        allSeconds += f + p;
      }
    }
    ingest = Math.max(ingest, (m.length - from) / feedSeconds);
    withPulls = Math.max(withPulls, (m.length - from) / allSeconds);
    cold = Math.max(cold, Math.min(COLD_TRADES, m.length) / coldSeconds);
    const st = engine.stats();
    if (st.tradesIn !== m.length || Object.keys(st.rejected).length > 0)
      throw new Error("engine lost trades");
  }
  return { ingest, cold, withPulls, klinesPerPull: pulls === 0 ? 0 : klines / pulls };
}

/** Trades per second of parsing alone: reading each trade and parsing its two decimal strings. */
function runParseFloor(raw: RawTrade[]): number {
  const out = new Float64Array(2);
  let best = 0;
  for (let round = 0; round < 2; round++) {
    let sink = 0;
    const t0 = process.cpuUsage();
    for (const t of raw) sink += parseDecimal(t.price, out, 0) + parseDecimal(t.qty, out, 1) + t.time;
    best = Math.max(best, raw.length / cpuSeconds(t0));
    if (sink === 0) throw new Error("unreachable");
  }
  return best;
}

/**
 * Engine memory per 1,000 symbols once every slot holds a kline, with a pull acking everything every
 * `pullEvery` trades (the gateway's steady state; 0 = one pull at the end, so all closed klines of the
 * run were retained first and the closed store's capacity stays at that peak).
 */
function engineMemoryPer1000(m: Market, pullEvery: number): number {
  const before = memoryBytes();
  const engine = newEngine(m.symbols);
  let ack = 0;
  for (let i = 0; i < m.length; i++) {
    ingestOne(engine, m, undefined, i);
    if (pullEvery > 0 && i % pullEvery === 0) ack = engine.pull(1, ack).version;
  }
  ack = engine.pull(1, engine.pull(1, ack).version).version;
  const after = memoryBytes();
  if (engine.stats().tradesIn !== m.length) throw new Error("engine lost trades");
  return ((after - before) / SYMBOLS) * 1000;
}

/** Mean ms of a pull answering 10% of the klines (all intervals of 10% of the symbols changed). */
function pullCost(m: Market, mode: PullMode): number {
  const engine = newEngine(m.symbols);
  const builder = new PullAnswerBuilder(engine);
  for (let i = 0; i < m.length; i++) ingestOne(engine, m, undefined, i);
  let ack = engine.pull(1, 0).version;
  ack = engine.pull(1, ack).version;
  // Each symbol's own last trade, so prices keep the symbol's decimals.
  const lastOf = new Int32Array(SYMBOLS);
  for (let i = 0; i < m.length; i++) lastOf[m.symbol[i]!] = i;
  let id = 4_000_000_000_000;
  let total = 0;
  // Settle the garbage of the setup (the full first answer) so no collection of it lands in a measured pull.
  (globalThis as { gc?: () => void }).gc?.();
  const rounds = 30;
  for (let round = 0; round < rounds; round++) {
    for (let s = round % 10; s < SYMBOLS; s += 10) {
      const i = lastOf[s]!;
      id++;
      const rej = ingestOne(engine, m, undefined, i, id);
      if (rej !== undefined) throw new Error(`pull bench trade rejected: ${rej}`);
    }
    const t0 = process.cpuUsage();
    const view = pullOnce(engine, builder, mode, 1, ack);
    total += cpuSeconds(t0) * 1000;
    if (view.klines < (SYMBOLS / 10) * INTERVALS.length) throw new Error(`pull returned ${view.klines}`);
    ack = view.version;
  }
  return total / rounds;
}

const M = (rate: number): string => `${(rate / 1e6).toFixed(2)} M trades/s`;
const tGen = Date.now();
const market = makeMarket(TRADES);
console.log(
  `generated ${TRADES.toLocaleString()} trades for ${SYMBOLS} symbols x ${INTERVALS.length} intervals in ${Date.now() - tGen} ms`,
);
console.log(`load avg:   ${loadavg()[0]!.toFixed(1)} (figures are CPU time of this process, best of rounds)`);
console.log(
  `mix:        uniform random symbol per trade, ${TRADES_PER_SECOND / SYMBOLS} trades per symbol per second ` +
    `(${TRADES_PER_SECOND.toLocaleString()}/s in all, ${TRADES / TRADES_PER_SECOND} s of market time)`,
);
const engineOnly = process.env.BENCH_ENGINE_ONLY === "1"; // for profiling the engine alone
const none: EngineRate = { ingest: 0, cold: 0, withPulls: 0, klinesPerPull: 0 };
const best = (a: EngineRate, b: EngineRate): EngineRate => ({
  ingest: Math.max(a.ingest, b.ingest),
  cold: Math.max(a.cold, b.cold),
  withPulls: Math.max(a.withPulls, b.withPulls),
  klinesPerPull: b.klinesPerPull,
});
/**
 * Memory and the pull cost, over the first 30 s of the market (the same trades: the market is seeded). Measured
 * first, on a heap that holds nothing else yet (memory is a heap delta); printed last.
 */
function memoryAndPullLines(): string[] {
  const first = makeMarket(Math.min(TRADES, COLD_TRADES));
  const steady = engineMemoryPer1000(first, 10_000);
  const peak = engineMemoryPer1000(first, 0);
  return [
    `memory:     ${(steady / 1e6).toFixed(1)} MB per 1,000 symbols (heap + arrayBuffers; acked every 10,000 trades), ` +
      `${(peak / 1e6).toFixed(1)} MB after retaining every closed kline of its ${first.length / TRADES_PER_SECOND} s`,
    `pull:       ${pullCost(first, "wire").toFixed(2)} ms per pull with 10% of ${SYMBOLS * INTERVALS.length} klines changed, ` +
      `encoded to PullChunk bytes (${pullCost(first, "records").toFixed(2)} ms as KlineRecord objects, ` +
      `${pullCost(first, "records-wire").toFixed(2)} ms as KlineRecord objects encoded by encodePullChunk)`,
  ];
}
// BENCH_ENGINE_ONLY (profiling the engine) exits before these are printed: not measured then.
const lastLines = engineOnly ? [] : memoryAndPullLines();
// Engine and tardis-dev rounds alternate (best of each; tardis-dev in a child process, see tardis-peer.ts), so
// both see the same machine load: the ratio is then steadier than that of two figures taken seconds apart on a
// shared machine. Two untimed engine rounds first: a worker runs for hours, so the figure is that of optimized
// code.
runEngine(market, 2, ACK_EVERY, "wire");
let parsed = none;
let tardis = 0;
const parsedRounds: number[] = [];
const tardisRounds: number[] = [];
const coldRounds: number[] = [];
const peer = engineOnly ? undefined : TardisPeer.start(TRADES, steadyFrom(TRADES, ACK_EVERY));
for (let round = 0; round < 6; round++) {
  const r = runEngine(market, 1, ACK_EVERY, "wire");
  parsed = best(parsed, r);
  parsedRounds.push(r.ingest);
  coldRounds.push(r.cold);
  if (peer) tardisRounds.push(await peer.round());
}
peer?.stop();
tardis = Math.max(...tardisRounds);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? 0;
console.log(
  `engine:     ${M(parsed.ingest)} aggregating parsed trades (ingestParsed: exact scaled integers; all 16 intervals; acked every ${ACK_EVERY.toLocaleString()} trades; pulls' CPU left out; after the first ${steadyFrom(TRADES, ACK_EVERY) / TRADES_PER_SECOND} s)`,
);
console.log(
  `            ${M(median(parsedRounds))} median of the ${parsedRounds.length} rounds (best above)`,
);
console.log(
  `            ${M(parsed.cold)} best / ${M(median(coldRounds))} median cold: a fresh engine's first ${COLD_TRADES / TRADES_PER_SECOND} s, every slot opening its first kline`,
);
console.log(
  `            ${M(parsed.withPulls)} counting the pulls too (each answers ~${Math.round(parsed.klinesPerPull).toLocaleString()} changed klines, encoded to PullChunk bytes as the worker sends them)`,
);
const unacked = runEngine(market, 1, 0, "wire").ingest;
console.log(
  `            ${M(unacked)} parsed trades when nothing is acknowledged (all closed klines of the run retained)`,
);
const raw = rawTrades(market);
let strings = none;
let records = none;
for (let round = 0; round < 3; round++) {
  strings = best(strings, runEngine(market, 1, ACK_EVERY, "wire", raw));
  if (round < 1) records = best(records, runEngine(market, 1, ACK_EVERY, "records", raw));
}
const floor = runParseFloor(raw);
console.log(
  `strings:    ${M(strings.ingest)} from decimal strings (ingest: parsing + aggregation), ${M(strings.withPulls)} counting the pulls`,
);
console.log(
  `            ${M(records.ingest)} ingestion, ${M(records.withPulls)} counting the pulls, when the pulls build KlineRecord objects (engine.pull)`,
);
console.log(
  `floor:      ${M(floor)} parsing alone (reading the trades and parsing their two decimal strings)`,
);
if (engineOnly) process.exit(0);
console.log(
  `tardis-dev: ${(tardis / 1e6).toFixed(3)} M trades/s (computeTradeBars, float, one computable per interval; its trades' numbers already parsed), median ${(median(tardisRounds) / 1e6).toFixed(3)}`,
);
console.log(
  `ratio:      ${(parsed.ingest / tardis).toFixed(1)}x aggregation (both from parsed numbers; ${(median(parsedRounds) / median(tardisRounds)).toFixed(1)}x median to median), ` +
    `${(strings.ingest / tardis).toFixed(1)}x from our decimal strings, ${(parsed.withPulls / tardis).toFixed(1)}x counting our pulls (tardis builds no output)`,
);
for (const line of lastLines) console.log(line);
