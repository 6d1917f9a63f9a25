/**
 * Recycled buffers for the full snapshot bytes and the tick's update bytes.
 * Writing 15 MB into freshly allocated memory costs ~12 ms of page faults on
 * this machine (warm memory: ~1.5 ms), and every fresh large buffer counts as
 * external memory that brings V8's next full GC closer, so these buffers are
 * reference counted and reused once no holder is left. Bytes are only ever
 * rewritten after the last holder is gone.
 */
import type { GatewaySnapshot, SnapshotLease } from "./ports.js";

/**
 * Free snapshot buffers, reused for sizes they can hold. With `pairs`, buffers are allocated two at a time
 * as the halves of one `ArrayBuffer` (the second one goes to the free list): a snapshot's double buffer is
 * then such a pair, and copying ranges between the two is a `copyWithin` over their common `ArrayBuffer`
 * (`copyBetween`), much cheaper per small range than `Buffer.copy`. The second half costs no memory until
 * it is written (a large allocation's pages are mapped on first touch).
 */
export class BufferPool {
  private readonly free: Buffer[] = [];
  /** Buffers allocated (not taken from the pool), for tests and stats. */
  allocated = 0;

  constructor(
    private readonly maxFree = 4,
    private readonly pairs = false,
  ) {}

  take(size: number): Buffer {
    for (let i = this.free.length - 1; i >= 0; i--) {
      const b = this.free[i]!;
      if (b.length >= size) {
        this.free.splice(i, 1);
        return b;
      }
    }
    this.allocated++;
    // Headroom: the snapshot grows slowly as slots fill and decimals lengthen.
    const cap = Math.ceil(size * 1.125) + 4096;
    if (!this.pairs) return Buffer.allocUnsafeSlow(cap);
    const both = Buffer.allocUnsafeSlow(2 * cap).buffer;
    this.give(Buffer.from(both, cap, cap));
    return Buffer.from(both, 0, cap);
  }

  give(b: Buffer): void {
    if (this.free.length < this.maxFree) this.free.push(b);
  }

  get freeCount(): number {
    return this.free.length;
  }
}

/**
 * Copies `src[from[i], to[i])` to the same offsets of `dst` for each of the `count` ranges: one
 * `copyWithin` per range when both are views of one `ArrayBuffer` (a pair of `BufferPool`), else `copy`.
 */
export function copyBetween(src: Buffer, dst: Buffer, from: Int32Array, to: Int32Array, count: number): void {
  if (src.buffer !== dst.buffer) {
    for (let i = 0; i < count; i++) src.copy(dst, from[i]!, from[i]!, to[i]!);
    return;
  }
  const whole = new Uint8Array(src.buffer);
  const s = src.byteOffset;
  const d = dst.byteOffset;
  for (let i = 0; i < count; i++) {
    const a = from[i]!;
    whole.copyWithin(d + a, s + a, s + to[i]!);
  }
}

/**
 * A pooled buffer with several holders (the tick's update bytes: its snapshot, and the Kafka hand-off
 * whose entries point into it); back to the pool when the last one releases it, unless one abandoned it.
 */
export class SharedBuffer {
  private recyclable = true;

  constructor(
    readonly buffer: Buffer,
    private readonly pool: BufferPool,
    private holders: number,
  ) {}

  /** Ends one hold; `recycle` false: somebody may still read the bytes (never reuse them). */
  release(recycle: boolean): void {
    if (!recycle) this.recyclable = false;
    if (--this.holders === 0 && this.recyclable) this.pool.give(this.buffer);
  }
}

/** Fields of a snapshot besides its buffers. */
export interface SnapshotFields {
  readonly aggregator: string;
  readonly gatewayEpoch: number;
  readonly seq: number;
  readonly time: number;
  readonly updateBytes: Uint8Array;
  readonly changedCount: number;
  readonly klineCount: number;
}

/** A snapshot whose `bytes` live in a pooled buffer; created holding one lease (the builder's). */
export class PooledSnapshot implements GatewaySnapshot {
  readonly aggregator: string;
  readonly gatewayEpoch: number;
  readonly seq: number;
  readonly time: number;
  readonly updateBytes: Uint8Array;
  readonly changedCount: number;
  readonly klineCount: number;
  readonly bytes: Buffer;
  private refs = 1;
  private recyclable = true;

  constructor(
    fields: SnapshotFields,
    readonly buffer: Buffer,
    size: number,
    private readonly pool: BufferPool,
    /** The builder's layout generation the bytes were written in. */
    readonly layoutGen = 0,
    /** Where `updateBytes` live: released when the snapshot's last holder is gone. */
    private readonly update?: SharedBuffer,
  ) {
    this.aggregator = fields.aggregator;
    this.gatewayEpoch = fields.gatewayEpoch;
    this.seq = fields.seq;
    this.time = fields.time;
    this.updateBytes = fields.updateBytes;
    this.changedCount = fields.changedCount;
    this.klineCount = fields.klineCount;
    this.bytes = buffer.subarray(0, size);
  }

  retain(): SnapshotLease {
    const lease = this.tryRetain();
    if (lease === undefined) throw new Error(`snapshot ${this.seq} was already released`);
    return lease;
  }

  tryRetain(): SnapshotLease | undefined {
    if (this.refs === 0) return undefined;
    this.refs++;
    let done = false;
    return {
      release: () => {
        if (done) return;
        done = true;
        this.unref(true);
      },
      abandon: () => {
        if (done) return;
        done = true;
        this.unref(false);
      },
    };
  }

  /**
   * For the builder, which holds one lease: when that is the only one left (and nobody abandoned the
   * buffer), ends it and returns true: the caller now owns the buffer and may rewrite it. Otherwise
   * changes nothing and returns false (the builder still holds its lease).
   */
  claim(): boolean {
    if (this.refs !== 1 || !this.recyclable) return false;
    this.refs = 0;
    this.update?.release(true);
    return true;
  }

  /** Drops one reference; the buffer goes back to the pool with the last one unless any holder abandoned it. */
  unref(recycle: boolean): void {
    if (!recycle) this.recyclable = false;
    if (--this.refs !== 0) return;
    if (this.recyclable) this.pool.give(this.buffer);
    this.update?.release(this.recyclable);
  }
}
