/**
 * Light PullChunk decoder for the gateway's hot path: reads the chunk's
 * answer-level fields, and for every kline only locates it (its body's byte
 * range) and extracts symbol and interval (as byte ranges, no strings), open
 * time, version, closed and its symbol ref (-1 when the chunk has none). The
 * kline bodies stay in the chunk, untouched, for the gateway to copy into its
 * snapshot. Validation matches the full decoder (pull-decoder.ts): truncated
 * or overlong input is a DecodeError.
 */
import { DecodeError } from "./pull-decoder.js";
import { PULL_CHUNK_TAGS as T } from "./pull-encoder.js";
import type { RawKlineList } from "./raw-klines.js";

/** The answer-level fields of one chunk. */
export interface RawChunkHead {
  worker: string;
  epoch: number;
  version: number;
  full: boolean;
  last: boolean;
  chunkIndex: number;
  symbols: string[];
  sourceDone: boolean;
}

// Cursor of the chunk being decoded (module state: the decoder is synchronous and allocates no reader).
let buf: Uint8Array = new Uint8Array(0);
let pos = 0;
let end = 0;

/** Varint as a number; exact below 2^53, wider values (negative int64) through BigInt. */
function varint(): number {
  const start = pos;
  let x = 0;
  let mul = 1;
  for (let i = 0; i < 8; i++) {
    if (pos >= end) throw new DecodeError("truncated varint");
    const c = buf[pos++]!;
    if (i === 7 && c >= 0x10) return bigVarint(start);
    x += (c & 0x7f) * mul;
    if (c < 0x80) return x;
    mul *= 128;
  }
  return bigVarint(start);
}

function bigVarint(start: number): number {
  let v = 0n;
  let shift = 0n;
  let p = start;
  for (let i = 0; i < 10; i++, shift += 7n) {
    if (p >= end) throw new DecodeError("truncated varint");
    const c = buf[p++]!;
    v |= BigInt(c & 0x7f) << shift;
    if (c < 0x80) {
      pos = p;
      return Number(BigInt.asIntN(64, v));
    }
  }
  throw new DecodeError("varint too long");
}

function skip(wireType: number, limit: number): void {
  switch (wireType) {
    case 0:
      varint();
      return;
    case 1:
      pos += 8;
      break;
    case 2: {
      const n = varint();
      pos += n;
      break;
    }
    case 5:
      pos += 4;
      break;
    default:
      throw new DecodeError(`unsupported wire type ${wireType}`);
  }
  if (pos > limit) throw new DecodeError("truncated field");
}

const utf8 = new TextDecoder("utf-8", { fatal: false });

function str(): string {
  const n = varint();
  const s = pos;
  if (s + n > end) throw new DecodeError("truncated string");
  pos = s + n;
  return utf8.decode(buf.subarray(s, s + n));
}

/** Locates one kline body at [pos, kEnd) and appends it to `list` as kline of chunk `chunkNo`. */
function rawKline(kEnd: number, list: RawKlineList, chunkNo: number): void {
  const i = list.next();
  list.chunk[i] = chunkNo;
  list.off[i] = pos;
  list.len[i] = kEnd - pos;
  let symOff = 0;
  let symLen = 0;
  let ivOff = 0;
  let ivLen = 0;
  let openTime = 0;
  let version = 0;
  let closed = 0;
  const outerEnd = end;
  end = kEnd;
  while (pos < kEnd) {
    let t = buf[pos]!;
    if (t < 0x80) pos++;
    else t = varint();
    if (t === 0x0a || t === 0x12) {
      const n = varint();
      if (pos + n > kEnd) throw new DecodeError("truncated string");
      if (t === 0x0a) {
        symOff = pos;
        symLen = n;
      } else {
        ivOff = pos;
        ivLen = n;
      }
      pos += n;
    } else if (t === 3 << 3) openTime = varint();
    else if (t === 16 << 3) closed = varint() !== 0 ? 1 : 0;
    else if (t === 17 << 3) version = varint();
    else skip(t & 7, kEnd);
  }
  end = outerEnd;
  if (pos !== kEnd) throw new DecodeError("kline overruns its length");
  list.symRef[i] = -1;
  list.symOff[i] = symOff;
  list.symLen[i] = symLen;
  list.ivOff[i] = ivOff;
  list.ivLen[i] = ivLen;
  list.openTime[i] = openTime;
  list.version[i] = version;
  list.closed[i] = closed;
}

/**
 * Decodes a PullChunk's answer fields and appends its klines to `list` (the
 * chunk buffer is pushed onto `list.chunks` and must not be modified afterwards).
 */
export function decodePullChunkRaw(bytes: Uint8Array, list: RawKlineList): RawChunkHead {
  const head: RawChunkHead = {
    worker: "",
    epoch: 0,
    version: 0,
    full: false,
    last: false,
    chunkIndex: 0,
    symbols: [],
    sourceDone: false,
  };
  const chunkNo = list.chunks.length;
  const first = list.count;
  list.chunks.push(bytes);
  refCount = 0;
  buf = bytes;
  pos = 0;
  end = bytes.length;
  try {
    while (pos < end) {
      let t = buf[pos]!;
      if (t < 0x80) pos++;
      else t = varint();
      switch (t) {
        case T.worker: head.worker = str(); break; // prettier-ignore
        case T.epoch: head.epoch = varint(); break; // prettier-ignore
        case T.version: head.version = varint(); break; // prettier-ignore
        case T.full: head.full = varint() !== 0; break; // prettier-ignore
        case T.last: head.last = varint() !== 0; break; // prettier-ignore
        case T.chunkIndex: head.chunkIndex = varint() >>> 0; break; // prettier-ignore
        case T.klines: {
          const n = varint();
          const kEnd = pos + n;
          if (kEnd > end) throw new DecodeError("truncated kline");
          rawKline(kEnd, list, chunkNo);
          break;
        }
        case T.symbols: head.symbols.push(str()); break; // prettier-ignore
        case T.sourceDone: head.sourceDone = varint() !== 0; break; // prettier-ignore
        case T.symbolRefs: packedRefs(); break; // prettier-ignore
        case T.symbolRef: addRef(varint() >>> 0); break; // prettier-ignore
        default:
          skip(t & 7, end);
      }
    }
    if (pos !== end) throw new DecodeError("chunk overruns its length");
    assignRefs(list, first);
  } finally {
    // Do not keep the last chunk alive through the module cursor.
    buf = EMPTY;
  }
  return head;
}

const EMPTY = new Uint8Array(0);

/** The chunk's symbol_refs as read (they may come before or after its klines). */
let refs = new Int32Array(1024);
let refCount = 0;

function addRef(v: number): void {
  if (refCount === refs.length) {
    const grown = new Int32Array(refs.length * 2);
    grown.set(refs);
    refs = grown;
  }
  refs[refCount++] = v;
}

/** symbol_refs, packed: the varints of a length-delimited field. */
function packedRefs(): void {
  const n = varint();
  const fEnd = pos + n;
  if (fEnd > end) throw new DecodeError("truncated symbol_refs");
  const outerEnd = end;
  end = fEnd;
  while (pos < fEnd) addRef(varint() >>> 0);
  end = outerEnd;
}

/** Gives the chunk's klines (from `first` on) their refs: one per kline, or none at all. */
function assignRefs(list: RawKlineList, first: number): void {
  if (refCount === 0) return;
  const n = list.count - first;
  if (refCount !== n) throw new DecodeError(`symbol_refs has ${refCount} entries for ${n} klines`);
  list.symRef.set(refs.subarray(0, n), first);
}
