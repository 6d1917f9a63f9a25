/**
 * Symbol and interval order of the gateway's state (slot index = symbol index x
 * interval count + interval index), with lookups by string and by UTF-8 bytes.
 */
import type { Interval } from "../core/types.js";
import { ByteKeyIndex } from "./byte-key-index.js";

/** Symbol and interval order of the table; fixed for the gateway's lifetime. */
export class StateLayout {
  readonly nIntervals: number;
  readonly slotCount: number;
  private readonly symbolIndex = new Map<string, number>();
  private readonly intervalIndex = new Map<string, number>();
  /** The same indexes keyed by UTF-8 bytes (raw klines). */
  readonly symbolBytes: ByteKeyIndex;
  readonly intervalBytes: ByteKeyIndex;

  constructor(
    readonly symbols: readonly string[],
    readonly intervals: readonly Interval[],
  ) {
    symbols.forEach((s, i) => this.symbolIndex.set(s, i));
    intervals.forEach((iv, i) => this.intervalIndex.set(iv, i));
    this.nIntervals = intervals.length;
    this.slotCount = symbols.length * intervals.length;
    this.symbolBytes = new ByteKeyIndex(symbols);
    this.intervalBytes = new ByteKeyIndex(intervals);
  }

  /** Index of `symbol`, or -1 when it is not in the layout. */
  symbolOf(symbol: string): number {
    return this.symbolIndex.get(symbol) ?? -1;
  }

  /** Index of `interval`, or -1 when it is not in the layout. */
  intervalOf(interval: string): number {
    return this.intervalIndex.get(interval) ?? -1;
  }
}
