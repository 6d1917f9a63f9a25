/**
 * Per-symbol trade id bookkeeping: detects duplicates (so replays are
 * idempotent), gaps (missing ids) and out-of-order trades that fill a gap.
 *
 * State per symbol: the lowest and highest id seen and a short list of open
 * gaps. Ids inside [min, max] that are not in an open gap have been seen. The
 * gap list is bounded (MAX_GAPS per symbol): when it overflows, the oldest gap
 * is forgotten and stays counted as missing, and a late trade in it would then
 * be taken for a duplicate (never double counted).
 */

/** Classification of a trade's id range. */
export const enum IdClass {
  /** Above everything seen (the normal case). */
  Next = 0,
  /** Below everything seen (out of order before the first trade seen). */
  Below = 1,
  /** Inside an open gap: a late trade filling it. */
  FillsGap = 2,
  /** Already seen (or overlaps seen ids). */
  Duplicate = 3,
}

const MAX_GAPS = 32;

/** Duplicate and gap detection over the trade ids of every symbol of an engine. */
export class TradeIds {
  private readonly minId: Float64Array;
  private readonly maxId: Float64Array;
  /** Open gaps per symbol as flat [from, to, from, to, ...], oldest first; allocated on the first gap. */
  private readonly gapLists: (number[] | undefined)[];
  private gapIndex = -1;
  /** Gaps detected and not (fully) filled. */
  openGaps = 0;
  /** Trade ids inside detected gaps that have not arrived. */
  missing = 0;

  constructor(symbols: number) {
    this.minId = new Float64Array(symbols).fill(-1);
    this.maxId = new Float64Array(symbols).fill(-1);
    this.gapLists = new Array<number[] | undefined>(symbols).fill(undefined);
  }

  /** Classifies the ids first..last of symbol s without changing state. */
  classify(s: number, first: number, last: number): IdClass {
    const max = this.maxId[s]!;
    if (first > max) return IdClass.Next;
    if (max < 0) return IdClass.Next;
    if (last < this.minId[s]!) return IdClass.Below;
    const gaps = this.gapLists[s];
    if (gaps !== undefined) {
      for (let g = 0; g < gaps.length; g += 2) {
        if (first >= gaps[g]! && last <= gaps[g + 1]!) {
          this.gapIndex = g;
          return IdClass.FillsGap;
        }
      }
    }
    return IdClass.Duplicate;
  }

  /** Records the ids first..last of symbol s as seen, given the class `classify` returned just before. */
  commit(s: number, first: number, last: number, cls: IdClass): void {
    if (cls === IdClass.Next) {
      const max = this.maxId[s]!;
      if (max < 0) this.minId[s] = first;
      else if (first > max + 1) this.addGap(s, max + 1, first - 1);
      this.maxId[s] = last;
    } else if (cls === IdClass.Below) {
      const min = this.minId[s]!;
      if (last < min - 1) this.addGap(s, last + 1, min - 1);
      this.minId[s] = first;
    } else if (cls === IdClass.FillsGap) {
      this.fill(s, this.gapIndex, first, last);
    }
  }

  private addGap(s: number, from: number, to: number): void {
    let gaps = this.gapLists[s];
    if (gaps === undefined) this.gapLists[s] = gaps = [];
    if (gaps.length >= MAX_GAPS * 2) gaps.splice(0, 2); // forgotten, stays counted as missing
    gaps.push(from, to);
    this.openGaps++;
    this.missing += to - from + 1;
  }

  private fill(s: number, g: number, first: number, last: number): void {
    const gaps = this.gapLists[s]!;
    const from = gaps[g]!;
    const to = gaps[g + 1]!;
    this.missing -= last - first + 1;
    const left = first > from;
    const right = last < to;
    if (left && right) {
      gaps[g + 1] = first - 1;
      gaps.splice(g + 2, 0, last + 1, to);
      this.openGaps++;
    } else if (left) {
      gaps[g + 1] = first - 1;
    } else if (right) {
      gaps[g] = last + 1;
    } else {
      gaps.splice(g, 2);
      this.openGaps--;
    }
  }
}
