/**
 * Hand-written protobuf encoder for the Pull hot path: the worker encodes its
 * KlineRecords straight into one buffer per `klagg.v1.PullChunk`, with no
 * intermediate proto objects (fewer allocations and no BigInt conversions on
 * a process that is also ingesting trades). Byte-identical to protobuf-es
 * `toBinary` (tests check it). The decoder is in pull-decoder.ts.
 */
import type { KlineRecord } from "../core/types.js";

// Field tags: (field number << 3) | wire type (0 = varint, 2 = length-delimited).
const T_WORKER = (1 << 3) | 2;
const T_EPOCH = 2 << 3;
const T_VERSION = 3 << 3;
const T_FULL = 4 << 3;
const T_LAST = 5 << 3;
const T_CHUNK_INDEX = 6 << 3;
const T_KLINES = (7 << 3) | 2;
const T_SYMBOLS = (8 << 3) | 2;
const T_SOURCE_DONE = 9 << 3;
/** symbol_refs, packed: one length-delimited field holding the varints. */
const T_SYMBOL_REFS = (10 << 3) | 2;
/** symbol_refs, one varint per field (what a packed-unaware encoder writes; decoders accept both). */
const T_SYMBOL_REF = 10 << 3;

/** PullChunk field tags, shared with the decoder. */
export const PULL_CHUNK_TAGS = {
  worker: T_WORKER,
  epoch: T_EPOCH,
  version: T_VERSION,
  full: T_FULL,
  last: T_LAST,
  chunkIndex: T_CHUNK_INDEX,
  klines: T_KLINES,
  symbols: T_SYMBOLS,
  sourceDone: T_SOURCE_DONE,
  symbolRefs: T_SYMBOL_REFS,
  symbolRef: T_SYMBOL_REF,
} as const;

const NO_REFS = new Int32Array(0);

/**
 * The symbol_refs of `klines[from, to)`: each kline's index in the list `index` was built from (the
 * worker's symbols), or undefined when a symbol is not in it (a chunk sends refs for all its klines or none).
 */
export function symbolRefsOf(
  klines: readonly KlineRecord[],
  from: number,
  to: number,
  index: ReadonlyMap<string, number>,
): Int32Array | undefined {
  const refs = new Int32Array(to - from);
  for (let i = from; i < to; i++) {
    const r = index.get(klines[i]!.symbol);
    if (r === undefined) return undefined;
    refs[i - from] = r;
  }
  return refs;
}

/** The answer-level fields of a chunk. */
export interface ChunkHead {
  readonly worker: string;
  readonly epoch: number;
  readonly version: number;
  readonly full: boolean;
  readonly sourceDone: boolean;
}

function varintSize(n: number): number {
  if (n < 0) return 10; // negative int64: two's complement, always 10 bytes
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** UTF-8 byte length; a fast path for the ASCII strings klines are made of. */
function utf8Size(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, "utf8");
  return s.length;
}

/** Size of a length-delimited string field, 0 when empty (proto3 omits defaults). */
function strField(s: string): number {
  if (s.length === 0) return 0;
  const n = utf8Size(s);
  return 1 + varintSize(n) + n;
}

function intField(n: number): number {
  return n === 0 ? 0 : 1 + varintSize(n);
}

function klineSize(k: KlineRecord): number {
  return (
    strField(k.symbol) +
    strField(k.interval) +
    intField(k.openTime) +
    intField(k.closeTime) +
    strField(k.open) +
    strField(k.high) +
    strField(k.low) +
    strField(k.close) +
    strField(k.volume) +
    strField(k.quoteVolume) +
    intField(k.trades) +
    strField(k.takerBuyVolume) +
    strField(k.takerBuyQuoteVolume) +
    intField(k.firstTradeId) +
    intField(k.lastTradeId) +
    (k.closed ? 3 : 0) + // field 16: two-byte tag + one byte
    (k.version === 0 ? 0 : 2 + varintSize(k.version)) // field 17: two-byte tag
  );
}

/** Sequential writer over a pre-sized buffer. */
class Writer {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  varint(n: number): void {
    const b = this.buf;
    if (n < 0) {
      let v = BigInt.asUintN(64, BigInt(n));
      for (let i = 0; i < 9; i++) {
        b[this.pos++] = Number(v & 0x7fn) | 0x80;
        v >>= 7n;
      }
      b[this.pos++] = Number(v);
      return;
    }
    while (n >= 128) {
      b[this.pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    b[this.pos++] = n;
  }

  str(tag: number, s: string): void {
    if (s.length === 0) return;
    const b = this.buf;
    b[this.pos++] = tag;
    const n = utf8Size(s);
    this.varint(n);
    if (n === s.length) {
      for (let i = 0; i < n; i++) b[this.pos++] = s.charCodeAt(i);
    } else {
      this.pos += b.write(s, this.pos, "utf8");
    }
  }

  int(tag: number, n: number): void {
    if (n === 0) return;
    this.buf[this.pos++] = tag;
    this.varint(n);
  }
}

function writeKline(w: Writer, k: KlineRecord): void {
  w.str((1 << 3) | 2, k.symbol);
  w.str((2 << 3) | 2, k.interval);
  w.int(3 << 3, k.openTime);
  w.int(4 << 3, k.closeTime);
  w.str((5 << 3) | 2, k.open);
  w.str((6 << 3) | 2, k.high);
  w.str((7 << 3) | 2, k.low);
  w.str((8 << 3) | 2, k.close);
  w.str((9 << 3) | 2, k.volume);
  w.str((10 << 3) | 2, k.quoteVolume);
  w.int(11 << 3, k.trades);
  w.str((12 << 3) | 2, k.takerBuyVolume);
  w.str((13 << 3) | 2, k.takerBuyQuoteVolume);
  w.int(14 << 3, k.firstTradeId);
  w.int(15 << 3, k.lastTradeId);
  if (k.closed) {
    w.buf[w.pos++] = 0x80; // field 16 varint: tag 128 as a two-byte varint
    w.buf[w.pos++] = 0x01;
    w.buf[w.pos++] = 1;
  }
  if (k.version !== 0) {
    w.buf[w.pos++] = 0x88; // field 17 varint: tag 136
    w.buf[w.pos++] = 0x01;
    w.varint(k.version);
  }
}

/**
 * Encodes one PullChunk holding `klines[from, to)` and their `symbolRefs` (one per kline, or none),
 * byte-identical to `toBinary(PullChunkSchema, ...)` of the equivalent message.
 */
export function encodePullChunk(
  head: ChunkHead,
  last: boolean,
  chunkIndex: number,
  klines: readonly KlineRecord[],
  from: number,
  to: number,
  symbols: readonly string[],
  symbolRefs: Int32Array = NO_REFS,
): Buffer {
  const sizes = new Array<number>(to - from);
  let klineBytes = 0;
  for (let i = from; i < to; i++) {
    const n = klineSize(klines[i]!);
    sizes[i - from] = n;
    klineBytes += 1 + varintSize(n) + n;
  }
  return writeChunk(head, last, chunkIndex, klineBytes, symbols, symbolRefs, (w) => {
    for (let i = from; i < to; i++) {
      w.buf[w.pos++] = T_KLINES;
      w.varint(sizes[i - from]!);
      writeKline(w, klines[i]!);
    }
  });
}

/**
 * Encodes one PullChunk whose klines are already encoded: `klineBytes` holds
 * consecutive `klines` field entries (tag, length, Kline message), as
 * `KlineRowEncoder` writes them, and `symbolRefs` their symbol_refs (one per
 * kline, or none). Without refs, byte-identical to `encodePullChunk` of the
 * same klines.
 */
export function encodePullChunkBytes(
  head: ChunkHead,
  last: boolean,
  chunkIndex: number,
  klineBytes: Uint8Array,
  symbols: readonly string[],
  symbolRefs: Int32Array = NO_REFS,
): Buffer {
  return writeChunk(head, last, chunkIndex, klineBytes.length, symbols, symbolRefs, (w) => {
    w.buf.set(klineBytes, w.pos);
    w.pos += klineBytes.length;
  });
}

/**
 * The PullChunk frame around the klines, in field order: head fields, the
 * `klineBytes` bytes that `writeKlines` writes, symbols, source_done, symbol_refs (packed).
 */
function writeChunk(
  head: ChunkHead,
  last: boolean,
  chunkIndex: number,
  klineBytes: number,
  symbols: readonly string[],
  refs: Int32Array,
  writeKlines: (w: Writer) => void,
): Buffer {
  let refBytes = 0;
  for (let i = 0; i < refs.length; i++) {
    const r = refs[i]!;
    refBytes += r < 128 ? 1 : r < 16384 ? 2 : varintSize(r);
  }
  let total =
    strField(head.worker) +
    intField(head.epoch) +
    intField(head.version) +
    (head.full ? 2 : 0) +
    (last ? 2 : 0) +
    intField(chunkIndex) +
    (head.sourceDone ? 2 : 0) +
    klineBytes;
  for (const s of symbols) total += 1 + varintSize(utf8Size(s)) + utf8Size(s);
  if (refBytes > 0) total += 1 + varintSize(refBytes) + refBytes;
  const w = new Writer(Buffer.allocUnsafe(total));
  w.str(T_WORKER, head.worker);
  w.int(T_EPOCH, head.epoch);
  w.int(T_VERSION, head.version);
  if (head.full) w.int(T_FULL, 1);
  if (last) w.int(T_LAST, 1);
  w.int(T_CHUNK_INDEX, chunkIndex);
  writeKlines(w);
  for (const s of symbols) {
    // An empty symbol in a repeated field is still written (repeated fields have no default).
    w.buf[w.pos++] = T_SYMBOLS;
    const n = utf8Size(s);
    w.varint(n);
    w.pos += w.buf.write(s, w.pos, "utf8");
  }
  if (head.sourceDone) w.int(T_SOURCE_DONE, 1);
  if (refBytes > 0) {
    w.buf[w.pos++] = T_SYMBOL_REFS;
    w.varint(refBytes);
    const b = w.buf;
    let p = w.pos;
    for (let i = 0; i < refs.length; i++) {
      let r = refs[i]!; // non-negative int32: shifts are exact
      while (r >= 128) {
        b[p++] = (r & 0x7f) | 0x80;
        r >>>= 7;
      }
      b[p++] = r;
    }
    w.pos = p;
  }
  if (w.pos !== total) throw new Error(`PullChunk size mismatch: wrote ${w.pos} of ${total} bytes`);
  return w.buf;
}
