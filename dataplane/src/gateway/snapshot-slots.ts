/**
 * Byte-level helpers of the fixed-layout `Snapshot` (see `slot-layout.ts`).
 *
 * Every symbol's klines own a fixed byte range ("region") of the snapshot, so a
 * changed kline is rewritten in place without moving other regions. A region
 * holds its tagged klines (`klines = 4`: tag 0x22, length, body) and then, to
 * fill its capacity, a `padding = 15` field (tag 0x7a, length, zeros). Protobuf
 * allows a field to occur any number of times and anywhere: a reader gets the
 * klines in slot order and one (meaningless) padding value. A region never has
 * exactly one spare byte: no field fits in one byte, so that byte goes to the
 * last kline's length prefix instead (a varint one byte longer than minimal,
 * which every protobuf reader accepts).
 */
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
  // The length prefix takes L bytes and the content the rest: pick the first L that can encode it.
  let lenBytes = 1;
  while (gap - 1 - lenBytes >= 2 ** (7 * lenBytes)) lenBytes++;
  let p = writeVarintAs(dst, at + 1, gap - 1 - lenBytes, lenBytes);
  dst[at] = PADDING_TAG;
  const end = at + gap;
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
