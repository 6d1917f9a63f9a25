import { test } from "node:test";
import assert from "node:assert/strict";
import type { Interval } from "../core/types.js";
import { GlobalState } from "./global-state.js";
import type { PullResult, RawKlines } from "./ports.js";
import { StateLayout } from "./state-layout.js";
import { NO_SYMBOL_REFS, SymbolRefMaps } from "./symbol-refs.js";
import { makeKline, toRawResult } from "./fakes.test-helper.js";

const IVS: Interval[] = ["1s", "1m", "1h"];
const LAYOUT_SYMBOLS = Array.from({ length: 300 }, (_, i) => `S${i}USDT`);

function answer(epoch: number, full: boolean, symbols: readonly string[]): PullResult {
  return { worker: "w", epoch, version: 1, full, sourceDone: false, symbols, klines: [] };
}

test("a worker's refs map to layout symbols from its full answer on, for that epoch only", () => {
  const maps = new SymbolRefMaps(new StateLayout(LAYOUT_SYMBOLS, IVS));
  assert.equal(maps.forAnswer(0, answer(7, false, [])), NO_SYMBOL_REFS, "no full answer seen yet");
  const full = maps.forAnswer(0, answer(7, true, ["S5USDT", "NOTLAID", "S0USDT"]));
  assert.deepEqual([...full], [5, -1, 0]);
  assert.equal(maps.forAnswer(0, answer(7, false, [])), full, "later answers of the epoch use it");
  assert.equal(
    maps.forAnswer(1, answer(7, false, [])),
    NO_SYMBOL_REFS,
    "another worker's epoch 7 is not this one",
  );
  assert.equal(maps.forAnswer(0, answer(8, false, [])), NO_SYMBOL_REFS, "a new epoch before its full answer");
  assert.deepEqual([...maps.forAnswer(0, answer(8, true, ["S9USDT"]))], [9]);
  assert.equal(maps.forAnswer(0, answer(7, false, [])), NO_SYMBOL_REFS, "the old epoch's map is gone");
});

/** Raw klines of `symbols` x IVS (in two chunks), with refs into `refList`. */
function rawKlines(symbols: readonly string[], refList: readonly string[] | undefined): RawKlines {
  const klines = symbols.flatMap((s, i) =>
    IVS.map((iv) => makeKline(s, iv, 1_700_000_040_000, "1.5", i + 1)),
  );
  return toRawResult({ ...answer(1, false, []), klines }, refList).raw!;
}

/** Every raw kline's slot via `slotOfRaw`, and how many symbol lookups by bytes that took. */
function slotsAndLookups(state: GlobalState, raw: RawKlines, refs: Int32Array): [number[], number] {
  const index = state.layout.symbolBytes;
  const getIn = index.getIn.bind(index);
  let lookups = 0;
  index.getIn = (view, off, len) => {
    lookups++;
    return getIn(view, off, len);
  };
  try {
    return [Array.from({ length: raw.count }, (_, i) => state.slotOfRaw(raw, i, refs)), lookups];
  } finally {
    index.getIn = getIn;
    state.endTick();
  }
}

test("klines whose refs are confirmed by their symbol bytes are placed without a lookup; wrong refs fall back to one", () => {
  const layout = new StateLayout(LAYOUT_SYMBOLS, IVS);
  const state = new GlobalState(layout);
  // A worker owning every third symbol, listed in reverse (its refs are not layout indexes).
  const mine = LAYOUT_SYMBOLS.filter((_, i) => i % 3 === 1).reverse();
  const maps = new SymbolRefMaps(layout);
  const refs = maps.forAnswer(0, answer(1, true, mine));
  const changed = mine.filter((_, i) => i % 4 === 0);
  const expected = changed.flatMap((s) => IVS.map((iv) => state.slotOf(s, iv)));
  assert.ok(expected.every((s) => s >= 0));

  assert.deepEqual(slotsAndLookups(state, rawKlines(changed, mine), refs), [expected, 0]);
  assert.equal(state.refMisses, 0);

  // Refs into another list (the worker's list rotated): every ref names another symbol of the layout.
  const rotated = [...mine.slice(1), mine[0]!];
  const [slots, lookups] = slotsAndLookups(state, rawKlines(changed, rotated), refs);
  assert.deepEqual(slots, expected);
  assert.ok(lookups >= changed.length, `${lookups} lookups`);
  assert.equal(state.refMisses, expected.length, "each wrong ref is counted");

  // No refs sent (an older worker), or no map for the answer's epoch: looked up, same slots.
  assert.deepEqual(slotsAndLookups(state, rawKlines(changed, undefined), refs)[0], expected);
  assert.deepEqual(slotsAndLookups(state, rawKlines(changed, mine), NO_SYMBOL_REFS)[0], expected);

  // Refs beyond the map (a longer list than the full answer sent) are ignored, not read out of bounds.
  const longer = [...Array.from({ length: 1000 }, (_, i) => `PAD${i}`), ...mine];
  assert.deepEqual(slotsAndLookups(state, rawKlines(changed, longer), refs)[0], expected);
  assert.equal(state.refMisses, expected.length, "refs without a map entry are not misses");
});

test("a ref to a symbol outside the layout leaves the kline's symbol unknown", () => {
  const layout = new StateLayout(LAYOUT_SYMBOLS, IVS);
  const state = new GlobalState(layout);
  const refs = new SymbolRefMaps(layout).forAnswer(0, answer(1, true, ["NOTLAID", "S1USDT"]));
  const [slots] = slotsAndLookups(state, rawKlines(["NOTLAID", "S1USDT"], ["NOTLAID", "S1USDT"]), refs);
  assert.deepEqual(slots, [-1, -1, -1, ...IVS.map((iv) => state.slotOf("S1USDT", iv))]);
});
