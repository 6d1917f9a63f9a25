/**
 * Encodes the klines of a pull answer straight from the engine's table rows
 * into protobuf bytes (a `KlineRowVisitor`): no KlineRecord objects, no
 * decimal strings, one growable buffer reused from pull to pull. The output is
 * the `klines` entries of PullChunks (tag, length, `klagg.v1.Kline`), byte-
 * identical to `encodePullChunk` of the records `engine.pull` would return
 * (tests check it); `encodePullChunkBytes` wraps slices of it into chunks.
 */
import { MAX_DECIMAL_TEXT, writeExact, writeScaled } from "../core/decimal-bytes.js";
import type { KlineRowVisitor } from "../core/engine-api.js";
import { F } from "../core/kline-table.js";
import type { Interval } from "../core/types.js";
import { PULL_CHUNK_TAGS } from "./pull-encoder.js";

const TWO_28 = 268_435_456;

/** Writes the protobuf varint of an integer n (|n| < 2^53; negative: 64-bit two's complement) at buf[p]. */
function writeVarint(buf: Uint8Array, p: number, n: number): number {
  if (n < 0) {
    let v = BigInt.asUintN(64, BigInt(n)); // only ids of empty klines (-1): rare enough for BigInt
    for (let i = 0; i < 9; i++) {
      buf[p++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    buf[p++] = Number(v);
    return p;
  }
  if (n >= TWO_28) {
    // Low 28 bits as four 7-bit groups, then the rest: int32 arithmetic only.
    const hi = Math.floor(n / TWO_28);
    let lo = n - hi * TWO_28;
    for (let i = 0; i < 4; i++) {
      buf[p++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    n = hi;
  }
  while (n >= 128) {
    buf[p++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[p++] = n;
  return p;
}

/** A string field (tag, then its bytes with a one-byte length, < 128) at buf[p]; returns the end. */
function bytesField(buf: Uint8Array, p: number, tag: number, bytes: Uint8Array): number {
  if (bytes.length === 0) return p; // proto3 omits empty strings
  buf[p] = tag;
  p = writeVarint(buf, p + 1, bytes.length);
  for (let i = 0; i < bytes.length; i++) buf[p + i] = bytes[i]!; // shorter than a `set` call for short strings
  return p + bytes.length;
}

/** Kline field tags: (field << 3) | wire type. */
const T_OPEN_TIME = 3 << 3;
const T_CLOSE_TIME = 4 << 3;
const T_TRADES = 11 << 3;
const T_FIRST_ID = 14 << 3;
const T_LAST_ID = 15 << 3;
const T_SYMBOL = (1 << 3) | 2;
const T_INTERVAL = (2 << 3) | 2;

/** Buffer bytes kept from pull to pull even when the last answer was much smaller. */
const KEEP_BYTES = 16 << 20;

/** Price texts remembered per symbol within one answer. */
const PRICE_WAYS = 4;

/** Fixed bytes of a kline beyond its symbol and decimals: tags, varints (<= 10 each), prefixes. */
const KLINE_FIXED_BYTES = 3 + 17 + 7 * 10 + 8 + 8;

/** Encodes pull rows into consecutive PullChunk `klines` entries. */
export class KlineRowEncoder implements KlineRowVisitor {
  /** The encoded entries: bytes [0, size). */
  buf = new Uint8Array(1 << 16);
  /** ends[i]: the end of entry i in `buf` (entry i starts at ends[i - 1], or 0). */
  ends = new Int32Array(1024);
  /** refs[i]: the symbol index of entry i (its PullChunk `symbol_refs` entry). */
  refs = new Int32Array(1024);
  count = 0;
  size = 0;
  private readonly symbolBytes: Uint8Array[];
  private readonly intervalBytes: Uint8Array[];
  private readonly maxEntry: number;
  /**
   * Price texts already written in this answer, per symbol (PRICE_WAYS entries each, replaced round
   * robin): a symbol's 16 klines share their close and often open, high and low, so most prices are
   * copied from an earlier kline of the answer instead of being converted again.
   */
  private readonly priceValue: Float64Array;
  private readonly pricePos: Int32Array;
  private readonly priceNext: Uint8Array;
  /** The answer each symbol's price entries belong to (entries of older answers are stale). */
  private readonly priceAnswer: Int32Array;
  private answer = 1;
  /**
   * Per symbol x interval, the bytes of the length prefix of its previous kline (1 below 128 bytes, else 2):
   * the guess for its next one (a kline grows slowly, and answers hover around 128 bytes a kline).
   */
  private readonly lenGuess: Uint8Array;
  private readonly nIntervals: number;

  constructor(symbols: readonly string[], intervals: readonly Interval[]) {
    const utf8 = new TextEncoder();
    this.symbolBytes = symbols.map((s) => utf8.encode(s));
    this.intervalBytes = intervals.map((s) => utf8.encode(s));
    const longest = this.symbolBytes.reduce((m, b) => Math.max(m, b.length), 0);
    this.maxEntry = KLINE_FIXED_BYTES + longest + 8 + 8 * (MAX_DECIMAL_TEXT + 2);
    if (this.maxEntry >= 16384) throw new RangeError(`symbols of ${longest} bytes are too long`);
    this.priceValue = new Float64Array(symbols.length * PRICE_WAYS);
    this.pricePos = new Int32Array(symbols.length * PRICE_WAYS);
    this.priceNext = new Uint8Array(symbols.length);
    this.priceAnswer = new Int32Array(symbols.length);
    this.nIntervals = intervals.length;
    this.lenGuess = new Uint8Array(symbols.length * intervals.length).fill(2);
  }

  /** Forgets the previous answer (the buffer is reused). */
  reset(): void {
    // A full answer can be far larger than the steady incremental ones: give its memory back.
    if (this.buf.length > KEEP_BYTES && this.size < this.buf.length / 4) {
      this.buf = new Uint8Array(Math.max(1 << 16, this.size * 2));
      this.ends = new Int32Array(Math.max(1024, this.count * 2));
      this.refs = new Int32Array(this.ends.length);
    }
    this.count = 0;
    this.size = 0;
    this.answer++;
  }

  /** The symbol refs of entries [from, to). A view, valid like `slice`. */
  refSlice(from: number, to: number): Int32Array {
    return this.refs.subarray(from, to);
  }

  /** Bytes of entries [from, to). A view into the reused buffer: copy it before the next `reset`. */
  slice(from: number, to: number): Uint8Array {
    return this.buf.subarray(from === 0 ? 0 : this.ends[from - 1]!, to === 0 ? 0 : this.ends[to - 1]!);
  }

  row(
    d: Float64Array,
    b: number,
    s: number,
    k: number,
    closeTime: number,
    dp: number,
    dq: number,
    closed: boolean,
  ): void {
    this.reserve();
    const buf = this.buf;
    const start = this.size;
    // The body goes after a length prefix of the size guessed from the slot's previous kline; moved by a
    // byte when the guess was wrong.
    const slot = s * this.nIntervals + k;
    const guess = this.lenGuess[slot]!;
    const body = start + 1 + guess;
    let p = bytesField(buf, body, T_SYMBOL, this.symbolBytes[s]!);
    p = bytesField(buf, p, T_INTERVAL, this.intervalBytes[k]!);
    p = intField(buf, p, T_OPEN_TIME, d[b + F.OpenTime]!);
    p = intField(buf, p, T_CLOSE_TIME, closeTime);
    if (this.priceAnswer[s] !== this.answer) {
      this.priceAnswer[s] = this.answer;
      this.priceValue.fill(-1, s * PRICE_WAYS, (s + 1) * PRICE_WAYS);
    }
    p = this.price(buf, p, (5 << 3) | 2, s, d[b + F.Open]!, dp);
    p = this.price(buf, p, (6 << 3) | 2, s, d[b + F.High]!, dp);
    p = this.price(buf, p, (7 << 3) | 2, s, d[b + F.Low]!, dp);
    p = this.price(buf, p, (8 << 3) | 2, s, d[b + F.Close]!, dp);
    p = exactField(buf, p, (9 << 3) | 2, d[b + F.VolHi]!, d[b + F.VolLo]!, dq);
    p = exactField(buf, p, (10 << 3) | 2, d[b + F.QuoteHi]!, d[b + F.QuoteLo]!, dp + dq);
    p = intField(buf, p, T_TRADES, d[b + F.Count]!);
    p = exactField(buf, p, (12 << 3) | 2, d[b + F.TakerVolHi]!, d[b + F.TakerVolLo]!, dq);
    p = exactField(buf, p, (13 << 3) | 2, d[b + F.TakerQuoteHi]!, d[b + F.TakerQuoteLo]!, dp + dq);
    p = intField(buf, p, T_FIRST_ID, d[b + F.FirstId]!);
    p = intField(buf, p, T_LAST_ID, d[b + F.LastId]!);
    if (closed) {
      buf[p++] = 0x80; // field 16 varint: tag 128 as a two-byte varint
      buf[p++] = 0x01;
      buf[p++] = 1;
    }
    const version = d[b + F.Version]!;
    if (version !== 0) {
      buf[p++] = 0x88; // field 17 varint: tag 136
      buf[p++] = 0x01;
      p = writeVarint(buf, p, version);
    }
    const len = p - body;
    if (len >= 16384) throw new RangeError(`kline of ${len} bytes`); // cannot happen: maxEntry < 16 KiB
    buf[start] = PULL_CHUNK_TAGS.klines;
    const lenBytes = len < 128 ? 1 : 2;
    if (lenBytes !== guess) {
      const delta = lenBytes - guess;
      buf.copyWithin(body + delta, body, p);
      p += delta;
      // Price texts remembered from this kline moved with it.
      for (let w = s * PRICE_WAYS; w < (s + 1) * PRICE_WAYS; w++)
        if (this.pricePos[w]! >= body) this.pricePos[w] = this.pricePos[w]! + delta;
      this.lenGuess[slot] = lenBytes;
    }
    if (lenBytes === 1) {
      buf[start + 1] = len;
    } else {
      buf[start + 1] = (len & 0x7f) | 0x80;
      buf[start + 2] = len >>> 7;
    }
    if (this.count === this.ends.length) {
      this.ends = doubled(this.ends);
      this.refs = doubled(this.refs);
    }
    this.refs[this.count] = s;
    this.ends[this.count++] = p;
    this.size = p;
  }

  /** A price field of symbol s at buf[p]: copied from this answer's earlier text of the same price if any. */
  private price(buf: Uint8Array, p: number, tag: number, s: number, v: number, dp: number): number {
    const base = s * PRICE_WAYS;
    for (let w = base; w < base + PRICE_WAYS; w++) {
      if (this.priceValue[w] === v) {
        const from = this.pricePos[w]!; // the earlier field's length byte
        const n = buf[from]! + 1;
        buf[p] = tag;
        for (let i = 0; i < n; i++) buf[p + 1 + i] = buf[from + i]!;
        return p + 1 + n;
      }
    }
    const w = base + this.priceNext[s]!;
    this.priceNext[s] = (this.priceNext[s]! + 1) % PRICE_WAYS;
    this.priceValue[w] = v;
    this.pricePos[w] = p + 1;
    return scaledField(buf, p, tag, v, dp);
  }

  /** Makes room for one more entry at the end. */
  private reserve(): void {
    if (this.size + this.maxEntry <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.size + this.maxEntry));
    grown.set(this.buf.subarray(0, this.size));
    this.buf = grown;
  }
}

function doubled(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(a.length * 2);
  grown.set(a);
  return grown;
}

function intField(buf: Uint8Array, p: number, tag: number, n: number): number {
  if (n === 0) return p;
  buf[p] = tag;
  return writeVarint(buf, p + 1, n);
}

/** A decimal field: tag, one-byte length (texts stay below 128 bytes), digits. */
function scaledField(buf: Uint8Array, p: number, tag: number, v: number, decimals: number): number {
  buf[p] = tag;
  const end = writeScaled(buf, p + 2, v, decimals);
  buf[p + 1] = end - p - 2;
  return end;
}

function exactField(
  buf: Uint8Array,
  p: number,
  tag: number,
  hi: number,
  lo: number,
  decimals: number,
): number {
  buf[p] = tag;
  const end = writeExact(buf, p + 2, hi, lo, decimals);
  buf[p + 1] = end - p - 2;
  return end;
}
