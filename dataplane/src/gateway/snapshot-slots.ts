/**
 * Byte-level helpers of the fixed-layout `Snapshot` (see `slot-layout.ts`).
 *
 * Every kline of the state owns a fixed byte range ("sub-range") of the
 * snapshot, so a changed kline is rewritten in place without moving anything
 * else. A sub-range holds its tagged kline (`klines = 4`: tag 0x22, length,
 * body) and then, to fill its capacity, a `padding = 15` field (tag 0x7a,
 * length, zeros). Protobuf allows a field to occur any number of times and
 * anywhere: a reader gets the klines in slot order and one (meaningless)
 * padding value (the last one). A sub-range never has exactly one spare byte:
 * no field fits in one byte, so that byte goes to the kline's length prefix
 * instead (a varint one byte longer than minimal, which every protobuf reader
 * accepts).
 */
import { KLINES_TAG } from "./kline-codec.js";

/** Tag of `bytes padding = 15` (wire type 2) in Snapshot. */
export const PADDING_TAG = 0x7a;

/** Bytes of the minimal varint of a non-negative integer below 2^28. */
export function varintLen(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : 4;
}

/** Bytes a kline body of `bodyLen` bytes takes with its tag and minimal length prefix. */
export function taggedLen(bodyLen: number): number {
  return 1 + varintLen(bodyLen) + bodyLen;
}

/** Writes `v` as a varint of exactly `bytes` bytes (non-minimal when `bytes` is larger than needed). */
export function writeVarintAs(dst: Uint8Array, at: number, v: number, bytes: number): number {
  let p = at;
  for (let i = 1; i < bytes; i++) {
    dst[p++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  dst[p++] = v;
  return p;
}

/** Fills `gap` (>= 2) bytes at `at` with one padding field whose content is zeros. */
export function writePadding(dst: Uint8Array, at: number, gap: number): void {
  dst[at] = PADDING_TAG;
  const end = at + gap;
  let p: number;
  if (gap <= 129) {
    // The usual case (a kline's spare bytes): a one-byte length.
    dst[at + 1] = gap - 2;
    p = at + 2;
  } else {
    // The length prefix takes L bytes and the content the rest: pick the first L that can encode it.
    let lenBytes = 1;
    while (gap - 1 - lenBytes >= 2 ** (7 * lenBytes)) lenBytes++;
    p = writeVarintAs(dst, at + 1, gap - 1 - lenBytes, lenBytes);
  }
  while (p < end) dst[p++] = 0;
}

/** Reads the tagged kline at `at` (tag byte, length varint, body): `out` = [body offset, body length]. */
export function readTagged(src: Uint8Array, at: number, out: Int32Array): void {
  let p = at + 1;
  let v = 0;
  let shift = 0;
  let b: number;
  do {
    b = src[p++]!;
    v |= (b & 0x7f) << shift;
    shift += 7;
  } while (b & 0x80 && shift < 28);
  out[0] = p;
  out[1] = v;
}

/**
 * Writes a kline whose body is `src[bodyOff, bodyOff + bodyLen)` into the `cap` bytes at `at` of `dst`
 * (tag, length prefix, body, then padding up to `cap`; `cap` must hold the minimal encoding). `tagged`:
 * `src` holds the tag and the minimal length prefix right before the body, so the kline is copied with
 * one call. Returns the bytes of the length prefix written (minimal, or one more when one byte was spare).
 * Within one buffer (`src === dst`, ranges apart) the copy is a `copyWithin`: `Buffer.copy` between two
 * buffers creates a view per call and costs ~2.5x more per small copy on this machine.
 */
export function putKline(
  dst: Buffer,
  at: number,
  cap: number,
  src: Buffer,
  bodyOff: number,
  bodyLen: number,
  tagged: boolean,
): number {
  const vl = varintLen(bodyLen);
  const n = 1 + vl + bodyLen;
  const gap = cap - n;
  if (gap !== 1 && tagged) {
    if (src === dst) dst.copyWithin(at, bodyOff - 1 - vl, bodyOff + bodyLen);
    else src.copy(dst, at, bodyOff - 1 - vl, bodyOff + bodyLen);
    if (gap >= 2) writePadding(dst, at + n, gap);
    return vl;
  }
  const pre = gap === 1 ? vl + 1 : vl;
  dst[at] = KLINES_TAG;
  const p = writeVarintAs(dst, at + 1, bodyLen, pre);
  if (src === dst) dst.copyWithin(p, bodyOff, bodyOff + bodyLen);
  else src.copy(dst, p, bodyOff, bodyOff + bodyLen);
  if (gap >= 2) writePadding(dst, p + bodyLen, gap);
  return pre;
}
