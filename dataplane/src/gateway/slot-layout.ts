/**
 * Where every kline of the global state lives in the fixed-layout snapshot
 * bytes, and the three ways a snapshot buffer is brought up to date:
 * - `patch`: rewrite, in place, the groups (one symbol's intervals) the tick changed;
 * - `catchUp`: bring a buffer that is one tick behind up to date by copying the
 *   groups that changed in that tick from the newer buffer (double buffering);
 * - `relayout`: when a group's klines outgrow its capacity (or fill an empty
 *   group), assign new offsets and rewrite the whole buffer from the previous
 *   one (unchanged groups in runs, one copy per run).
 *
 * Bytes: a fixed header region (aggregator, seq, time, padding), then one
 * region per symbol ("group") in slot order: its klines back to back in
 * interval order, then padding up to the group's capacity (empty groups take no
 * bytes), then the gateway_epoch trailer. A symbol's intervals change together
 * when it trades, so a tick usually rewrites a whole group with one copy.
 */
import { ByteWriter } from "./byte-writer.js";
import { writeEnvelopeHeader, writeEnvelopeTrailer } from "./kline-codec.js";
import { taggedLen, varintLen, writePadding, writeVarintAs } from "./snapshot-slots.js";

/** Spare bytes a group gets when it is (re)sized, so growing klines rarely outgrow it. */
export const DEFAULT_HEADROOM = 64;

/**
 * The changed slots of one tick: `list[i]` is the i-th changed slot and its kline body is
 * `src[body[i], body[i] + len[i])`, preceded by its tag and minimal length prefix.
 */
export interface SlotChanges {
  readonly list: Int32Array;
  readonly count: number;
  /** 1 for the changed slots (indexed by slot). */
  readonly flag: Uint8Array;
  readonly src: Buffer;
  readonly body: Int32Array;
  readonly len: Int32Array;
}

/** Offsets and capacities of all groups and klines, plus the header and trailer of the snapshot. */
export class SlotLayout {
  private readonly groups: number;
  private readonly gOff: Int32Array;
  private readonly gCap: Int32Array;
  /** Bytes the group's klines take after this tick's changes (dirty groups, set by `fits`). */
  private readonly gUsed: Int32Array;
  /** Changed klines of each dirty group this tick. */
  private readonly gChanged: Int32Array;
  /** Each slot's tagged kline: offset in the snapshot and length (0: empty slot). */
  private readonly kOff: Int32Array;
  private readonly kLen: Int32Array;
  /** Index of each changed slot in the tick's changes. */
  private readonly changeOf: Int32Array;
  /** The groups this tick changes, and a per-group mark. */
  readonly dirty: Int32Array;
  dirtyCount = 0;
  readonly dirtyMark: Uint8Array;
  private temp = Buffer.allocUnsafeSlow(64 * 1024);
  private readonly head = new ByteWriter(256);
  private readonly tail = new ByteWriter(32);
  readonly headCap: number;
  /** Total bytes of a snapshot in this layout (0 before the first relayout). */
  size = 0;
  /** Incremented by every relayout: buffers written under another generation cannot be caught up. */
  generation = 0;

  constructor(
    readonly slotCount: number,
    private readonly groupSize: number,
    private readonly aggregator: string,
    gatewayEpoch: number,
    private readonly headroom = DEFAULT_HEADROOM,
  ) {
    this.groups = Math.ceil(slotCount / groupSize);
    this.gOff = new Int32Array(this.groups);
    this.gCap = new Int32Array(this.groups);
    this.gUsed = new Int32Array(this.groups);
    this.gChanged = new Int32Array(this.groups);
    this.kOff = new Int32Array(slotCount);
    this.kLen = new Int32Array(slotCount);
    this.changeOf = new Int32Array(slotCount);
    this.dirty = new Int32Array(this.groups);
    this.dirtyMark = new Uint8Array(this.groups);
    writeEnvelopeHeader(this.head, aggregator, 0, 0);
    // Room for the longest seq and time varints (10 bytes + tag each) and a padding field of at least 2 bytes.
    this.headCap = this.head.pos + 2 * 11 + 2;
    writeEnvelopeTrailer(this.tail, gatewayEpoch);
  }

  /** Finds the groups the changes touch and their new sizes; true when every one fits its capacity. */
  fits(ch: SlotChanges): boolean {
    for (let i = 0; i < this.dirtyCount; i++) this.dirtyMark[this.dirty[i]!] = 0;
    this.dirtyCount = 0;
    const gs = this.groupSize;
    for (let i = 0; i < ch.count; i++) {
      const s = ch.list[i]!;
      this.changeOf[s] = i;
      const g = (s / gs) | 0;
      if (this.dirtyMark[g] === 0) {
        this.dirtyMark[g] = 1;
        this.dirty[this.dirtyCount++] = g;
        this.gChanged[g] = 0;
      }
      this.gChanged[g] = this.gChanged[g]! + 1;
    }
    let fits = this.size > 0;
    for (let d = 0; d < this.dirtyCount; d++) {
      const g = this.dirty[d]!;
      let used = 0;
      const end = Math.min(this.slotCount, (g + 1) * gs);
      for (let s = g * gs; s < end; s++) {
        used += ch.flag[s] === 1 ? taggedLen(ch.len[this.changeOf[s]!]!) : this.kLen[s]!;
      }
      this.gUsed[g] = used;
      if (used > this.gCap[g]!) fits = false;
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

  /** Rewrites the dirty groups (all fitting) in `dst`, whose other groups are current. */
  patch(dst: Buffer, ch: SlotChanges): void {
    for (let d = 0; d < this.dirtyCount; d++) {
      const g = this.dirty[d]!;
      this.writeGroup(dst, dst, g, this.gOff[g]!, ch, true);
    }
  }

  /**
   * Copies into `dst` (same layout, one tick behind `src`) the groups of `list` (the groups `src`'s
   * tick changed). All of them, also those this tick rewrites: a rewrite reads the group's
   * unchanged klines from `dst`.
   */
  catchUp(src: Buffer, dst: Buffer, list: Int32Array, count: number): void {
    let from = -1;
    let to = -1;
    for (let i = 0; i < count; i++) {
      const g = list[i]!;
      const o = this.gOff[g]!;
      if (o !== to) {
        if (to > from) src.copy(dst, from, from, to);
        from = o;
      }
      to = o + this.gCap[g]!;
    }
    if (to > from) src.copy(dst, from, from, to);
  }

  /** Copies everything but the header from `src` (same layout) into `dst`. */
  copyAll(src: Buffer, dst: Buffer): void {
    src.copy(dst, this.headCap, this.headCap, this.size);
  }

  /** Size after `relayout` with the changes `fits` looked at (outgrown groups get headroom). */
  sizeAfterRelayout(): number {
    let size = this.size > 0 ? this.size : this.headCap + this.tail.pos;
    for (let d = 0; d < this.dirtyCount; d++) {
      const g = this.dirty[d]!;
      const used = this.gUsed[g]!;
      if (used > this.gCap[g]!) size += used + this.headroom - this.gCap[g]!;
    }
    return size;
  }

  /**
   * New offsets for all groups, writing `dst` completely: unchanged groups copied from `prev` (the
   * previous snapshot, old layout) in runs, dirty groups rebuilt. Header not included.
   */
  relayout(prev: Buffer | undefined, dst: Buffer, ch: SlotChanges): void {
    const gs = this.groupSize;
    let pos = this.headCap;
    let from = -1;
    let to = -1;
    let runDst = 0;
    for (let g = 0; g < this.groups; g++) {
      if (this.dirtyMark[g] === 1) {
        if (to > from) prev!.copy(dst, runDst, from, to);
        from = to = -1;
        const used = this.gUsed[g]!;
        if (used > this.gCap[g]!) this.gCap[g] = used + this.headroom;
        this.writeGroup(prev ?? dst, dst, g, pos, ch, false);
        this.gOff[g] = pos;
        pos += this.gCap[g]!;
        continue;
      }
      const c = this.gCap[g]!;
      if (c === 0) continue;
      if (prev === undefined) throw new Error("slot layout: a filled group without a previous snapshot");
      const o = this.gOff[g]!;
      // A run continues while the groups are adjacent both in `prev` and in `dst`.
      if (o !== to || pos !== runDst + (to - from)) {
        if (to > from) prev.copy(dst, runDst, from, to);
        from = o;
        runDst = pos;
      }
      to = o + c;
      const delta = pos - o;
      const end = Math.min(this.slotCount, (g + 1) * gs);
      for (let s = g * gs; s < end; s++) this.kOff[s] = this.kOff[s]! + delta;
      this.gOff[g] = pos;
      pos += c;
    }
    if (to > from) prev!.copy(dst, runDst, from, to);
    this.tail.buf.copy(dst, pos, 0, this.tail.pos);
    this.size = pos + this.tail.pos;
    this.generation++;
  }

  /**
   * Writes group `g` at `at` in `dst`: changed klines from the changes, the others from `cur` (which
   * holds them at `kOff`), then padding up to the group's capacity (`gUsed[g]` must fit). `inPlace`:
   * `dst` is `cur` and the group stays where it is (a patch, not a relayout).
   */
  private writeGroup(
    cur: Buffer,
    dst: Buffer,
    g: number,
    at: number,
    ch: SlotChanges,
    inPlace: boolean,
  ): void {
    const gs = this.groupSize;
    const first = g * gs;
    const end = Math.min(this.slotCount, first + gs);
    const used = this.gUsed[g]!;
    // Fast path: every kline of the group changed and they lie back to back, in order, in the source.
    let whole = true;
    let next = -1;
    for (let s = first; s < end && whole; s++) {
      if (ch.flag[s] !== 1) {
        whole = false;
        break;
      }
      const i = this.changeOf[s]!;
      const start = ch.body[i]! - 1 - varintLen(ch.len[i]!);
      if (next >= 0 && start !== next) whole = false;
      next = start + taggedLen(ch.len[i]!);
    }
    let last = -1;
    if (!whole && inPlace && this.gChanged[g] === 1) {
      this.writeOne(dst, g, first, end, ch);
      return;
    }
    if (whole) {
      const i0 = this.changeOf[first]!;
      const start = ch.body[i0]! - 1 - varintLen(ch.len[i0]!);
      ch.src.copy(dst, at, start, start + used);
      let p = at;
      for (let s = first; s < end; s++) {
        const n = taggedLen(ch.len[this.changeOf[s]!]!);
        this.kOff[s] = p;
        this.kLen[s] = n;
        p += n;
        last = s;
      }
    } else {
      // Assemble in a scratch buffer: unchanged klines may move within the group.
      if (this.temp.length < used) this.temp = Buffer.allocUnsafeSlow(used * 2);
      const t = this.temp;
      let p = 0;
      for (let s = first; s < end; s++) {
        let n: number;
        if (ch.flag[s] === 1) {
          const i = this.changeOf[s]!;
          n = taggedLen(ch.len[i]!);
          const start = ch.body[i]! - 1 - varintLen(ch.len[i]!);
          ch.src.copy(t, p, start, start + n);
        } else {
          n = this.kLen[s]!;
          if (n === 0) continue;
          cur.copy(t, p, this.kOff[s]!, this.kOff[s]! + n);
        }
        this.kOff[s] = at + p;
        this.kLen[s] = n;
        p += n;
        last = s;
      }
      t.copy(dst, at, 0, used);
    }
    let gap = this.gCap[g]! - used;
    if (gap === 1) {
      // No field fits in one byte: the group's last kline takes it in a one byte longer length prefix.
      this.widenPrefix(dst, last);
      gap = 0;
    }
    if (gap >= 2) writePadding(dst, at + used, gap);
  }

  /**
   * `writeGroup` in place for a group with one changed kline: the klines after it move by the size
   * difference (one overlapping copy within `dst`), the changed one is copied in, the padding redone.
   */
  private writeOne(dst: Buffer, g: number, first: number, end: number, ch: SlotChanges): void {
    let s = first;
    while (ch.flag[s] !== 1) s++;
    const i = this.changeOf[s]!;
    const n = taggedLen(ch.len[i]!);
    let last = s;
    if (this.kLen[s] === 0) {
      // A newly filled slot: it goes right after the last filled slot before it.
      let p = this.gOff[g]!;
      for (let t = first; t < s; t++) if (this.kLen[t]! > 0) p = this.kOff[t]! + this.kLen[t]!;
      this.kOff[s] = p;
    }
    const from = this.kOff[s]!;
    const oldEnd = from + this.kLen[s]!;
    const delta = n - this.kLen[s]!;
    let tailEnd = oldEnd;
    for (let t = s + 1; t < end; t++) {
      if (this.kLen[t] === 0) continue;
      tailEnd = this.kOff[t]! + this.kLen[t]!;
      this.kOff[t] = this.kOff[t]! + delta;
      last = t;
    }
    if (delta !== 0 && tailEnd > oldEnd) dst.copyWithin(oldEnd + delta, oldEnd, tailEnd);
    const start = ch.body[i]! - 1 - varintLen(ch.len[i]!);
    ch.src.copy(dst, from, start, start + n);
    this.kLen[s] = n;
    const used = this.gUsed[g]!;
    let gap = this.gCap[g]! - used;
    if (gap === 1) {
      this.widenPrefix(dst, last);
      gap = 0;
    }
    if (gap >= 2) writePadding(dst, this.gOff[g]! + used, gap);
  }

  /** Rewrites slot `s`'s length prefix one byte longer (non-minimal varint), moving its body by one. */
  private widenPrefix(dst: Buffer, s: number): void {
    const at = this.kOff[s]!;
    let p = at + 1;
    let len = 0;
    let shift = 0;
    let b: number;
    do {
      b = dst[p++]!;
      len |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    const prefix = p - at - 1;
    dst.copyWithin(p + 1, p, p + len);
    writeVarintAs(dst, at + 1, len, prefix + 1);
    this.kLen[s] = this.kLen[s]! + 1;
  }
}
