/**
 * A floor for the gateway tick on this machine: the bare memory traffic of a tick that changes `changes`
 * klines at random. Per change, one read and one write of the slot's 64-byte record and one kline-sized
 * copy into the kline's place in a snapshot-sized buffer (from staged bytes in the same buffer, as the
 * patch copies). No decoding, lookups, bookkeeping or update message: what any design that patches a
 * snapshot in place must at least pay. The bench times it under the same conditions as the ticks (a
 * forced GC and the same idle before each run), so the tick's figures can be read against it.
 */
export class MemoryFloor {
  private readonly buf: Buffer;
  private readonly rec: Int32Array;
  private readonly order: Int32Array;
  private readonly stride: number;
  private sink = 0;

  constructor(
    private readonly slots: number,
    snapshotBytes: number,
    readonly changes: number,
    private readonly klineBytes: number,
    private readonly rnd: () => number,
  ) {
    this.stride = Math.floor(snapshotBytes / slots);
    this.buf = Buffer.alloc(slots * this.stride + changes * klineBytes);
    this.rec = new Int32Array(16 * slots);
    this.order = new Int32Array(changes);
  }

  /** Picks the next run's slots at random (outside the timing), and refreshes the staged bytes. */
  prepare(): void {
    for (let i = 0; i < this.changes; i++) this.order[i] = Math.floor(this.rnd() * this.slots);
    this.buf.fill(this.sink & 0xff, this.slots * this.stride);
  }

  /** One run; returns its duration in ms. */
  run(): number {
    const t0 = performance.now();
    const { buf, rec, order, stride, klineBytes: k } = this;
    const staged = this.slots * stride;
    let x = this.sink;
    for (let i = 0; i < this.changes; i++) {
      const s = order[i]!;
      x = (x + rec[16 * s]!) | 0;
      rec[16 * s] = x;
      buf.copyWithin(s * stride, staged + i * k, staged + i * k + k);
    }
    this.sink = x;
    return performance.now() - t0;
  }
}
