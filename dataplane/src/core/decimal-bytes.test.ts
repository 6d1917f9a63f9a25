import assert from "node:assert/strict";
import { test } from "node:test";
import { addExact, exactToString, scaledToString, twoProduct } from "./decimal.js";
import { MAX_DECIMAL_TEXT, writeExact, writeScaled } from "./decimal-bytes.js";

const buf = new Uint8Array(MAX_DECIMAL_TEXT + 8);

function scaledText(v: number, decimals: number): string {
  const end = writeScaled(buf, 3, v, decimals);
  return String.fromCharCode(...buf.subarray(3, end));
}

function exactText(hi: number, lo: number, decimals: number): string {
  const end = writeExact(buf, 5, hi, lo, decimals);
  return String.fromCharCode(...buf.subarray(5, end));
}

/** Deterministic pseudo-random integers below 2^53 with every number of digits. */
function* samples(n: number): Generator<number> {
  let x = 12345;
  const rnd = (): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x / 2 ** 32;
  };
  for (let i = 0; i < n; i++) yield Math.floor(rnd() * 10 ** Math.floor(rnd() * 16.95));
}

test("scaled integers are written as the same text as scaledToString", () => {
  const edges = [0, 1, 9, 10, 99999999, 100000000, 100000001, 1e15, 1e15 - 1, 2 ** 53 - 1, 2 ** 53 - 2];
  for (const v of [...edges, ...samples(20_000)]) {
    for (let d = 0; d <= 24; d++) assert.equal(scaledText(v, d), scaledToString(v, d), `${v} @${d}`);
  }
  assert.equal(scaledText(6183763000000, 8), "61837.63000000");
  assert.equal(scaledText(123, 5), "0.00123");
  assert.equal(scaledText(0, 8), "0.00000000");
});

test("exact pairs are written as the same text as exactToString, up to 2^100", () => {
  const pair = new Float64Array(2);
  const prod = new Float64Array(2);
  const values: Array<[number, number]> = [
    [2 ** 53, 0],
    [2 ** 53, 1],
    [2 ** 53 - 1, 1],
    [2 ** 79 - 2 ** 30, 12345],
    [2 ** 79, -1],
    [2 ** 80, 0],
    [2 ** 99 + 2 ** 50, -77],
  ];
  // Sums of products of 53-bit integers, as the engine builds quote volumes.
  let a = 0;
  for (const p of samples(4_000)) {
    twoProduct(p, (a = (a * 7 + 13) % 2 ** 40) + 1, prod, 0);
    addExact(pair, 0, prod[0]!, prod[1]!);
    if (pair[0]! >= 2 ** 99) pair.fill(0);
    values.push([pair[0]!, pair[1]!]);
  }
  for (const [hi, lo] of values) {
    for (const d of [0, 1, 7, 8, 9, 16, 24]) assert.equal(exactText(hi, lo, d), exactToString(hi, lo, d));
  }
});
