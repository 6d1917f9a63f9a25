/**
 * Where every kline lives in the fixed-layout snapshot bytes (see
 * `snapshot-slots.ts` for the byte format), and the two ways a kline is
 * written: into its own sub-range, in place (the usual case: one small copy,
 * nothing moves), or by rewriting its whole group (one symbol's intervals)
 * with new sub-ranges when a kline outgrew its own.
 *
 * A group's sub-ranges are contiguous, in slot order, and their capacities add
 * up to the group's capacity. An empty slot has a sub-range of 0 bytes.
 */
import { putKline, taggedLen } from "./snapshot-slots.js";

/**
 * The changed slots of one tick: `list[i]` is the i-th changed slot and its kline body is
 * `src[shift + body[i], shift + body[i] + len[i])`, preceded by its tag and minimal length prefix.
 */
export interface SlotChanges {
  readonly list: Int32Array;
  readonly count: number;
  /** 1 + the change index of slot `s` when it changed, 0 when it did not. */
  readonly of: (s: number) => number;
  readonly src: Buffer;
  readonly shift: number;
  readonly body: Int32Array;
  readonly len: Int32Array;
}

/** Fields of a slot in `SlotTable.k`, from the slot's base index. */
const OFF = 0;
const CAP = 1;
const BODY = 2;
const PRE = 3;

/** Where the table's per-slot fields live: `ints[stride * slot + base + field]`. */
export interface SlotRecords {
  readonly ints: Int32Array;
  readonly stride: number;
  readonly base: number;
}

/** Per-slot and per-group positions of the layout. */
export class SlotTable {
  /**
   * Per slot (a changed kline reads and writes all four): its sub-range's offset in the snapshot and
   * capacity (0 for a slot that never held a kline), the body length of the kline it holds and the
   * bytes of that kline's length prefix (0: empty slot). Kept in the state's slot records when given
   * (the tick has just read that cache line when it applied the kline), else in an array of its own.
   */
  private readonly k: Int32Array;
  private readonly stride: number;
  private readonly base: number;
  /** Each group's range: offset and capacity (the sum of its slots' capacities). */
  readonly gOff: Int32Array;
  readonly gCap: Int32Array;
  private readonly lens: Int32Array;
  private temp = Buffer.allocUnsafeSlow(16 * 1024);

  constructor(
    readonly slotCount: number,
    readonly groupSize: number,
    records?: SlotRecords,
  ) {
    const groups = Math.ceil(slotCount / groupSize);
    this.k = records?.ints ?? new Int32Array(4 * slotCount);
    this.stride = records?.stride ?? 4;
    this.base = records?.base ?? 0;
    if (this.k.length < this.stride * slotCount) throw new Error("slot table: records too short");
    this.gOff = new Int32Array(groups);
    this.gCap = new Int32Array(groups);
    this.lens = new Int32Array(groupSize);
  }

  /** Offset of slot `s`'s sub-range. */
  off(s: number): number {
    return this.k[this.stride * s + this.base + OFF]!;
  }

  /** Capacity of slot `s`'s sub-range. */
  cap(s: number): number {
    return this.k[this.stride * s + this.base + CAP]!;
  }

  /** Bytes slot `s` needs after the changes: its new kline's or its current kline's minimal encoding. */
  need(s: number, ch: SlotChanges): number {
    const c = ch.of(s);
    if (c !== 0) return taggedLen(ch.len[c - 1]!);
    const b = this.stride * s + this.base;
    return this.k[b + PRE] === 0 ? 0 : taggedLen(this.k[b + BODY]!);
  }

  /** Writes change `i` (slot `s`, which it fits) into the slot's sub-range of `dst`, in place. */
  writeChange(dst: Buffer, s: number, ch: SlotChanges, i: number): void {
    const k = this.k;
    const b = this.stride * s + this.base;
    const len = ch.len[i]!;
    k[b + PRE] = putKline(dst, k[b + OFF]!, k[b + CAP]!, ch.src, ch.shift + ch.body[i]!, len, true);
    k[b + BODY] = len;
  }

  /**
   * Rewrites group `g` at `at` in `dst` with capacity `cap` (at least the sum of its slots' `need`):
   * changed klines from the changes, the others from `cur` (which holds them at their current
   * sub-ranges). The spare bytes are shared evenly among the group's klines, so each can grow a little
   * in place again; the last kline takes the remainder.
   */
  writeGroup(cur: Buffer, dst: Buffer, g: number, at: number, cap: number, ch: SlotChanges): void {
    const gs = this.groupSize;
    const first = g * gs;
    const end = Math.min(this.slotCount, first + gs);
    const lens = this.lens;
    const k = this.k;
    let filled = 0;
    let last = -1;
    let used = 0;
    for (let s = first; s < end; s++) {
      const n = this.need(s, ch);
      lens[s - first] = n;
      used += n;
      if (n > 0) {
        filled++;
        last = s;
      }
    }
    if (used > cap) throw new Error(`slot layout: group ${g} needs ${used} bytes, has ${cap}`);
    if (filled === 0 && cap !== 0) throw new Error(`slot layout: empty group ${g} with ${cap} bytes`);
    const each = filled === 0 ? 0 : Math.floor((cap - used) / filled);
    const rest = cap - used - each * filled;
    // Assembled in a scratch buffer: in place, a kline's new sub-range may overlap others' old ones.
    if (this.temp.length < cap) this.temp = Buffer.allocUnsafeSlow(cap * 2);
    const t = this.temp;
    let p = 0;
    for (let s = first; s < end; s++) {
      const n = lens[s - first]!;
      const b = this.stride * s + this.base;
      const old = k[b + OFF]!;
      k[b + OFF] = at + p;
      if (n === 0) {
        k[b + CAP] = 0;
        continue;
      }
      const c = n + each + (s === last ? rest : 0);
      const i = ch.of(s) - 1;
      if (i >= 0) {
        k[b + PRE] = putKline(t, p, c, ch.src, ch.shift + ch.body[i]!, ch.len[i]!, true);
        k[b + BODY] = ch.len[i]!;
      } else {
        // Its current prefix may be one byte longer than minimal: re-encoded for the new sub-range.
        k[b + PRE] = putKline(t, p, c, cur, old + 1 + k[b + PRE]!, k[b + BODY]!, false);
      }
      k[b + CAP] = c;
      p += c;
    }
    t.copy(dst, at, 0, cap);
    this.gOff[g] = at;
    this.gCap[g] = cap;
  }

  /** Moves group `g`'s sub-ranges by `delta` bytes (the group's bytes were copied there as they are). */
  shift(g: number, delta: number): void {
    const first = g * this.groupSize;
    const end = Math.min(this.slotCount, first + this.groupSize);
    for (let s = first; s < end; s++) {
      const b = this.stride * s + this.base + OFF;
      this.k[b] = this.k[b]! + delta;
    }
    this.gOff[g] = this.gOff[g]! + delta;
  }
}
