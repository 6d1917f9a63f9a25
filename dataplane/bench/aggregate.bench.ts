/**
 * Aggregation throughput: our engine vs tardis-dev's computeTradeBars on the
 * same synthetic trades (2,000 symbols x all 16 intervals), plus memory per
 * 1,000 symbols and the cost of a pull with 10% of the klines changed.
 *
 * Pulls are measured the way the worker answers them: `engine.pullRows` into
 * the gRPC answer's PullChunk bytes (`PullAnswerBuilder`, everything but the
 * socket write). The object API `engine.pull` (KlineRecord objects with decimal
 * strings, what earlier versions of this bench counted) is measured next to it.
 *
 * Trade mix: 2,000 symbols, each trade's symbol drawn uniformly at random
 * (no bursts of one symbol: the worst case for caches), 5 trades per symbol
 * per second on average (10,000 trades/s exchange-wide, so a symbol's 1 s
 * bucket changes every ~5 trades, as on a busy real market), prices a random
 * walk of ticks with 2..8 decimals, quantities 0..8 decimals, raw trades
 * (firstId === lastId), half taker buys. BENCH_TRADES sets the count
 * (default 300,000 = 30 s of market time).
 * Run: node --expose-gc dataplane/dist/bench/aggregate.bench.js
 */
import { loadavg } from "node:os";
import { computeTradeBars } from "tardis-dev";
import type { Trade as TardisTrade } from "tardis-dev";
import { parseDecimal } from "../src/core/decimal.js";
import { createEngine } from "../src/core/engine.js";
import type { KlineEngine } from "../src/core/engine-api.js";
import { INTERVALS, type RawTrade } from "../src/core/types.js";
import { intervalLengthMs, parseInterval } from "../src/core/intervals.js";
import { PullAnswerBuilder, type AnswerOptions } from "../src/grpc/pull-answer.js";

const SYMBOLS = 2000;
const TRADES = Number(process.env.BENCH_TRADES ?? 300_000);
/** Exchange-wide trade rate: 5 trades per symbol per second. */
const TRADES_PER_SECOND = SYMBOLS * 5;
const START = Date.UTC(2024, 7, 8, 23, 0, 0);
/** Trades between two acknowledging pulls in the throughput runs (a 100 ms gateway tick at ~500k trades/s). */
const ACK_EVERY = 50_000;

/** Deterministic PRNG (mulberry32) so every run sees the same market. */
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

function decimalString(units: number, decimals: number): string {
  const s = String(units).padStart(decimals + 1, "0");
  return decimals === 0 ? s : `${s.slice(0, s.length - decimals)}.${s.slice(s.length - decimals)}`;
}

interface Market {
  readonly symbols: string[];
  readonly trades: RawTrade[];
}

/** Symbols with prices from 0.0001 to 100,000 and 2..8 price decimals; a random walk of ticks. */
function makeMarket(): Market {
  const r = rng(42);
  const symbols = Array.from({ length: SYMBOLS }, (_, i) => `SYM${i}USDT`);
  const priceDec = symbols.map(() => 2 + Math.floor(r() * 7));
  const qtyDec = symbols.map(() => Math.floor(r() * 9));
  const price = symbols.map((_, i) => Math.round(10 ** (-4 + r() * 9) * 10 ** priceDec[i]!) + 100);
  const nextId = symbols.map(() => 1_000_000 + Math.floor(r() * 1e9));
  const trades: RawTrade[] = new Array<RawTrade>(TRADES);
  for (let n = 0; n < TRADES; n++) {
    const s = Math.floor(r() * SYMBOLS);
    const step = Math.floor(r() * 5) - 2;
    price[s] = Math.max(1, price[s]! + step);
    const id = nextId[s]!++;
    trades[n] = {
      symbol: symbols[s]!,
      firstId: id,
      lastId: id,
      price: decimalString(price[s]!, priceDec[s]!),
      qty: decimalString(1 + Math.floor(r() * 10 ** (qtyDec[s]! + 1)), qtyDec[s]!),
      time: START + Math.floor((n * 1000) / TRADES_PER_SECOND),
      buyerMaker: r() < 0.5,
    };
  }
  return { symbols, trades };
}

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

/** Throughput of one configuration: trades per CPU second of ingestion alone and with the pulls counted. */
interface EngineRate {
  readonly ingest: number;
  readonly withPulls: number;
  /** Mean klines per pull answer. */
  readonly klinesPerPull: number;
}

/**
 * Trades per second through our engine: best of `rounds` fresh engines. Every `ackEvery` trades a pull
 * acknowledges everything, as the gateway does each tick, so closed klines do not pile up (0: never).
 * Two figures: ingestion alone (the pulls' own CPU time left out; the garbage they leave is collected
 * during ingestion and stays in), and everything including the pulls (building every changed kline's
 * decimal strings), so work moved from ingestion into the pull is not hidden.
 */
function runEngine(market: Market, rounds: number, ackEvery: number, mode: PullMode = "wire"): EngineRate {
  let ingest = 0;
  let withPulls = 0;
  let klines = 0;
  let pulls = 0;
  for (let round = 0; round < rounds; round++) {
    const engine = newEngine(market.symbols);
    const builder = new PullAnswerBuilder(engine);
    (globalThis as { gc?: () => void }).gc?.();
    let pullSeconds = 0;
    let ack = 0;
    const t0 = process.cpuUsage();
    const trades = market.trades;
    for (let i = 0; i < trades.length; i++) {
      engine.ingest(trades[i]!);
      if (ackEvery > 0 && i % ackEvery === ackEvery - 1) {
        const p0 = process.cpuUsage();
        const view = pullOnce(engine, builder, mode, 1, ack);
        pullSeconds += cpuSeconds(p0);
        ack = view.version;
        klines += view.klines;
        pulls++;
      }
    }
    engine.closeAll(); // folds what is pending: part of the work
    const s = cpuSeconds(t0);
    ingest = Math.max(ingest, market.trades.length / (s - pullSeconds));
    withPulls = Math.max(withPulls, market.trades.length / s);
    if (engine.stats().tradesIn !== market.trades.length) throw new Error("engine lost trades");
  }
  return { ingest, withPulls, klinesPerPull: pulls === 0 ? 0 : klines / pulls };
}

/** Trades per second of the unavoidable part alone: reading each trade and parsing its two decimal strings. */
function runParseFloor(market: Market): number {
  const out = new Float64Array(2);
  let best = 0;
  for (let round = 0; round < 2; round++) {
    let sink = 0;
    const t0 = process.cpuUsage();
    for (const t of market.trades)
      sink += parseDecimal(t.price, out, 0) + parseDecimal(t.qty, out, 1) + t.time;
    best = Math.max(best, market.trades.length / cpuSeconds(t0));
    if (sink === 0) throw new Error("unreachable");
  }
  return best;
}

/** Trades per second through tardis-dev: one computeTradeBars computable per symbol and interval. */
function runTardis(market: Market): number {
  const exchange = "binance" as TardisTrade["exchange"];
  const input: TardisTrade[] = market.trades.map((t) => ({
    type: "trade",
    symbol: t.symbol,
    exchange,
    id: String(t.firstId),
    price: Number(t.price),
    amount: Number(t.qty),
    side: t.buyerMaker ? "sell" : "buy",
    timestamp: new Date(t.time),
    localTimestamp: new Date(t.time),
  }));
  // tardis has no calendar month; 30 days stands in for 1M.
  const factories = INTERVALS.map((iv) =>
    computeTradeBars({ kind: "time", interval: intervalLengthMs(iv) || 30 * 86_400_000 }),
  );
  const bySymbol = new Map(market.symbols.map((s) => [s, factories.map((f) => f())]));
  let bars = 0;
  (globalThis as { gc?: () => void }).gc?.();
  const t0 = process.cpuUsage();
  for (const msg of input) {
    const comps = bySymbol.get(msg.symbol)!;
    for (let k = 0; k < comps.length; k++) {
      for (const bar of comps[k]!.compute(msg)) if (bar !== undefined) bars++;
    }
  }
  const s = cpuSeconds(t0);
  if (bars === 0) throw new Error("tardis produced no bars");
  return input.length / s;
}

/**
 * Engine memory per 1,000 symbols once every slot holds a kline, with a pull acking everything every
 * `pullEvery` trades (the gateway's steady state; 0 = one pull at the end, so all closed klines of the
 * run were retained first and the closed store's capacity stays at that peak).
 */
function engineMemoryPer1000(market: Market, pullEvery: number): number {
  const before = memoryBytes();
  const engine = newEngine(market.symbols);
  let ack = 0;
  market.trades.forEach((t, i) => {
    engine.ingest(t);
    if (pullEvery > 0 && i % pullEvery === 0) ack = engine.pull(1, ack).version;
  });
  ack = engine.pull(1, engine.pull(1, ack).version).version;
  const after = memoryBytes();
  if (engine.stats().tradesIn !== market.trades.length) throw new Error("engine lost trades");
  return ((after - before) / SYMBOLS) * 1000;
}

/** Mean ms of a pull answering 10% of the klines (all intervals of 10% of the symbols changed). */
function pullCost(market: Market, mode: PullMode): number {
  const engine = newEngine(market.symbols);
  const builder = new PullAnswerBuilder(engine);
  for (const t of market.trades) engine.ingest(t);
  let ack = engine.pull(1, 0).version;
  ack = engine.pull(1, ack).version;
  // Each symbol's own last trade, so prices keep the symbol's decimals.
  const lastOf = new Map(market.trades.map((t) => [t.symbol, t]));
  let id = 4_000_000_000_000;
  let total = 0;
  // Settle the garbage of the setup (the full first answer) so no collection of it lands in a measured pull.
  (globalThis as { gc?: () => void }).gc?.();
  const rounds = 30;
  for (let round = 0; round < rounds; round++) {
    for (let s = round % 10; s < SYMBOLS; s += 10) {
      id++;
      const last = lastOf.get(market.symbols[s]!)!;
      const rej = engine.ingest({ ...last, firstId: id, lastId: id });
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

const tGen = Date.now();
const market = makeMarket();
console.log(
  `generated ${TRADES.toLocaleString()} trades for ${SYMBOLS} symbols x ${INTERVALS.length} intervals in ${Date.now() - tGen} ms`,
);
console.log(`load avg:   ${loadavg()[0]!.toFixed(1)} (figures are CPU time of this process, best of rounds)`);
console.log(
  `mix:        uniform random symbol per trade, ${TRADES_PER_SECOND / SYMBOLS} trades per symbol per second ` +
    `(${TRADES_PER_SECOND.toLocaleString()}/s in all, ${TRADES / TRADES_PER_SECOND} s of market time)`,
);
const unacked = runEngine(market, 2, 0).ingest; // best of 2: the first round also warms the JIT
const unackedLine = `            ${(unacked / 1e6).toFixed(2)} M trades/s when nothing is acknowledged (all closed klines retained)`;
const floor = runParseFloor(market);
console.log(
  `floor:      ${(floor / 1e6).toFixed(2)} M trades/s (only reading the trades and parsing their strings)`,
);
// Engine and tardis-dev rounds alternate (best of each), so both see the same machine load: the ratio is
// then steadier than that of two figures taken seconds apart on a shared machine.
const engineOnly = process.env.BENCH_ENGINE_ONLY === "1"; // for profiling the engine alone
let acked: EngineRate = { ingest: 0, withPulls: 0, klinesPerPull: 0 };
let records: EngineRate = { ingest: 0, withPulls: 0, klinesPerPull: 0 };
let tardis = 0;
const best = (a: EngineRate, b: EngineRate): EngineRate => ({
  ingest: Math.max(a.ingest, b.ingest),
  withPulls: Math.max(a.withPulls, b.withPulls),
  klinesPerPull: b.klinesPerPull,
});
for (let round = 0; round < 3; round++) {
  acked = best(acked, runEngine(market, 1, ACK_EVERY, "wire"));
  if (round < 2) records = best(records, runEngine(market, 1, ACK_EVERY, "records"));
  if (!engineOnly) tardis = Math.max(tardis, runTardis(market));
}
const ours = acked.ingest;
console.log(
  `engine:     ${(ours / 1e6).toFixed(2)} M trades/s (exact decimals, all 16 intervals, acked every ${ACK_EVERY.toLocaleString()} trades; pulls' CPU left out)`,
);
console.log(
  `            ${(acked.withPulls / 1e6).toFixed(2)} M trades/s counting the pulls too (each answers ~${Math.round(acked.klinesPerPull).toLocaleString()} changed klines, encoded to PullChunk bytes as the worker sends them)`,
);
console.log(
  `            ${(records.ingest / 1e6).toFixed(2)} M trades/s ingestion, ${(records.withPulls / 1e6).toFixed(2)} M trades/s counting the pulls, when the pulls build KlineRecord objects (engine.pull; the previous bench's figure)`,
);
console.log(unackedLine);
if (engineOnly) process.exit(0);
console.log(
  `tardis-dev: ${(tardis / 1e6).toFixed(3)} M trades/s (computeTradeBars, float, one computable per interval)`,
);
console.log(
  `ratio:      ${(ours / tardis).toFixed(1)}x (ingestion), ${(acked.withPulls / tardis).toFixed(1)}x counting our pulls (tardis builds no output strings)`,
);
const steady = engineMemoryPer1000(market, 10_000);
const peak = engineMemoryPer1000(market, 0);
console.log(
  `memory:     ${(steady / 1e6).toFixed(1)} MB per 1,000 symbols (heap + arrayBuffers; acked every 10,000 trades), ` +
    `${(peak / 1e6).toFixed(1)} MB after retaining every closed kline of the run`,
);
console.log(
  `pull:       ${pullCost(market, "wire").toFixed(2)} ms per pull with 10% of ${SYMBOLS * INTERVALS.length} klines changed, ` +
    `encoded to PullChunk bytes (${pullCost(market, "records").toFixed(2)} ms as KlineRecord objects, ` +
    `${pullCost(market, "records-wire").toFixed(2)} ms as KlineRecord objects encoded by encodePullChunk)`,
);
