/**
 * Exact decimals written as ASCII bytes straight into a buffer: the same text
 * as `scaledToString` / `exactToString` (decimal.ts), without building a
 * string. The worker's pull answer encodes tens of thousands of klines, eight
 * decimals each, per tick; as strings they cost an allocation and a
 * number-to-string conversion each, and most of the pull's garbage.
 *
 * A value is split into base-1e8 limbs (int32 each) and its digits are
 * written right to left with int32 arithmetic, inserting the point.
 */
import { exactToString, POW10, splitBy1e8 } from "./decimal.js";

const MAX_EXACT = Number.MAX_SAFE_INTEGER;
const E8 = 1e8;
/** Pairs with hi below this split exactly into q * 1e8 + r with q < 2^53 (see decimal.ts splitBy1e8). */
const MAX_BY_1E8 = 2 ** 79;
/** Quotient and remainder of splitBy1e8 (reused: no allocation per value). */
const qr = new Float64Array(2);

/** Number of decimal digits of an integer 0 <= x < 1e8 (1 for 0). */
function digits8(x: number): number {
  if (x < 1e4) return x < 100 ? (x < 10 ? 1 : 2) : x < 1000 ? 3 : 4;
  return x < 1e6 ? (x < 1e5 ? 5 : 6) : x < 1e7 ? 7 : 8;
}

/** "00" .. "99" as char codes: two digits per division. */
const PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  PAIRS[2 * i] = 48 + Math.floor(i / 10);
  PAIRS[2 * i + 1] = 48 + (i % 10);
}
/** The 24 digits of the three limbs of the value being written. */
const DIGITS = new Uint8Array(24);

/** Writes the 8 digits of x (an integer in [0, 1e8)) to DIGITS[at, at + 8). */
function digits8At(x: number, at: number): void {
  for (let i = at + 6; i >= at; i -= 2) {
    const q = (x / 100) | 0;
    const r = (x - q * 100) << 1;
    DIGITS[i] = PAIRS[r]!;
    DIGITS[i + 1] = PAIRS[r + 1]!;
    x = q;
  }
}

/**
 * Writes l2 * 1e16 + l1 * 1e8 + l0 (each limb an integer in [0, 1e8)) with a
 * point `decimals` digits from the right and at least one digit before it
 * ("0.00123"), at buf[pos]; returns the end position.
 */
function writeLimbs(
  buf: Uint8Array,
  pos: number,
  l2: number,
  l1: number,
  l0: number,
  decimals: number,
): number {
  const nd = l2 > 0 ? 16 + digits8(l2) : l1 > 0 ? 8 + digits8(l1) : digits8(l0);
  const width = decimals > 0 && nd <= decimals ? decimals + 1 : nd;
  digits8At(l0 | 0, 16);
  if (width > 8) digits8At(l1 | 0, 8);
  if (width > 16) digits8At(l2 | 0, 0);
  // The last `width` of the 24 digits (leading zeros beyond them when decimals > 23), point inserted.
  let p = pos;
  const point = 24 - decimals;
  let i = 24 - width;
  for (; i < point; i++) buf[p++] = i < 0 ? 48 : DIGITS[i]!;
  if (decimals === 0) return p;
  buf[p++] = 46; // "."
  for (; i < 24; i++) buf[p++] = i < 0 ? 48 : DIGITS[i]!;
  return p;
}

/**
 * Writes the n lowest decimal digits of x (an integer in [0, 1e8)), zero padded, so that they end at
 * buf[end - 1]: right to left, two digits per division.
 */
function putDigits(buf: Uint8Array, end: number, x: number, n: number): void {
  let i = end - 1;
  const stop = end - n;
  while (i > stop) {
    const q = (x / 100) | 0;
    const r = (x - q * 100) << 1;
    buf[i] = PAIRS[r + 1]!;
    buf[i - 1] = PAIRS[r]!;
    x = q;
    i -= 2;
  }
  if (i === stop) buf[i] = 48 + x - ((x / 10) | 0) * 10;
}

/** Writes the digits of an integer 0 <= v < 2^53 (no leading zeros, "0" for 0) at buf[pos]; returns the end. */
function writeInteger(buf: Uint8Array, pos: number, v: number): number {
  if (v < E8) {
    const end = pos + digits8(v);
    putDigits(buf, end, v | 0, end - pos);
    return end;
  }
  let hi = Math.floor(v / E8);
  if (hi * E8 > v) hi--; // v / 1e8 can only round up to the next integer
  const end = pos + digits8(hi) + 8;
  putDigits(buf, end, (v - hi * E8) | 0, 8);
  putDigits(buf, end - 8, hi | 0, end - 8 - pos);
  return end;
}

/** Writes the text of `scaledToString(v, decimals)` (0 <= v < 2^53, an integer) at buf[pos]; returns the end. */
export function writeScaled(buf: Uint8Array, pos: number, v: number, decimals: number): number {
  if (decimals === 0) return writeInteger(buf, pos, v);
  if (decimals > 15) {
    let hi = Math.floor(v / E8);
    if (hi * E8 > v) hi--;
    return writeLimbs(buf, pos, 0, hi, v - hi * E8, decimals);
  }
  const pw = POW10[decimals]!;
  let ip = Math.floor(v / pw);
  if (ip * pw > v) ip--;
  const fp = v - ip * pw; // < 10^decimals
  const p = writeInteger(buf, pos, ip);
  buf[p] = 46; // "."
  const end = p + 1 + decimals;
  if (decimals <= 8) {
    putDigits(buf, end, fp | 0, decimals);
  } else {
    const fh = Math.floor(fp / E8); // fp < 1e15: exact enough, corrected below
    const fhi = fh * E8 > fp ? fh - 1 : fh;
    putDigits(buf, end, (fp - fhi * E8) | 0, 8);
    putDigits(buf, end - 8, fhi | 0, decimals - 8);
  }
  return end;
}

/** Writes the text of `exactToString(hi, lo, decimals)` (the exact pair hi + lo >= 0) at buf[pos]; returns the end. */
export function writeExact(buf: Uint8Array, pos: number, hi: number, lo: number, decimals: number): number {
  if (hi <= MAX_EXACT) {
    const v = hi + lo; // exact below 2^53 (both are integers)
    if (v <= MAX_EXACT) return writeScaled(buf, pos, v, decimals);
  }
  if (hi < MAX_BY_1E8) {
    // v = q * 1e8 + r exactly (q < 2^53, 0 <= r < 1e8); the text is q's with 8 fewer decimals
    // followed by r's 8 digits (q > 0: v >= 2^53).
    splitBy1e8(hi, lo, qr);
    const q = qr[0]!;
    const r = qr[1]!;
    if (decimals > 8) {
      const p = writeScaled(buf, pos, q, decimals - 8);
      putDigits(buf, p + 8, r | 0, 8);
      return p + 8;
    }
    const p = writeInteger(buf, pos, q);
    if (decimals === 0) {
      putDigits(buf, p + 8, r | 0, 8);
      return p + 8;
    }
    const pw = POW10[decimals]!;
    const rh = Math.floor(r / pw); // exact: r < 1e8, pw a power of ten <= 1e8
    const point = p + 8 - decimals;
    putDigits(buf, point, rh | 0, 8 - decimals);
    buf[point] = 46; // "."
    putDigits(buf, point + 1 + decimals, (r - rh * pw) | 0, decimals);
    return point + 1 + decimals;
  }
  return writeAscii(buf, pos, exactToString(hi, lo, decimals)); // beyond ~6e23 units: rare
}

/** Writes an ASCII string's char codes at buf[pos]; returns the end. */
export function writeAscii(buf: Uint8Array, pos: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[pos + i] = s.charCodeAt(i);
  return pos + s.length;
}

/**
 * An upper bound of the text writeScaled / writeExact produce for the engine's values: pairs below
 * MAX_EXACT_SUM (at most 31 digits) with at most 24 decimals (price + quantity decimals), plus the point.
 */
export const MAX_DECIMAL_TEXT = 64;
