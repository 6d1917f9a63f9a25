/**
 * The klines of one pull answer as raw wire bytes: for each kline, a view of
 * its `klagg.v1.Kline` body inside the received chunk (no copy), plus the few
 * fields the gateway needs to place it (symbol and interval as byte ranges,
 * open time, version, closed). The gateway copies these bytes into its
 * snapshot instead of decoding each kline into an object and encoding it
 * again. Columnar typed arrays: appending a kline allocates nothing (the
 * columns grow by doubling).
 */
import type { Kline } from "../gen/klagg/v1/kline_pb.js";
import { decodeKlineAt } from "./pull-decoder.js";

/** Append-only columnar list of raw klines. */
export class RawKlineList {
  count = 0;
  /** The chunk buffers the klines point into (kept alive while this list is). */
  readonly chunks: Uint8Array[] = [];
  /** Per kline: index into `chunks`. */
  chunk: Int32Array;
  /** Per kline: the Kline body's byte range in its chunk. */
  off: Int32Array;
  len: Int32Array;
  /** Per kline: the symbol's and the interval's UTF-8 byte ranges in its chunk (length 0 = empty). */
  symOff: Int32Array;
  symLen: Int32Array;
  ivOff: Int32Array;
  ivLen: Int32Array;
  /** Per kline: its symbol_refs entry (the symbol's index in the worker's list), -1 = none sent. */
  symRef: Int32Array;
  openTime: Float64Array;
  version: Float64Array;
  closed: Uint8Array;

  constructor(capacity = 64) {
    const n = Math.max(1, capacity);
    this.chunk = new Int32Array(n);
    this.off = new Int32Array(n);
    this.len = new Int32Array(n);
    this.symOff = new Int32Array(n);
    this.symLen = new Int32Array(n);
    this.ivOff = new Int32Array(n);
    this.ivLen = new Int32Array(n);
    this.symRef = new Int32Array(n);
    this.openTime = new Float64Array(n);
    this.version = new Float64Array(n);
    this.closed = new Uint8Array(n);
  }

  /** Index of the next kline, after making room for it. */
  next(): number {
    if (this.count === this.chunk.length) this.grow();
    return this.count++;
  }

  /** The Kline body of kline `i` (a view into the chunk, not a copy). */
  bytes(i: number): Uint8Array {
    const c = this.chunks[this.chunk[i]!]!;
    const off = this.off[i]!;
    return c.subarray(off, off + this.len[i]!);
  }

  /** Kline `i` decoded into a protobuf-es shaped message (allocates: not for hot paths). */
  kline(i: number): Kline {
    const off = this.off[i]!;
    return decodeKlineAt(this.chunks[this.chunk[i]!]!, off, off + this.len[i]!);
  }

  /** Every kline decoded (allocates). */
  decodeAll(): Kline[] {
    const out: Kline[] = new Array<Kline>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.kline(i);
    return out;
  }

  private grow(): void {
    const n = this.chunk.length * 2;
    const i32 = (a: Int32Array): Int32Array => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    const f64 = (a: Float64Array): Float64Array => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.chunk = i32(this.chunk);
    this.off = i32(this.off);
    this.len = i32(this.len);
    this.symOff = i32(this.symOff);
    this.symLen = i32(this.symLen);
    this.ivOff = i32(this.ivOff);
    this.ivLen = i32(this.ivLen);
    this.symRef = i32(this.symRef);
    this.openTime = f64(this.openTime);
    this.version = f64(this.version);
    const c = new Uint8Array(n);
    c.set(this.closed);
    this.closed = c;
  }
}
