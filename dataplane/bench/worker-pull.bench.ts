/**
 * Worker pull cost over real gRPC on loopback vs the in-process `engine.pull`
 * (the baseline), on 2,000 symbols x 16 intervals with 10% of the klines
 * changed between pulls (200 symbols traded: 3,200 klines per answer).
 * Prints ms per pull p50/p99 of both and their ratio, and the in-process cost
 * of building the answer's PullChunk bytes the way the worker does
 * (`engine.pullRows` + `KlineRowEncoder`, no KlineRecord objects). ~10 s.
 */
import { createEngine } from "../src/core/engine.js";
import type { KlineEngine } from "../src/core/engine-api.js";
import { INTERVALS } from "../src/core/types.js";
import { WorkerClient } from "../src/grpc/worker-client.js";
import { WorkerGrpcServer } from "../src/grpc/worker-server.js";
import { PullAnswerBuilder } from "../src/grpc/pull-answer.js";

const SYMBOLS = Array.from({ length: 2000 }, (_, i) => `S${String(i).padStart(4, "0")}USDT`);
const CHANGED = SYMBOLS.length / 10;
const WARMUP = 30;
const ROUNDS = 200;
const T0 = Date.UTC(2024, 7, 8, 12, 0, 0);
const EPOCH = 1_700_000_000_000;

/** An engine where every symbol traded once: 32,000 open klines. */
function setup(): { engine: KlineEngine; trade: (round: number) => void } {
  const engine = createEngine({
    symbols: SYMBOLS,
    intervals: INTERVALS,
    epoch: EPOCH,
    emptyKlines: true,
    graceMs: 2000,
    utcOffsetMinutes: 0,
  });
  let id = 1;
  const ingest = (s: string, t: number): void => {
    const r = engine.ingest({
      symbol: s,
      firstId: id,
      lastId: id,
      price: "61837.63",
      qty: "0.012",
      time: t,
      buyerMaker: false,
    });
    id++;
    if (r !== undefined) throw new Error(`bench trade rejected: ${r}`);
  };
  for (const s of SYMBOLS) ingest(s, T0);
  return {
    engine,
    // Round r trades a rotating 10% of the symbols, inside the same second (no kline closes).
    trade: (round) => {
      const from = (round * CHANGED) % SYMBOLS.length;
      for (let i = 0; i < CHANGED; i++) ingest(SYMBOLS[(from + i) % SYMBOLS.length]!, T0 + 1 + (round % 900));
    },
  };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function main(): Promise<void> {
  // Baseline: the engine's own pull, in process.
  const base = setup();
  let v = base.engine.pull(0, 0).version;
  const inProc: number[] = [];
  for (let r = 0; r < WARMUP + ROUNDS; r++) {
    base.trade(r);
    const t = performance.now();
    const view = base.engine.pull(EPOCH, v);
    const ms = performance.now() - t;
    if (view.klines.length !== CHANGED * INTERVALS.length) {
      throw new Error(`expected ${CHANGED * INTERVALS.length} changed klines, got ${view.klines.length}`);
    }
    v = view.version;
    if (r >= WARMUP) inProc.push(ms);
  }

  // The worker's answer building in process: pull rows encoded to PullChunk bytes.
  const enc = setup();
  const builder = new PullAnswerBuilder(enc.engine);
  const answerOpts = {
    worker: "bench",
    sourceDone: false,
    maxCount: 4096,
    maxBytes: 1 << 20,
    symbols: SYMBOLS,
  };
  let ve = builder.answer(0, 0, answerOpts).head.version;
  const encoded: number[] = [];
  for (let r = 0; r < WARMUP + ROUNDS; r++) {
    enc.trade(r);
    const t = performance.now();
    const a = builder.answer(EPOCH, ve, answerOpts);
    const ms = performance.now() - t;
    if (a.head.count !== CHANGED * INTERVALS.length) throw new Error(`answer of ${a.head.count} klines`);
    ve = a.head.version;
    if (r >= WARMUP) encoded.push(ms);
  }

  // The same over gRPC on loopback, through the gateway's client.
  const g = setup();
  const serverMs: number[] = [];
  const server = new WorkerGrpcServer({
    host: "127.0.0.1",
    port: 0,
    workerName: "bench",
    engine: g.engine,
    symbols: SYMBOLS,
    onPull: (info) => serverMs.push(info.seconds * 1000),
  });
  const client = new WorkerClient(`127.0.0.1:${await server.start()}`);
  const overGrpc: number[] = [];
  try {
    let t = performance.now();
    const full = await client.pull({ epoch: 0, ackVersion: 0 }, 10_000);
    const fullMs = performance.now() - t;
    let ack = full.version;
    for (let r = 0; r < WARMUP + ROUNDS; r++) {
      g.trade(r);
      t = performance.now();
      const res = await client.pull({ epoch: EPOCH, ackVersion: ack }, 5_000);
      const ms = performance.now() - t;
      if (res.klines.length !== CHANGED * INTERVALS.length)
        throw new Error(`gRPC pull got ${res.klines.length} klines`);
      ack = res.version;
      if (r >= WARMUP) overGrpc.push(ms);
    }
    const f = (x: number): string => x.toFixed(3).padStart(8);
    console.log(
      `worker pull: ${SYMBOLS.length} symbols x ${INTERVALS.length} intervals, ${CHANGED * INTERVALS.length} klines changed per pull, ${ROUNDS} pulls`,
    );
    console.log(
      `  in-process engine.pull   p50 ${f(pct(inProc, 50))} ms   p99 ${f(pct(inProc, 99))} ms   (baseline)`,
    );
    console.log(
      `  in-process answer bytes  p50 ${f(pct(encoded, 50))} ms   p99 ${f(pct(encoded, 99))} ms   (pullRows + encode to PullChunks)`,
    );
    console.log(`  gRPC pull (loopback)     p50 ${f(pct(overGrpc, 50))} ms   p99 ${f(pct(overGrpc, 99))} ms`);
    const served = serverMs.slice(-ROUNDS);
    console.log(
      `    of which worker side    p50 ${f(pct(served, 50))} ms   p99 ${f(pct(served, 99))} ms   (pullRows + encode + write)`,
    );
    console.log(
      `  ratio gRPC / in-process  p50 ${(pct(overGrpc, 50) / pct(inProc, 50)).toFixed(1)}x   p99 ${(pct(overGrpc, 99) / pct(inProc, 99)).toFixed(1)}x`,
    );
    console.log(
      `  full-state pull over gRPC (32,000 klines, ${full.chunks} chunks): ${fullMs.toFixed(1)} ms`,
    );
  } finally {
    client.close();
    await server.stop(500);
  }
}

await main();
