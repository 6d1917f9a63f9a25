import assert from "node:assert/strict";
import { test } from "node:test";
import { createEngine } from "../core/engine.js";
import type { KlineEngine } from "../core/engine-api.js";
import { INTERVALS, type RawTrade } from "../core/types.js";
import { fromProtoKline } from "./kline-proto.js";
import { PullAnswerBuilder, type AnswerOptions } from "./pull-answer.js";
import { decodePullChunk } from "./pull-decoder.js";
import { encodePullChunk, symbolRefsOf } from "./pull-encoder.js";

const SYMBOLS = ["BTCUSDT", "币安人生USDT", "X", "DOGEUSDT", "NEVERTRADED"];
const T0 = Date.parse("2024-02-29T23:50:00Z");

function engine(): KlineEngine {
  return createEngine({
    symbols: SYMBOLS,
    intervals: INTERVALS,
    epoch: 1_700_000_000_000,
    emptyKlines: true,
    graceMs: 3000,
    utcOffsetMinutes: 0,
  });
}

/**
 * Deterministic trades over 20 minutes: several decimals per symbol, quiet stretches (empty klines,
 * ids -1), late trades within grace, and quote volumes beyond 2^53 and beyond 2^79.
 */
function trades(): RawTrade[] {
  let x = 7;
  const rnd = (m: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % m; // the low bits of an LCG have short periods
  };
  const out: RawTrade[] = [];
  const ids = [1, 1_000_000, 2 ** 40, 5];
  const prices: Array<() => string> = [
    () => `${60000 + rnd(3000)}.${String(rnd(100)).padStart(2, "0")}`,
    () => `0.${String(rnd(1e8)).padStart(8, "0")}`,
    () => `45035996.2737049${rnd(10)}`,
    () => `${rnd(1000)}`,
  ];
  const qtys: Array<() => string> = [
    () => `${rnd(10)}.${String(rnd(1e5)).padStart(5, "0")}`,
    () => `${rnd(100000)}`,
    () => "1.90000000",
    () => `0.00${rnd(9) + 1}`,
  ];
  for (let t = 0; t < 20 * 60_000; t += 150 + rnd(2000)) {
    const s = rnd(4);
    if (s === 3 && t > 3 * 60_000 && t < 9 * 60_000) continue; // a quiet stretch
    const late = rnd(10) === 0 ? 1500 : 0;
    const id = ids[s]!++;
    const agg = rnd(3) === 0 ? rnd(5) : 0;
    ids[s]! += agg;
    out.push({
      symbol: SYMBOLS[s]!,
      firstId: id,
      lastId: id + agg,
      price: prices[s]!(),
      qty: qtys[s]!(),
      time: T0 + t - late,
      buyerMaker: rnd(2) === 0,
    });
  }
  return out;
}

const SYMBOL_INDEX = new Map(SYMBOLS.map((s, i) => [s, i]));

const BARE = { worker: "", epoch: 0, version: 0, full: false, sourceDone: false };

const HEAD_OPTS: AnswerOptions = {
  worker: "w-7",
  sourceDone: false,
  maxCount: 1e9,
  maxBytes: 1e12,
  symbols: SYMBOLS,
};

test("pull answers encoded from the engine's rows are byte-identical to the records' encoding", () => {
  const a = engine();
  const b = engine();
  const builder = new PullAnswerBuilder(b);
  const all = trades();
  let ackA = 0;
  let ackB = 0;
  let checked = 0;
  const seen = new Set<string>();
  for (let i = 0; i < all.length; i++) {
    const ra = a.ingest(all[i]!);
    assert.equal(b.ingest(all[i]!), ra);
    if (i % 97 !== 0 && i !== all.length - 1) continue;
    if (i === all.length - 1) {
      a.closeAll();
      b.closeAll();
    }
    // Every fifth answer is a full one (foreign epoch), the others incremental.
    const epoch = i % 5 === 0 ? 0 : a.epoch;
    const view = a.pull(epoch, ackA);
    const ans = builder.answer(epoch, ackB, HEAD_OPTS);
    assert.equal(ans.chunks.length, 1);
    assert.deepEqual(ans.head, {
      epoch: view.epoch,
      version: view.version,
      full: view.full,
      count: view.klines.length,
    });
    const head = {
      worker: "w-7",
      epoch: view.epoch,
      version: view.version,
      full: view.full,
      sourceDone: false,
    };
    const expected = encodePullChunk(
      head,
      true,
      0,
      view.klines,
      0,
      view.klines.length,
      view.full ? SYMBOLS : [],
      symbolRefsOf(view.klines, 0, view.klines.length, SYMBOL_INDEX),
    );
    assert.deepEqual(ans.chunks[0], expected);
    checked += view.klines.length;
    for (const k of view.klines) {
      if (k.trades === 0) seen.add("empty kline");
      if (BigInt(k.quoteVolume.replace(".", "")) >= 2n ** 79n) seen.add("quote volume above 2^79");
      if (k.closed) seen.add("closed");
      if (!k.open.includes(".")) seen.add("no decimals");
      const one = encodePullChunk(BARE, false, 0, [k], 0, 1, []).length; // tag + length + message
      seen.add(one < 2 + 128 ? "message under 128 bytes" : "message of 128 bytes or more");
    }
    ackA = view.version;
    ackB = ans.head.version;
  }
  assert.ok(checked > 1000, `compared ${checked} klines`);
  assert.ok(a.stats().lateAccepted > 0, "late trades");
  assert.deepEqual([...seen].sort(), [
    "closed",
    "empty kline",
    "message of 128 bytes or more",
    "message under 128 bytes",
    "no decimals",
    "quote volume above 2^79",
  ]);
});

test("row-encoded answers are split into chunks within the count and byte limits, every kline once", () => {
  const a = engine();
  const b = engine();
  for (const t of trades()) {
    a.ingest(t);
    b.ingest(t);
  }
  const view = a.pull(0, 0);
  const opts: AnswerOptions = { ...HEAD_OPTS, maxCount: 7, maxBytes: 1500 };
  const ans = new PullAnswerBuilder(b).answer(0, 0, opts);
  const got = ans.chunks.map((c) => decodePullChunk(c));
  assert.ok(got.length > view.klines.length / 7);
  got.forEach((c, i) => {
    assert.equal(c.chunkIndex, i);
    assert.equal(c.last, i === got.length - 1);
    assert.ok(c.klines.length <= 7);
    const head = {
      worker: "w-7",
      epoch: Number(c.epoch),
      version: Number(c.version),
      full: true,
      sourceDone: false,
    };
    const bare = encodePullChunk(head, c.last, i, [], 0, 0, c.symbols, Int32Array.from(c.symbolRefs)).length;
    const bytes = ans.chunks[i]!.length - bare;
    assert.ok(c.klines.length === 1 || bytes <= 1500, `chunk ${i}: ${bytes} bytes of klines`);
  });
  assert.deepEqual(got[0]!.symbols, SYMBOLS);
  assert.deepEqual(
    got.flatMap((c) => c.symbolRefs),
    view.klines.map((k) => SYMBOLS.indexOf(k.symbol)),
    "each kline's symbol ref is its symbol's index in the worker's list",
  );
  assert.deepEqual(
    got.flatMap((c) => c.klines.map(fromProtoKline)),
    view.klines,
  );
  assert.ok(
    ans.chunks.some((c) => c.length > 1200),
    "chunks are filled up to the byte limit",
  );
});

test("a kline that grows past 128 bytes between answers is encoded exactly before and after", () => {
  const opts = { ...HEAD_OPTS, symbols: ["X"] };
  const mk = (): KlineEngine =>
    createEngine({
      symbols: ["X"],
      intervals: ["1m"],
      epoch: 1,
      emptyKlines: false,
      graceMs: 0,
      utcOffsetMinutes: 0,
    });
  const a = mk();
  const b = mk();
  const builder = new PullAnswerBuilder(b);
  const sizes = new Set<boolean>();
  for (let i = 1; i <= 40; i++) {
    const t: RawTrade = {
      symbol: "X",
      firstId: i * 1000,
      lastId: i * 1000,
      price: `${i}.5`,
      qty: `${10 ** (i % 12)}.25`,
      time: T0 + i,
      buyerMaker: false,
    };
    a.ingest(t);
    b.ingest(t);
    const view = a.pull(0, 0);
    const ans = builder.answer(0, 0, opts);
    const head = { worker: "w-7", epoch: view.epoch, version: view.version, full: true, sourceDone: false };
    const refs = Int32Array.of(0);
    assert.deepEqual(ans.chunks[0], encodePullChunk(head, true, 0, view.klines, 0, 1, ["X"], refs));
    sizes.add(encodePullChunk(BARE, false, 0, view.klines, 0, 1, []).length < 2 + 128);
  }
  assert.deepEqual([...sizes].sort(), [false, true], "the kline was both under and over 128 bytes");
});
