/**
 * A bounds-checked cursor over protobuf wire bytes (varints, 64-bit integers
 * as safe numbers, length-delimited skips) for the wire decoder of
 * kline-wire.ts. Pure. Every malformed input throws a {@link WireRejection}.
 */
import type { RowRejection } from "./row.js";

const TWO32 = 4_294_967_296;

/** Why a message cannot be decoded: a wire error, or the first invalid kline. */
export class WireRejection extends Error {
  constructor(
    readonly reason: "undecodable" | RowRejection,
    detail: string,
  ) {
    super(detail);
  }
}

/** A cursor over protobuf wire bytes; every read is bounds-checked against `end`. */
export class Reader {
  constructor(
    readonly b: Buffer,
    public pos: number,
    readonly end: number,
  ) {}

  varint32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const c = this.byte();
      result += (c & 0x7f) * 2 ** shift;
      if (c < 0x80) return result > 0xffffffff ? this.fail("varint too long") : result;
    }
    return this.fail("varint too long");
  }

  /** An unsigned 64-bit varint as a number; NaN when above Number.MAX_SAFE_INTEGER. */
  uint64(): number {
    // Summed in a double: exact while the sum stays below 2^53, and any larger value rounds to >= 2^53.
    let val = 0;
    let mult = 1;
    for (let i = 0; i < 10; i++) {
      const c = this.byte();
      val += (c & 0x7f) * mult;
      if (c < 0x80) return val <= Number.MAX_SAFE_INTEGER ? val : NaN;
      mult *= 128;
    }
    return this.fail("varint too long");
  }

  /** A signed 64-bit varint (two's complement) as a number; NaN when outside the safe range. */
  int64(): number {
    const start = this.pos;
    const v = this.uint64();
    // Only negative numbers take all ten bytes (bit 63 set): read them again exactly as two 32-bit halves.
    if (this.pos - start < 10) return v;
    this.pos = start;
    this.varint64();
    const { lo, hi } = this;
    if (hi < 0x80000000) return hi < 0x200000 ? hi * TWO32 + lo : NaN;
    let mlo = (~lo >>> 0) + 1;
    let mhi = ~hi >>> 0;
    if (mlo === TWO32) {
      mlo = 0;
      mhi++;
    }
    return mhi < 0x200000 ? -(mhi * TWO32 + mlo) : NaN;
  }

  /** Skips `len` bytes; returns the new position. */
  skipBytes(len: number): number {
    if (len > this.end - this.pos) this.fail("length past the end");
    this.pos += len;
    return this.pos;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint64();
    else if (wireType === 1) this.skipBytes(8);
    else if (wireType === 2) this.skipBytes(this.varint32());
    else if (wireType === 5) this.skipBytes(4);
    else this.fail(`wire type ${wireType}`);
  }

  /** Low and high 32 bits of the last {@link varint64}. */
  private lo = 0;
  private hi = 0;

  private varint64(): void {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      const c = this.byte();
      const bits = c & 0x7f;
      if (i < 4) lo += bits * 2 ** (7 * i);
      else if (i === 4) {
        lo += (bits & 0x0f) * 2 ** 28;
        hi += bits >>> 4;
      } else hi += bits * 2 ** (7 * i - 32);
      if (c < 0x80) {
        this.lo = lo >>> 0;
        this.hi = (hi % TWO32) >>> 0;
        return;
      }
    }
    this.fail("varint too long");
  }

  private byte(): number {
    if (this.pos >= this.end) this.fail("premature end");
    return this.b[this.pos++] ?? 0;
  }

  private fail(msg: string): never {
    throw new WireRejection("undecodable", `${msg} at byte ${this.pos}`);
  }
}
