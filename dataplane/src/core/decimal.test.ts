import assert from "node:assert/strict";
import { test } from "node:test";
import {
  addExact,
  exactToBigInt,
  exactToString,
  insertPoint,
  lastProductLo,
  parseDecimal,
  parsedDecimals,
  PARSE_BAD,
  PARSE_RANGE,
  toFixedDecimals,
  twoProduct,
} from "./decimal.js";

test("plain decimals parse into the integer of their digits and their number of decimals", () => {
  assert.equal(parseDecimal("61837.63000000"), 6183763000000);
  assert.equal(parsedDecimals(), 8);
  assert.equal(parseDecimal("0.003"), 3);
  assert.equal(parsedDecimals(), 3);
  assert.equal(parseDecimal("42"), 42);
  assert.equal(parsedDecimals(), 0);
  assert.equal(parseDecimal("0.00000000"), 0);
  assert.equal(parsedDecimals(), 8);
});

test("anything but digits with one inner point is rejected as malformed", () => {
  for (const bad of ["", "-1", "+1", "1e5", "1.2.3", ".5", "5.", " 1", "1 ", "0x10", "1,5", "NaN", "١٢"]) {
    assert.equal(parseDecimal(bad), PARSE_BAD, bad);
  }
});

test("values beyond 2^53, too many decimals or absurdly long text are out of range", () => {
  assert.equal(parseDecimal("9007199254740991"), 9007199254740991);
  assert.equal(parseDecimal("9007199254740993"), PARSE_RANGE);
  assert.equal(parseDecimal("90071992.547409930"), PARSE_RANGE);
  assert.equal(parseDecimal("0.0000000000001"), PARSE_RANGE); // 13 decimals
  assert.equal(parseDecimal("1".repeat(41)), PARSE_RANGE);
});

test("the product of two 53-bit integers splits exactly into a high and a low part", () => {
  const a = 6183763000000; // 61837.63 at 8 decimals
  const b = 2000000; // 0.02 at 8 decimals
  const hi = twoProduct(a, b);
  assert.equal(BigInt(hi) + BigInt(lastProductLo()), BigInt(a) * BigInt(b));
  const x = 9007199254740991;
  const y = 9007199254740881;
  const h2 = twoProduct(x, y);
  assert.equal(BigInt(h2) + BigInt(lastProductLo()), BigInt(x) * BigInt(y));
});

test("exact sums stay exact where float64 sums drift", () => {
  const pair = new Float64Array(2);
  let float = 0;
  let big = 0n;
  // 0.1 + 0.2 style drift at scale: 100,000 products of ~1e19 each.
  for (let i = 0; i < 100_000; i++) {
    const p = 6183763000000 + i;
    const q = 123456789 + i * 7;
    const hi = twoProduct(p, q);
    addExact(pair, 0, hi, lastProductLo());
    float += p * q;
    big += BigInt(p) * BigInt(q);
  }
  assert.equal(exactToBigInt(pair[0]!, pair[1]!), big);
  assert.notEqual(BigInt(float), big, "float64 should have drifted");
});

test("scaled integers print as plain decimals with the requested decimals", () => {
  assert.equal(insertPoint("123", 5), "0.00123");
  assert.equal(insertPoint("123", 3), "0.123");
  assert.equal(insertPoint("123", 2), "1.23");
  assert.equal(insertPoint("0", 2), "0.00");
  assert.equal(insertPoint("7", 0), "7");
  assert.equal(exactToString(2 ** 60, 1, 16), "115.2921504606846977");
});

test("decimal strings are cut to fewer decimals by truncation, half-up or half-even", () => {
  assert.equal(toFixedDecimals("1.23456785", 7, "truncate"), "1.2345678");
  assert.equal(toFixedDecimals("1.23456785", 7, "half_up"), "1.2345679");
  assert.equal(toFixedDecimals("1.23456785", 7, "half_even"), "1.2345678");
  assert.equal(toFixedDecimals("1.23456775", 7, "half_even"), "1.2345678");
  assert.equal(toFixedDecimals("1.234567850001", 7, "half_even"), "1.2345679");
  assert.equal(toFixedDecimals("9.99999999999", 8, "half_up"), "10.00000000");
  assert.equal(toFixedDecimals("0.000000005", 8, "half_up"), "0.00000001");
  assert.equal(toFixedDecimals("61940.00", 8, "truncate"), "61940.00000000");
  assert.equal(toFixedDecimals("7", 2, "truncate"), "7.00");
  assert.equal(toFixedDecimals("7.5", 0, "half_even"), "8");
});
