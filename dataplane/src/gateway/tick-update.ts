/**
 * Writes one tick's `SnapshotUpdate` bytes and the Kafka hand-off entries that
 * point into them, encoding every changed kline at most once.
 *
 * The update is written straight into a pooled buffer: envelope header, the
 * changed klines tagged (raw klines copied from the workers' chunks in runs,
 * others encoded once), the tick's extras, the trailer. The snapshot is then
 * patched from the same bytes. The buffer is shared by the snapshot (as its
 * `updateBytes`) and the Kafka hand-off (its entries are ranges of it), and
 * goes back to the pool once both are done with it.
 */
import { ByteWriter } from "./byte-writer.js";
import type { GlobalState } from "./global-state.js";
import {
  KLINES_TAG,
  writeEnvelopeHeader,
  writeEnvelopeTrailer,
  writeTaggedWireKline,
} from "./kline-codec.js";
import type { RawKlines, WireKline } from "./ports.js";
import { RawRunCopier } from "./raw-run-copier.js";
import { BufferPool, SharedBuffer } from "./snapshot-pool.js";
import { readTagged } from "./snapshot-slots.js";
import type { SlotChanges } from "./slot-table.js";

/** Flags of one hand-off entry. */
export const ENTRY_CLOSED = 1;
/** The entry is not its slot's current kline (older period or superseded within the tick): never coalesced. */
export const ENTRY_EXTRA = 2;

/**
 * The klines of one tick that go to Kafka, as ranges of `bytes` (the tick's
 * update bytes). Arrays are exactly `count` long. `bytes` stay valid until
 * `release()`, which the consumer (the Kafka hand-off) calls once, when done.
 */
export interface TickEntries {
  readonly bytes: Uint8Array;
  readonly count: number;
  readonly slot: Int32Array;
  readonly off: Int32Array;
  readonly len: Int32Array;
  readonly flags: Uint8Array;
  release(): void;
}

/** A kline that is not its slot's final state this tick but must still be published and forwarded. */
export interface ExtraKline {
  /** The kline as an object; undefined when it is `raw`'s kline `rawIndex`. */
  readonly kline: WireKline | undefined;
  readonly raw?: RawKlines | undefined;
  readonly rawIndex?: number;
  readonly slot: number;
  /** False when its worker's result could not be handed to Kafka this tick (it will come again). */
  readonly forward: boolean;
}

/** One written update. */
export interface WrittenUpdate {
  /** The update's buffer, held once for the snapshot and once for `entries`. */
  readonly shared: SharedBuffer;
  readonly bytes: Buffer;
  readonly entries: TickEntries;
  /** The state's changed slots, located in `bytes` (for the snapshot's patch). */
  readonly changes: SlotChanges;
  /** Where the changed slots' tagged klines start and end in `bytes` (the extras follow them). */
  readonly changesFrom: number;
  readonly changesTo: number;
}

/** Reused per-tick scratch of the update writer. */
export class TickUpdateWriter {
  private readonly pool = new BufferPool();
  private readonly w = new ByteWriter(16);
  private readonly runs = new RawRunCopier();
  /** Where the i-th changed slot's kline body is in the update, and its length. */
  private readonly body: Int32Array;
  private readonly len: Int32Array;
  private readonly tagged = new Int32Array(2);
  private eSlot: Int32Array;
  private eOff: Int32Array;
  private eLen: Int32Array;
  private eFlags: Uint8Array;
  /** Size of the last update, to take a buffer that will most likely hold the next. */
  private lastSize = 64 * 1024;
  /** The state's change index of a slot, for the snapshot's patch (bound once). */
  private readonly changeOf: (s: number) => number;

  constructor(
    private readonly state: GlobalState,
    private readonly aggregator: string,
    private readonly gatewayEpoch: number,
  ) {
    const n = state.layout.slotCount;
    this.changeOf = (s) => state.changeOf(s);
    this.body = new Int32Array(n);
    this.len = new Int32Array(n);
    this.eSlot = new Int32Array(n);
    this.eOff = new Int32Array(n);
    this.eLen = new Int32Array(n);
    this.eFlags = new Uint8Array(n);
  }

  /** Update buffers allocated so far (not taken from the pool), for tests and the bench. */
  get allocated(): number {
    return this.pool.allocated;
  }

  /**
   * Writes the tick: the state's changed slots plus the first `extraCount` of `extras`.
   * `forwardWorker[w]` says whether changes written by worker `w` go to Kafka this tick.
   */
  write(
    seq: number,
    time: number,
    extras: readonly ExtraKline[],
    extraCount: number,
    forwardWorker: Uint8Array,
  ): WrittenUpdate {
    const st = this.state;
    const w = this.w;
    w.buf = this.pool.take(this.lastSize);
    w.pos = 0;
    writeEnvelopeHeader(w, this.aggregator, seq, time);
    const changesFrom = w.pos;
    let entries = 0;
    const runs = this.runs;
    for (let i = 0; i < st.changedCount; i++) {
      const raw = st.rawOf(i);
      const idx = st.changeRawIdx[i]!;
      let start = runs.pos(w);
      let n = raw !== undefined ? runs.add(w, raw, idx) : -1;
      if (n < 0) {
        runs.flush(w);
        start = w.pos;
        if (raw !== undefined) writeTaggedRaw(w, raw, idx);
        else writeTaggedWireKline(w, st.changeKline[i]!);
        n = w.pos - start;
      }
      if (raw !== undefined) {
        const len = raw.len[idx]!;
        this.body[i] = start + n - len;
        this.len[i] = len;
      } else {
        readTagged(w.buf, start, this.tagged);
        this.body[i] = this.tagged[0]!;
        this.len[i] = this.tagged[1]!;
      }
      if (forwardWorker[st.changeWriter[i]!] === 1) {
        const flags = st.changeClosed[i] === 1 ? ENTRY_CLOSED : 0;
        this.addEntry(entries++, st.changedList[i]!, start, n, flags);
      }
    }
    runs.flush(w);
    const changesTo = w.pos;
    for (let i = 0; i < extraCount; i++) {
      const x = extras[i]!;
      const start = w.pos;
      let closed: boolean;
      if (x.raw !== undefined) {
        const idx = x.rawIndex ?? 0;
        writeTaggedRaw(w, x.raw, idx);
        closed = x.raw.closed[idx] === 1;
      } else if (x.kline !== undefined) {
        writeTaggedWireKline(w, x.kline);
        closed = x.kline.closed;
      } else continue;
      if (x.forward) {
        this.addEntry(entries++, x.slot, start, w.pos - start, ENTRY_EXTRA | (closed ? ENTRY_CLOSED : 0));
      }
    }
    writeEnvelopeTrailer(w, this.gatewayEpoch);
    this.lastSize = w.pos;
    // `w.buf` may have grown past the buffer taken from the pool: the grown one is shared and recycled.
    const shared = new SharedBuffer(w.buf, this.pool, 2);
    const bytes = w.buf.subarray(0, w.pos);
    let released = false;
    return {
      shared,
      bytes,
      entries: {
        bytes,
        count: entries,
        slot: this.eSlot.slice(0, entries),
        off: this.eOff.slice(0, entries),
        len: this.eLen.slice(0, entries),
        flags: this.eFlags.slice(0, entries),
        release: () => {
          if (released) return;
          released = true;
          shared.release(true);
        },
      },
      changes: {
        list: st.changedList,
        count: st.changedCount,
        of: this.changeOf,
        src: w.buf,
        shift: 0,
        body: this.body,
        len: this.len,
      },
      changesFrom,
      changesTo,
    };
  }

  private addEntry(i: number, slot: number, off: number, len: number, flags: number): void {
    if (i >= this.eSlot.length) this.growEntries();
    this.eSlot[i] = slot;
    this.eOff[i] = off;
    this.eLen[i] = len;
    this.eFlags[i] = flags;
  }

  /** Extras can push a tick past one entry per slot; rare, so plain reallocation. */
  private growEntries(): void {
    const size = this.eSlot.length * 2 + 16;
    const i32 = (a: Int32Array): Int32Array => {
      const b = new Int32Array(size);
      b.set(a);
      return b;
    };
    this.eSlot = i32(this.eSlot);
    this.eOff = i32(this.eOff);
    this.eLen = i32(this.eLen);
    const f = new Uint8Array(size);
    f.set(this.eFlags);
    this.eFlags = f;
  }
}

/** Writes raw kline `i` as a tagged kline: field-4 tag, length, then its body copied as is. */
function writeTaggedRaw(w: ByteWriter, raw: RawKlines, i: number): void {
  const len = raw.len[i]!;
  const off = raw.off[i]!;
  const src = raw.chunks[raw.chunk[i]!]!;
  w.ensure(len + 6);
  w.buf[w.pos++] = KLINES_TAG;
  w.varint(len);
  if (Buffer.isBuffer(src)) src.copy(w.buf, w.pos, off, off + len);
  else w.buf.set(src.subarray(off, off + len), w.pos);
  w.pos += len;
}
