/**
 * The fixed layout of the snapshot bytes and the three ways a snapshot buffer
 * is brought up to date:
 * - `patch`: every changed kline rewritten in place in its own sub-range (one
 *   small copy; a group whose kline outgrew its sub-range is rewritten whole,
 *   its spare bytes shared out again);
 * - `catchUp`: a buffer that is one tick behind gets the byte ranges the
 *   previous tick wrote, copied from the newer buffer (double buffering);
 * - `relayout`: when a group's klines outgrow the group (or fill an empty one),
 *   new offsets for every group and the whole buffer rewritten from the
 *   previous one (unchanged groups in runs, one copy per run).
 *
 * Bytes: a fixed header region (aggregator, seq, time, padding), then one
 * region per symbol ("group") in slot order, made of one sub-range per kline
 * (see `slot-table.ts`; empty groups take no bytes), then the gateway_epoch
 * trailer.
 */
import { ByteWriter } from "./byte-writer.js";
import { writeEnvelopeHeader, writeEnvelopeTrailer } from "./kline-codec.js";
import { taggedLen, writePadding } from "./snapshot-slots.js";
import { copyBetween } from "./snapshot-pool.js";
import { SlotTable, type SlotChanges, type SlotRecords } from "./slot-table.js";

export type { SlotChanges } from "./slot-table.js";

/** Spare bytes each kline gets when its group is (re)sized, so growing klines rarely outgrow their sub-range. */
export const DEFAULT_HEADROOM = 6;

/** Byte ranges `[from[i], to[i])` written in one tick; ranges that touch are merged. */
export class ByteRanges {
  from: Int32Array;
  to: Int32Array;
  count = 0;

  constructor(capacity: number) {
    this.from = new Int32Array(Math.max(16, capacity));
    this.to = new Int32Array(Math.max(16, capacity));
  }

  add(from: number, to: number): void {
    const n = this.count;
    if (n > 0 && this.to[n - 1] === from) {
      this.to[n - 1] = to;
      return;
    }
    if (n === this.from.length) this.grow();
    this.from[n] = from;
    this.to[n] = to;
    this.count = n + 1;
  }

  private grow(): void {
    const f = new Int32Array(this.from.length * 2);
    const t = new Int32Array(this.to.length * 2);
    f.set(this.from);
    t.set(this.to);
    this.from = f;
    this.to = t;
  }
}

/** Offsets and capacities of all groups and klines, plus the header and trailer of the snapshot. */
export class SlotLayout {
  private readonly t: SlotTable;
  private readonly groups: number;
  /** Minimal bytes of each rewritten group's klines after this tick's changes, and its filled slots. */
  private readonly gNeed: Int32Array;
  private readonly gFilled: Int32Array;
  /** The groups this tick rewrites whole (a kline outgrew its sub-range), and a per-group mark. */
  private readonly regroup: Int32Array;
  private regroupCount = 0;
  private readonly regroupMark: Uint8Array;
  private readonly head = new ByteWriter(256);
  private readonly tail = new ByteWriter(32);
  readonly headCap: number;
  /** The byte ranges the last `patch` wrote besides the header (what a buffer one tick behind lacks). */
  written: ByteRanges;
  /** Total bytes of a snapshot in this layout (0 before the first relayout). */
  size = 0;
  /** Incremented by every relayout: buffers written under another generation cannot be caught up. */
  generation = 0;
  /** Groups rewritten whole without a relayout so far (stats). */
  regroups = 0;

  constructor(
    readonly slotCount: number,
    groupSize: number,
    private readonly aggregator: string,
    gatewayEpoch: number,
    private readonly headroom = DEFAULT_HEADROOM,
    records?: SlotRecords,
  ) {
    this.t = new SlotTable(slotCount, groupSize, records);
    this.groups = Math.ceil(slotCount / groupSize);
    this.gNeed = new Int32Array(this.groups);
    this.gFilled = new Int32Array(this.groups);
    this.regroup = new Int32Array(this.groups);
    this.regroupMark = new Uint8Array(this.groups);
    this.written = new ByteRanges(1024);
    writeEnvelopeHeader(this.head, aggregator, 0, 0);
    // Room for the longest seq and time varints (10 bytes + tag each) and a padding field of at least 2 bytes.
    this.headCap = this.head.pos + 2 * 11 + 2;
    writeEnvelopeTrailer(this.tail, gatewayEpoch);
  }

  /**
   * Finds the klines that outgrow their sub-range and whether their groups can take them; true when
   * every change fits without a relayout, false when `relayout` is needed. (`patch` does the same
   * while it writes; this is for the first build, which has no buffer to patch.)
   */
  fits(ch: SlotChanges): boolean {
    this.clearRegroups();
    for (let i = 0; i < ch.count; i++) {
      const s = ch.list[i]!;
      if (taggedLen(ch.len[i]!) > this.t.cap(s)) this.markRegroup(s);
    }
    return this.planRegroups(ch) && this.size > 0;
  }

  private clearRegroups(): void {
    for (let i = 0; i < this.regroupCount; i++) this.regroupMark[this.regroup[i]!] = 0;
    this.regroupCount = 0;
  }

  /** Marks the group of slot `s` to be rewritten whole. */
  private markRegroup(s: number): void {
    const g = (s / this.t.groupSize) | 0;
    if (this.regroupMark[g] === 0) {
      this.regroupMark[g] = 1;
      this.regroup[this.regroupCount++] = g;
    }
  }

  /** Sizes the marked groups after the changes; false when one outgrew its capacity. */
  private planRegroups(ch: SlotChanges): boolean {
    const t = this.t;
    const gs = t.groupSize;
    let fits = true;
    for (let r = 0; r < this.regroupCount; r++) {
      const g = this.regroup[r]!;
      let need = 0;
      let filled = 0;
      const end = Math.min(this.slotCount, (g + 1) * gs);
      for (let s = g * gs; s < end; s++) {
        const n = t.need(s, ch);
        need += n;
        if (n > 0) filled++;
      }
      this.gNeed[g] = need;
      this.gFilled[g] = filled;
      if (need > t.gCap[g]!) fits = false;
    }
    return fits;
  }

  /** Writes the header of tick `seq` into `dst`. */
  writeHeader(dst: Buffer, seq: number, time: number): void {
    const h = this.head;
    h.reset();
    writeEnvelopeHeader(h, this.aggregator, seq, time);
    h.buf.copy(dst, 0, 0, h.pos);
    writePadding(dst, h.pos, this.headCap - h.pos);
  }

  /**
   * Writes the changes into `dst` (this layout, its other klines current): each kline that fits its
   * sub-range in place, the groups of those that do not rewritten whole. Returns false, leaving those
   * groups unwritten, when one of them outgrew its group: `relayout` from `dst` must follow (the klines
   * already written in place are changes, which `relayout` takes from `ch`, never from `dst`).
   */
  patch(dst: Buffer, ch: SlotChanges): boolean {
    const t = this.t;
    const w = this.written;
    w.count = 0;
    this.clearRegroups();
    for (let i = 0; i < ch.count; i++) {
      const s = ch.list[i]!;
      // Checked and written in one pass: the slot's record is read once.
      if (taggedLen(ch.len[i]!) > t.cap(s)) {
        this.markRegroup(s);
        continue;
      }
      t.writeChange(dst, s, ch, i);
      const at = t.off(s);
      w.add(at, at + t.cap(s));
    }
    if (this.regroupCount === 0) return true;
    if (!this.planRegroups(ch)) return false;
    for (let r = 0; r < this.regroupCount; r++) {
      const g = this.regroup[r]!;
      const at = t.gOff[g]!;
      t.writeGroup(dst, dst, g, at, t.gCap[g]!, ch);
      w.add(at, at + t.gCap[g]!);
      this.regroups++;
    }
    return true;
  }

  /** Copies into `dst` (same layout, one tick behind `src`) the ranges `src`'s tick wrote. */
  catchUp(src: Buffer, dst: Buffer, ranges: ByteRanges): void {
    copyBetween(src, dst, ranges.from, ranges.to, ranges.count);
  }

  /** Copies everything but the header from `src` (same layout) into `dst`. */
  copyAll(src: Buffer, dst: Buffer): void {
    src.copy(dst, this.headCap, this.headCap, this.size);
  }

  /** Size after `relayout` with the changes `fits` or `patch` looked at (outgrown groups get headroom). */
  sizeAfterRelayout(): number {
    let size = this.size > 0 ? this.size : this.headCap + this.tail.pos;
    for (let r = 0; r < this.regroupCount; r++) {
      const g = this.regroup[r]!;
      size += this.capAfterRelayout(g) - this.t.gCap[g]!;
    }
    return size;
  }

  /**
   * A group that outgrew its capacity gets its klines' bytes plus headroom for each (twice that when it
   * outgrows an earlier layout: its klines are the growing kind); others keep theirs.
   */
  private capAfterRelayout(g: number): number {
    const cap = this.t.gCap[g]!;
    const need = this.gNeed[g]!;
    if (need <= cap) return cap;
    return need + (cap === 0 ? 1 : 2) * this.headroom * this.gFilled[g]!;
  }

  /**
   * New offsets for all groups, writing `dst` completely: unchanged groups copied from `prev` (the
   * previous snapshot, old layout) in runs, outgrown groups rewritten with more room, then the other
   * changes written in place. Header not included.
   */
  relayout(prev: Buffer | undefined, dst: Buffer, ch: SlotChanges): void {
    const t = this.t;
    let pos = this.headCap;
    let from = -1;
    let to = -1;
    let runDst = 0;
    for (let g = 0; g < this.groups; g++) {
      if (this.regroupMark[g] === 1) {
        if (to > from) prev!.copy(dst, runDst, from, to);
        from = to = -1;
        const cap = this.capAfterRelayout(g);
        t.writeGroup(prev ?? dst, dst, g, pos, cap, ch);
        pos += cap;
        continue;
      }
      const c = t.gCap[g]!;
      if (c === 0) continue;
      if (prev === undefined) throw new Error("slot layout: a filled group without a previous snapshot");
      const o = t.gOff[g]!;
      // A run continues while the groups are adjacent both in `prev` and in `dst`.
      if (o !== to || pos !== runDst + (to - from)) {
        if (to > from) prev.copy(dst, runDst, from, to);
        from = o;
        runDst = pos;
      }
      to = o + c;
      t.shift(g, pos - o);
      pos += c;
    }
    if (to > from) prev!.copy(dst, runDst, from, to);
    this.tail.buf.copy(dst, pos, 0, this.tail.pos);
    this.size = pos + this.tail.pos;
    this.generation++;
    // The changes that fit their sub-ranges, over the bytes just copied.
    const gs = t.groupSize;
    for (let i = 0; i < ch.count; i++) {
      const s = ch.list[i]!;
      if (this.regroupMark[(s / gs) | 0] === 0) t.writeChange(dst, s, ch, i);
    }
    this.written.count = 0;
  }
}
