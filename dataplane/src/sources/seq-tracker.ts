/**
 * Per-symbol sequence tracking for live feeds: detects gaps (ids missing
 * across a reconnect) and drops duplicates (ids seen twice while two
 * connections overlap during a planned reconnect).
 */

/** A detected gap: ids `afterSeq + 1 .. beforeSeq - 1` never arrived. */
export interface GapEvent {
  readonly symbol: string;
  /** Last id seen before the gap. */
  readonly afterSeq: number;
  /** First id seen after the gap. */
  readonly beforeSeq: number;
  /** How many ids are missing. */
  readonly missing: number;
}

/** What a sequence number means for delivery. */
export type SeqVerdict = "next" | "duplicate" | GapEvent;

/** Last sequence number seen per symbol. */
export class SeqTracker {
  private readonly last = new Map<string, number>();

  /** Records `seq` for `symbol` unless it is a duplicate (at or below the last seen). */
  observe(symbol: string, seq: number): SeqVerdict {
    const prev = this.last.get(symbol);
    if (prev !== undefined && seq <= prev) return "duplicate";
    this.last.set(symbol, seq);
    if (prev === undefined || seq === prev + 1) return "next";
    return { symbol, afterSeq: prev, beforeSeq: seq, missing: seq - prev - 1 };
  }

  lastSeen(symbol: string): number | undefined {
    return this.last.get(symbol);
  }
}
