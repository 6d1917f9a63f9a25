/**
 * The log of kline changes since the last acknowledged version, so an
 * incremental pull costs O(changes), not O(state). Every version stamp appends
 * one entry: the changed kline's reference (a slot j as j, a closed-store row r
 * as -r - 1); entry i holds version `start + i + 1`. A kline stamped several
 * times is emitted once, at the entry matching its current version.
 * The log is bounded: when full it is cleared and covers only later versions;
 * a pull acking less than `start` falls back to scanning the whole state.
 */
export class ChangeLog {
  private refs = new Int32Array(1024);
  private n = 0;
  /** The log holds every change with a version above this. */
  start: number;

  constructor(
    startVersion: number,
    private readonly maxEntries = 1 << 21,
  ) {
    this.start = startVersion;
  }

  /** Records the change just stamped with version start + n + 1. */
  record(ref: number): void {
    if (this.n >= this.maxEntries) {
      this.start += this.n + 1; // forget everything up to and including this change
      this.n = 0;
      return;
    }
    if (this.n === this.refs.length) {
      const grown = new Int32Array(this.refs.length * 2);
      grown.set(this.refs);
      this.refs = grown;
    }
    this.refs[this.n++] = ref;
  }

  /** True when every change with a version above `ack` is in the log. */
  covers(ack: number): boolean {
    return ack >= this.start;
  }

  /** Calls fn(ref, version) for every logged change with a version above `ack` (which the log covers). */
  forEachAfter(ack: number, fn: (ref: number, version: number) => void): void {
    for (let i = ack - this.start; i < this.n; i++) fn(this.refs[i]!, this.start + i + 1);
  }

  /** The index of the first entry with a version above `ack` (which the log covers); entries run to `size`. */
  indexAfter(ack: number): number {
    return ack - this.start;
  }

  /** The reference of entry i. */
  refAt(i: number): number {
    return this.refs[i]!;
  }

  /** The version of entry i. */
  versionAt(i: number): number {
    return this.start + i + 1;
  }

  /** Forgets the changes with versions up to `ack`. */
  truncate(ack: number): void {
    const k = Math.min(ack - this.start, this.n);
    if (k <= 0) return;
    this.refs.copyWithin(0, k, this.n);
    this.n -= k;
    this.start += k;
  }

  /** Entries held (for tests). */
  get size(): number {
    return this.n;
  }
}
