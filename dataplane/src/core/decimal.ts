/**
 * Exact decimal arithmetic for the engine's hot path, without a decimal
 * library and without allocation.
 *
 * Representation: a price or quantity is a scaled integer (its digits without
 * the point) held in a double, exact up to 2^53. Sums are held as an unevaluated
 * pair of integer-valued doubles (hi + lo, "double-double"): the pair holds any
 * integer below ~2^100 exactly, because
 * - the product of two integers below 2^53 is split exactly into hi + lo by
 *   Dekker's TwoProduct (Veltkamp split, 2^27 + 1), and
 * - Knuth's TwoSum adds without losing a bit, every partial result being an
 *   integer below 2^53.
 * All values are non-negative, so there is no cancellation. Strings are built
 * only when a kline is read (BigInt there, never per trade).
 */

/** 10^i for i in 0..22; every entry is an exact double. */
export const POW10: readonly number[] = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/** Largest number of decimals accepted in a price or quantity string (Binance uses at most 8). */
export const MAX_DECIMALS = 12;

/** parseDecimal result: the text is not a plain non-negative decimal. */
export const PARSE_BAD = -1;
/** parseDecimal result: the value or its number of decimals exceeds what is exact. */
export const PARSE_RANGE = -2;

const MAX_EXACT = Number.MAX_SAFE_INTEGER;
const MAX_TEXT_LENGTH = 40;

/**
 * Parses a plain decimal ("61837.63000000", "0.003", "42") with a charCode
 * loop: writes the integer of its digits (6183763000000) to out[at] and
 * returns its number of decimals (8). Returns PARSE_BAD for anything that is
 * not digits with at most one inner point (signs, exponents, spaces, "", ".5",
 * "5."), PARSE_RANGE when the digits exceed 2^53 or the decimals MAX_DECIMALS.
 * (Results go to a typed array, never returned as a double, so nothing is boxed.)
 */
export function parseDecimal(s: string, out: Float64Array, at: number): number {
  const n = s.length;
  if (n === 0 || n > MAX_TEXT_LENGTH) return n === 0 ? PARSE_BAD : PARSE_RANGE;
  let v = 0;
  let point = -1;
  for (let i = 0; i < n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d >= 0 && d <= 9) {
      v = v * 10 + d;
    } else if (d === -2 && point < 0 && i > 0 && i < n - 1) {
      point = i;
    } else {
      return PARSE_BAD;
    }
  }
  const decimals = point < 0 ? 0 : n - point - 1;
  // Rounding is monotonic, so a true value above 2^53 never computes below it.
  if (v > MAX_EXACT || decimals > MAX_DECIMALS) return PARSE_RANGE;
  out[at] = v;
  return decimals;
}

const SPLITTER = 134217729; // 2^27 + 1

/**
 * Exact product of two integers below 2^53 (Dekker's TwoProduct): writes
 * hi = fl(a*b) to out[at] and lo to out[at + 1], with hi + lo === a*b exactly.
 */
export function twoProduct(a: number, b: number, out: Float64Array, at: number): void {
  const p = a * b;
  let c = SPLITTER * a;
  const ah = c - (c - a);
  const al = a - ah;
  c = SPLITTER * b;
  const bh = c - (c - b);
  const bl = b - bh;
  out[at] = p;
  out[at + 1] = ah * bh - p + ah * bl + al * bh + al * bl;
}

/** Adds the exact value xh + xl to the pair (d[i], d[i + 1]), exactly, keeping the pair normalized. */
export function addExact(d: Float64Array, i: number, xh: number, xl: number): void {
  const h = d[i]!;
  const s = h + xh;
  const bp = s - h;
  const e = h - (s - bp) + (xh - bp);
  const l = d[i + 1]! + e + xl;
  const s2 = s + l;
  d[i + 1] = l - (s2 - s);
  d[i] = s2;
}

/** Largest |hi| the pair representation is exact for (the low parts stay integers below 2^53). */
export const MAX_EXACT_SUM = 2 ** 100;

const LIMB = 1e7;
const limbs = new Float64Array(8);

/**
 * The integer hi + lo as a decimal digit string (values are non-negative).
 * Without BigInt: hi = m * 2^e is expanded into base-1e7 limbs, every
 * intermediate below 2^53.
 */
export function exactToIntegerString(hi: number, lo: number): string {
  if (hi <= MAX_EXACT) {
    const v = hi + lo;
    if (v <= MAX_EXACT) return String(v);
  }
  // hi = m * 2^e with m <= 2^53: above 2^53 every double is a multiple of the power of two divided out.
  let e = Math.max(0, Math.ceil(Math.log2(hi)) - 53);
  let m = hi / 2 ** e;
  while (m > MAX_EXACT) {
    m /= 2;
    e++;
  }
  let n = 0;
  while (m > 0) {
    const q = Math.floor(m / LIMB);
    limbs[n++] = m - q * LIMB;
    m = q;
  }
  while (e > 0) {
    const shift = e > 20 ? 20 : e;
    const f = 2 ** shift;
    e -= shift;
    let carry = 0;
    for (let i = 0; i < n; i++) {
      const x = limbs[i]! * f + carry; // < 1e7 * 2^20 + carry: exact
      carry = Math.floor(x / LIMB);
      limbs[i] = x - carry * LIMB;
    }
    while (carry > 0) {
      const q = Math.floor(carry / LIMB);
      limbs[n++] = carry - q * LIMB;
      carry = q;
    }
  }
  let carry = lo;
  for (let i = 0; i < n && carry !== 0; i++) {
    const x = limbs[i]! + carry;
    carry = Math.floor(x / LIMB); // floor: negative x borrows
    limbs[i] = x - carry * LIMB;
  }
  while (n > 1 && limbs[n - 1] === 0) n--;
  let out = String(limbs[n - 1]!);
  for (let i = n - 2; i >= 0; i--) {
    const l = String(limbs[i]!);
    out += l.length === 7 ? l : "0000000".slice(l.length) + l;
  }
  return out;
}

/** hi + lo as a BigInt. */
export function exactToBigInt(hi: number, lo: number): bigint {
  return BigInt(hi) + BigInt(lo);
}

/** Splits a non-negative BigInt below 2^100 into an integer pair (hi, lo), written to out[0], out[1]. */
export function bigIntToExact(v: bigint, out: Float64Array): void {
  const hi = Number(v);
  out[0] = hi;
  out[1] = Number(v - BigInt(hi));
}

/** Places a decimal point `decimals` digits from the right of the digit string `digits`: ("123", 5) -> "0.00123". */
export function insertPoint(digits: string, decimals: number): string {
  if (decimals === 0) return digits;
  const padded = digits.length <= decimals ? "0".repeat(decimals - digits.length + 1) + digits : digits;
  const cut = padded.length - decimals;
  return `${padded.slice(0, cut)}.${padded.slice(cut)}`;
}

/** ZEROS[i] is i zeros. */
const ZEROS: readonly string[] = Array.from({ length: 23 }, (_, i) => "0".repeat(i));

/**
 * A scaled integer (< 2^53) as a plain decimal string with `decimals` decimals.
 * Splits it arithmetically into integer and fraction (fewer temporary strings
 * than slicing the digits: pulls build millions of these). Writing the digits
 * into a reused char-code array for String.fromCharCode was tried: slower.
 */
export function scaledToString(v: number, decimals: number): string {
  if (decimals === 0) return String(v);
  if (decimals > 15) return insertPoint(String(v), decimals);
  const p = POW10[decimals]!;
  let ip = Math.floor(v / p);
  if (ip * p > v) ip--; // v / p can only round up to the next integer (ip * p <= v is exact)
  const fs = String(v - ip * p);
  return String(ip) + "." + (fs.length === decimals ? fs : ZEROS[decimals - fs.length]! + fs);
}

/** An exact pair as a plain decimal string with `decimals` decimals. */
export function exactToString(hi: number, lo: number, decimals: number): string {
  if (hi <= MAX_EXACT) {
    const v = hi + lo; // exact when the result is below 2^53 (both are integers)
    if (v <= MAX_EXACT) return scaledToString(v, decimals);
  }
  if (hi < MAX_BY_1E8) {
    // Typical quote volumes (price x quantity, both scaled): v = q * 1e8 + r with q < 2^53, so the
    // string is q's with 8 fewer decimals followed by r's 8 digits: no limb expansion.
    splitBy1e8(hi, lo, qr);
    const q = qr[0]!;
    const rs = String(qr[1]!);
    const r8 = rs.length === 8 ? rs : ZEROS[8 - rs.length]! + rs;
    if (decimals > 8) return scaledToString(q, decimals - 8) + r8;
    if (decimals === 8) return String(q) + "." + r8;
    return insertPoint(String(q) + r8, decimals);
  }
  return insertPoint(exactToIntegerString(hi, lo), decimals);
}

const E8 = 1e8;
/** Pairs with hi below this split exactly into q * 1e8 + r with q < 2^53 (2^53 * 1e8 less a margin). */
const MAX_BY_1E8 = 2 ** 79;
const qr = new Float64Array(2);
const prod = new Float64Array(2);

/**
 * Writes q = floor(v / 1e8) and r = v - q * 1e8 (0 <= r < 1e8) of the exact pair v = hi + lo
 * (2^53 <= hi < 2^79) to out[0], out[1]. Exact: q * 1e8 is split by twoProduct, and every
 * difference taken is an integer below 2^53 (hi - fl(q * 1e8) by Sterbenz' lemma).
 */
export function splitBy1e8(hi: number, lo: number, out: Float64Array): void {
  let q = Math.floor(hi / E8);
  twoProduct(q, E8, prod, 0);
  let r = hi - prod[0]! - prod[1]! + lo;
  const c = Math.floor(r / E8);
  q += c;
  r -= c * E8;
  out[0] = q;
  out[1] = r;
}

/** How a decimal string is shortened to fewer decimals. */
export type RoundingMode = "half_up" | "half_even" | "truncate";

/**
 * Rewrites a plain non-negative decimal string with exactly `decimals` decimals:
 * pads with zeros, or drops digits rounding by `mode`. Exact (string digits).
 */
export function toFixedDecimals(text: string, decimals: number, mode: RoundingMode): string {
  const dot = text.indexOf(".");
  const intPart = dot < 0 ? text : text.slice(0, dot);
  const frac = dot < 0 ? "" : text.slice(dot + 1);
  if (frac.length <= decimals) {
    return decimals === 0 ? intPart : `${intPart}.${frac.padEnd(decimals, "0")}`;
  }
  const kept = BigInt(intPart + frac.slice(0, decimals));
  const rest = frac.slice(decimals);
  let up = false;
  if (mode !== "truncate") {
    const first = rest.charCodeAt(0) - 48;
    const tail = /[1-9]/.test(rest.slice(1));
    if (first > 5 || (first === 5 && tail)) up = true;
    else if (first === 5) up = mode === "half_up" || kept % 2n === 1n;
  }
  return insertPoint((up ? kept + 1n : kept).toString(), decimals);
}
