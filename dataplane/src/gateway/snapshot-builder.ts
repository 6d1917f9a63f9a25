/**
 * Builds each tick's immutable, encoded snapshot without re-encoding or
 * copying the whole state.
 *
 * The full `Snapshot` uses a fixed layout (`slot-layout.ts`): every symbol
 * owns a byte range (its klines plus padding), so a tick rewrites only the
 * symbols that changed. When nobody holds the previous snapshot any more, its
 * buffer is patched in place. When a reader still holds it (a publisher still
 * sending it), the tick writes into the buffer of the snapshot before it after
 * copying in the symbols the previous tick changed (double buffering), or, when
 * that one is held too, into a free buffer with a full copy. A published
 * snapshot is never written while leased. When a symbol's klines outgrow their
 * range (or fill an empty one), the layout is recomputed and the buffer
 * rewritten once.
 *
 * The changed klines are first gathered, tagged, in a reused scratch buffer
 * (raw klines copied in runs, others encoded once); the `SnapshotUpdate` is
 * that scratch between its envelope header and trailer, and the Kafka hand-off
 * refers to ranges of the update bytes, so every changed kline is encoded at
 * most once per tick.
 */
import { ByteWriter } from "./byte-writer.js";
import type { GlobalState } from "./global-state.js";
import {
  KLINES_TAG,
  writeEnvelopeHeader,
  writeEnvelopeTrailer,
  writeTaggedKline,
  writeTaggedWireKline,
} from "./kline-codec.js";
import type { GatewaySnapshot, RawKlines, WireKline } from "./ports.js";
import { BufferPool, PooledSnapshot } from "./snapshot-pool.js";
import { RawRunCopier } from "./raw-run-copier.js";
import { DEFAULT_HEADROOM, SlotLayout, type SlotChanges } from "./slot-layout.js";
import { readTagged } from "./snapshot-slots.js";

/** Flags of one hand-off entry. */
export const ENTRY_CLOSED = 1;
/** The entry is not its slot's current kline (older period or superseded within the tick): never coalesced. */
export const ENTRY_EXTRA = 2;

/**
 * The klines of one tick that go to Kafka, as ranges of `bytes` (the tick's
 * update bytes). Arrays are exactly `count` long.
 */
export interface TickEntries {
  readonly bytes: Uint8Array;
  readonly count: number;
  readonly slot: Int32Array;
  readonly off: Int32Array;
  readonly len: Int32Array;
  readonly flags: Uint8Array;
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

/** Output of one build. */
export interface BuiltTick {
  readonly snapshot: GatewaySnapshot;
  readonly entries: TickEntries;
}

/** Incremental snapshot encoder for one `GlobalState`. */
export class SnapshotBuilder {
  /** The newest snapshot and the one before it (the builder holds a lease on both). */
  private prev: PooledSnapshot | undefined;
  private older: PooledSnapshot | undefined;
  private readonly pool = new BufferPool();
  private readonly layout: SlotLayout;
  /** The groups (symbols) the newest snapshot's tick changed (what `older` lacks). */
  private readonly prevChanged: Int32Array;
  private prevChangedCount = 0;
  private readonly scratch = new ByteWriter(1 << 20);
  private readonly runs = new RawRunCopier();
  /** Where the i-th changed slot's kline body is in scratch, and its length. */
  private readonly scratchBody: Int32Array;
  private readonly scratchLen: Int32Array;
  private readonly tagged = new Int32Array(2);
  private readonly head = new ByteWriter(256);
  private readonly tail = new ByteWriter(32);
  private eSlot: Int32Array;
  private eOff: Int32Array;
  private eLen: Int32Array;
  private eFlags: Uint8Array;
  /** Relayouts so far (the first build is one), for tests and the bench. */
  relayouts = 0;
  /** Snapshots written by a full copy because the double buffer was still leased, for tests and the bench. */
  fullCopies = 0;
  /** Snapshots patched in place into the previous snapshot's buffer (nobody held it), for tests and the bench. */
  inPlace = 0;

  constructor(
    private readonly state: GlobalState,
    private readonly aggregator: string,
    private readonly gatewayEpoch: number,
    headroom = DEFAULT_HEADROOM,
  ) {
    const n = state.layout.slotCount;
    this.layout = new SlotLayout(n, state.layout.nIntervals, aggregator, gatewayEpoch, headroom);
    this.prevChanged = new Int32Array(n);
    this.scratchBody = new Int32Array(n);
    this.scratchLen = new Int32Array(n);
    this.eSlot = new Int32Array(n);
    this.eOff = new Int32Array(n);
    this.eLen = new Int32Array(n);
    this.eFlags = new Uint8Array(n);
  }

  /**
   * Encodes the tick: the state's changed slots plus the first `extraCount` of `extras`. `forwardWorker[w]`
   * says whether changes written by worker `w` go to Kafka this tick.
   */
  build(
    seq: number,
    time: number,
    extras: readonly ExtraKline[],
    extraCount: number,
    forwardWorker: Uint8Array,
  ): BuiltTick {
    const st = this.state;
    const sym = st.layout.symbols;
    const ivs = st.layout.intervals;
    const nIv = st.layout.nIntervals;
    const w = this.scratch;
    w.reset();
    let entries = 0;
    const runs = this.runs;
    for (let i = 0; i < st.changedCount; i++) {
      const s = st.changedList[i]!;
      const raw = st.srcRaw[s];
      let start = runs.pos(w);
      let n = raw !== undefined ? runs.add(w, raw, st.srcIdx[s]!) : -1;
      if (n < 0) {
        runs.flush(w);
        start = w.pos;
        if (raw !== undefined) writeTaggedRaw(w, raw, st.srcIdx[s]!);
        else
          writeTaggedKline(
            w,
            sym[(s / nIv) | 0]!,
            ivs[s % nIv]!,
            st.openTime[s]!,
            st.closeTime[s]!,
            st.open[s]!,
            st.high[s]!,
            st.low[s]!,
            st.close[s]!,
            st.volume[s]!,
            st.quoteVolume[s]!,
            st.trades[s]!,
            st.takerBuyVolume[s]!,
            st.takerBuyQuoteVolume[s]!,
            st.firstTradeId[s]!,
            st.lastTradeId[s]!,
            st.closed[s] === 1,
            st.version[s]!,
          );
        n = w.pos - start;
      }
      if (raw !== undefined) {
        const len = raw.len[st.srcIdx[s]!]!;
        this.scratchBody[i] = start + n - len;
        this.scratchLen[i] = len;
      } else {
        readTagged(w.buf, start, this.tagged);
        this.scratchBody[i] = this.tagged[0]!;
        this.scratchLen[i] = this.tagged[1]!;
      }
      if (forwardWorker[st.writer[s]!] === 1) {
        this.addEntry(entries++, s, start, n, st.closed[s] === 1 ? ENTRY_CLOSED : 0);
      }
    }
    runs.flush(w);
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
    this.head.reset();
    writeEnvelopeHeader(this.head, this.aggregator, seq, time);
    this.tail.reset();
    writeEnvelopeTrailer(this.tail, this.gatewayEpoch);
    const headLen = this.head.pos;
    const update = Buffer.allocUnsafeSlow(headLen + w.pos + this.tail.pos);
    this.head.buf.copy(update, 0, 0, headLen);
    w.buf.copy(update, headLen, 0, w.pos);
    this.tail.buf.copy(update, headLen + w.pos, 0, this.tail.pos);
    for (let i = 0; i < entries; i++) this.eOff[i] = this.eOff[i]! + headLen;
    const out = this.writeSnapshot(seq, time);
    const snapshot = new PooledSnapshot(
      {
        aggregator: this.aggregator,
        gatewayEpoch: this.gatewayEpoch,
        seq,
        time,
        updateBytes: update,
        changedCount: st.changedCount + extraCount,
        klineCount: st.filled,
      },
      out,
      this.layout.size,
      this.pool,
      this.layout.generation,
    );
    // The builder keeps its lease on the previous snapshot unless it was patched in place: its buffer is a
    // target of the next tick when the newest is still being read.
    this.older = this.prev;
    this.prev = snapshot;
    const L = this.layout;
    for (let i = 0; i < L.dirtyCount; i++) this.prevChanged[i] = L.dirty[i]!;
    this.prevChangedCount = L.dirtyCount;
    return {
      snapshot,
      entries: {
        bytes: update,
        count: entries,
        slot: this.eSlot.slice(0, entries),
        off: this.eOff.slice(0, entries),
        len: this.eLen.slice(0, entries),
        flags: this.eFlags.slice(0, entries),
      },
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

  /** Writes the tick's snapshot (the state's changed slots, encoded in scratch) into a buffer it returns. */
  private writeSnapshot(seq: number, time: number): Buffer {
    const st = this.state;
    const L = this.layout;
    const ch: SlotChanges = {
      list: st.changedList,
      count: st.changedCount,
      flag: st.changedFlag,
      src: this.scratch.buf,
      body: this.scratchBody,
      len: this.scratchLen,
    };
    const prev = this.prev;
    const older = this.older;
    this.older = undefined;
    const fits = L.fits(ch);
    // `claim` takes a snapshot's buffer when the builder's own lease is the only one left.
    const free = older !== undefined && older.claim() ? older.buffer : undefined;
    // Not claimed: drop the builder's lease; the buffer returns to the pool with its last holder.
    if (older !== undefined && free === undefined) older.unref(true);
    let out: Buffer;
    if (prev !== undefined && fits && prev.claim()) {
      // Nobody reads the previous snapshot any more: patch it in place.
      if (free !== undefined) this.pool.give(free);
      out = prev.buffer;
      L.patch(out, ch);
      this.prev = undefined;
      this.inPlace++;
    } else if (prev !== undefined && fits) {
      // A reader still holds the previous snapshot: write into the one before it when that is free
      // (copying in what the previous tick changed), else into a free buffer with a full copy.
      if (free !== undefined && older!.layoutGen === L.generation && free.length >= L.size) {
        L.catchUp(prev.buffer, free, this.prevChanged, this.prevChangedCount);
        out = free;
      } else {
        if (free !== undefined) this.pool.give(free);
        out = this.pool.take(L.size);
        L.copyAll(prev.buffer, out);
        this.fullCopies++;
      }
      L.patch(out, ch);
    } else {
      if (free !== undefined) this.pool.give(free);
      out = this.pool.take(L.sizeAfterRelayout());
      L.relayout(prev?.buffer, out, ch);
      this.relayouts++;
    }
    L.writeHeader(out, seq, time);
    return out;
  }

  /** Pool statistics (tests, bench). */
  get buffersAllocated(): number {
    return this.pool.allocated;
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
