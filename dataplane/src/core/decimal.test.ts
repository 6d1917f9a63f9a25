import assert from "node:assert/strict";
import { test } from "node:test";
import {
  addExact,
  exactToBigInt,
  exactToString,
  insertPoint,
  parseDecimal,
  PARSE_BAD,
  PARSE_RANGE,
  scaledToString,
  toFixedDecimals,
  twoProduct,
} from "./decimal.js";

/** [value, decimals] of a parse, or the error code alone. */
function parse(s: string): [number, number] | number {
  const out = new Float64Array(1);
  const d = parseDecimal(s, out, 0);
  return d < 0 ? d : [out[0]!, d];
}

test("plain decimals parse into the integer of their digits and their number of decimals", () => {
  assert.deepEqual(parse("61837.63000000"), [6183763000000, 8]);
  assert.deepEqual(parse("0.003"), [3, 3]);
  assert.deepEqual(parse("42"), [42, 0]);
  assert.deepEqual(parse("0.00000000"), [0, 8]);
});

test("anything but digits with one inner point is rejected as malformed", () => {
  for (const bad of ["", "-1", "+1", "1e5", "1.2.3", ".5", "5.", " 1", "1 ", "0x10", "1,5", "NaN", "١٢"]) {
    assert.equal(parse(bad), PARSE_BAD, bad);
  }
});

test("values beyond 2^53, too many decimals or absurdly long text are out of range", () => {
  assert.deepEqual(parse("9007199254740991"), [9007199254740991, 0]);
  assert.equal(parse("9007199254740993"), PARSE_RANGE);
  assert.equal(parse("90071992.547409930"), PARSE_RANGE);
  assert.equal(parse("0.0000000000001"), PARSE_RANGE); // 13 decimals
  assert.equal(parse("1".repeat(41)), PARSE_RANGE);
});

test("the product of two 53-bit integers splits exactly into a high and a low part", () => {
  const a = 6183763000000; // 61837.63 at 8 decimals
  const b = 2000000; // 0.02 at 8 decimals
  const out = new Float64Array(2);
  twoProduct(a, b, out, 0);
  assert.equal(BigInt(out[0]!) + BigInt(out[1]!), BigInt(a) * BigInt(b));
  const x = 9007199254740991;
  const y = 9007199254740881;
  twoProduct(x, y, out, 0);
  assert.equal(BigInt(out[0]!) + BigInt(out[1]!), BigInt(x) * BigInt(y));
});

test("exact sums stay exact where float64 sums drift", () => {
  const pair = new Float64Array(2);
  const prod = new Float64Array(2);
  let float = 0;
  let big = 0n;
  // 0.1 + 0.2 style drift at scale: 100,000 products of ~1e19 each.
  for (let i = 0; i < 100_000; i++) {
    const p = 6183763000000 + i;
    const q = 123456789 + i * 7;
    twoProduct(p, q, prod, 0);
    addExact(pair, 0, prod[0]!, prod[1]!);
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

test("exact pairs print the same digits as BigInt arithmetic, with and without a low part", () => {
  const cases: [number, number][] = [
    [0, 0],
    [9007199254740991, 0],
    [9007199254740992, 1],
    [2 ** 99, -(2 ** 45)],
    [2 ** 60 + 2 ** 10, 12345],
    [2 ** 96 + 2 ** 50, -987654321],
    [1e22, 0],
    [1e22, -1],
  ];
  for (const [hi, lo] of cases) {
    assert.equal(exactToString(hi, lo, 0), (BigInt(hi) + BigInt(lo)).toString(), `${hi} ${lo}`);
  }
  const pair = new Float64Array(2);
  const prod = new Float64Array(2);
  let big = 0n;
  for (let i = 1; i < 500; i++) {
    const p = 6183763000000 + i * 104729;
    const q = 9007199254 * i;
    twoProduct(p, q, prod, 0);
    addExact(pair, 0, prod[0]!, prod[1]!);
    big += BigInt(p) * BigInt(q);
    assert.equal(exactToString(pair[0]!, pair[1]!, 16), insertPoint(big.toString(), 16));
  }
});

test("random normalized pairs up to 2^100 print exactly", () => {
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  for (let i = 0; i < 2000; i++) {
    const hi = Math.floor(2 ** (53 + rnd() * 46) * (1 + rnd()));
    const ulp = 2 ** (Math.floor(Math.log2(hi)) - 52);
    const lo = Math.trunc((rnd() - 0.5) * ulp);
    assert.equal(exactToString(hi, lo, 0), (BigInt(hi) + BigInt(lo)).toString(), `${hi} ${lo}`);
  }
});

test("scaled integers print with their decimals exactly as the digits with a point inserted", () => {
  let seed = 777;
  const rnd = (): number => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  const edge = [0, 1, 9, 10, 99, 100, 999_999, 1_000_000, 2 ** 53 - 1, 2 ** 53 - 2, 1e15, 1e15 - 1];
  for (let i = 0; i < 5000; i++) {
    const v = i < edge.length ? edge[i]! : Math.floor(2 ** (rnd() * 53));
    for (let d = 0; d <= 20; d++) {
      const big = BigInt(v).toString();
      assert.equal(scaledToString(v, d), insertPoint(big, d), `${v} with ${d} decimals`);
      assert.equal(exactToString(v, 0, d), insertPoint(big, d), `${v} + 0 with ${d} decimals`);
    }
  }
  assert.equal(scaledToString(6183763, 2), "61837.63");
  assert.equal(scaledToString(3, 8), "0.00000003");
});

test("exact pairs between 2^53 and 2^80 print exactly with any number of decimals", () => {
  let seed = 4242;
  const rnd = (): number => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  for (let i = 0; i < 3000; i++) {
    const hi = Math.floor(2 ** (53 + rnd() * 27));
    const ulp = 2 ** (Math.floor(Math.log2(hi)) - 52);
    const lo = i % 3 === 0 ? 0 : Math.trunc((rnd() - 0.5) * ulp);
    const big = (BigInt(hi) + BigInt(lo)).toString();
    for (let d = 0; d <= 24; d++) {
      assert.equal(exactToString(hi, lo, d), insertPoint(big, d), `${hi} + ${lo} with ${d} decimals`);
    }
  }
  // Around the split's edges: multiples of 1e8 and their neighbours.
  for (const v of [10n ** 16n, 10n ** 16n - 1n, 10n ** 16n + 1n, 123456789n * 10n ** 8n, 2n ** 79n - 1n]) {
    const hi = Number(v);
    const lo = Number(v - BigInt(hi));
    for (let d = 0; d <= 20; d++) assert.equal(exactToString(hi, lo, d), insertPoint(v.toString(), d));
  }
});
