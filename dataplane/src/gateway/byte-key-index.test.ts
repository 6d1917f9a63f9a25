import { test } from "node:test";
import assert from "node:assert/strict";
import { INTERVALS } from "../core/types.js";
import { ByteKeyIndex } from "./byte-key-index.js";

const enc = new TextEncoder();

test("short keys (the intervals) are found by their packed bytes, and absent, prefix or longer keys are not", () => {
  const keys = [...INTERVALS, "", "é"];
  const idx = new ByteKeyIndex(keys);
  keys.forEach((k, i) => {
    const b = enc.encode(`xx${k}yy`);
    assert.equal(idx.get(b, 2, b.length - 4), i, k);
  });
  const b = enc.encode("15mX");
  assert.equal(idx.get(b, 0, 3), keys.indexOf("15m"));
  assert.equal(idx.get(b, 0, 4), -1, "longer");
  assert.equal(idx.get(b, 0, 2), -1, "prefix of 15m that is not a key");
  assert.equal(idx.get(enc.encode("1y"), 0, 2), -1, "absent");
  assert.equal(idx.get(enc.encode("1M"), 0, 2), keys.indexOf("1M"), "case matters");
});

test("long keys are found by their words wherever they sit in a buffer, and keys differing in one byte are told apart", () => {
  // Lengths on and off a word boundary (and short keys beside long ones), shared prefixes and suffixes, a byte that differs only in the
  // overlapping last word, and multi-byte UTF-8.
  const keys = [
    "BTCUSDT",
    "ETHUSDT",
    "BTCUSDC",
    "1000PEPEUSDT",
    "1000SHIBUSDT",
    "ABCD",
    "ABC",
    "AB",
    "",
    "ABCDE",
    "ABCE",
    "ÄÖÜ€",
  ];
  for (let i = 0; i < 3000; i++) keys.push(`SYM${i}USDT`);
  const idx = new ByteKeyIndex(keys);
  keys.forEach((k, i) => {
    for (const pad of ["", "x", "xyz"]) {
      const b = enc.encode(`${pad}${k}!`);
      assert.equal(idx.get(b, pad.length, b.length - pad.length - 1), i, `${k} at offset ${pad.length}`);
    }
  });
  for (const absent of [
    "BTCUSD",
    "BTCUSDTT",
    "SYM3000USDT",
    "SYM12USDC",
    "1000PEPEUSDC",
    "ABCF",
    "ABX",
    "A",
  ]) {
    const b = enc.encode(absent);
    assert.equal(idx.get(b, 0, b.length), -1, absent);
  }
});
