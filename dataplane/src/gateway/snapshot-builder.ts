/**
 * Builds each tick's immutable, encoded snapshot without re-encoding the
 * whole state.
 *
 * The full `Snapshot` is the envelope header, then every filled slot's tagged
 * kline in slot order, then the trailer. The builder remembers where each
 * slot's encoding sits in the previous snapshot's bytes; a tick re-encodes
 * only the changed slots (into a reused scratch buffer) and copies the
 * unchanged runs from the previous snapshot, so the cost is one memcpy of the
 * snapshot plus the changed klines. Each tick's bytes are a fresh buffer that
 * is never written again, so a publisher may hold a snapshot as long as it likes.
 *
 * The `SnapshotUpdate` reuses the same scratch encodings (both envelopes share
 * their field numbers), and the Kafka hand-off refers to ranges of the update
 * bytes, so every changed kline is encoded exactly once per tick.
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
  private prev: PooledSnapshot | undefined;
  private readonly pool = new BufferPool();
  private readonly encOff: Int32Array;
  private readonly encLen: Int32Array;
  private klineBytes = 0;
  private readonly scratch = new ByteWriter(1 << 20);
  private readonly runs = new RawRunCopier();
  private readonly scratchOff: Int32Array;
  private readonly scratchLen: Int32Array;
  private readonly head = new ByteWriter(256);
  private readonly tail = new ByteWriter(32);
  private eSlot: Int32Array;
  private eOff: Int32Array;
  private eLen: Int32Array;
  private eFlags: Uint8Array;

  constructor(
    private readonly state: GlobalState,
    private readonly aggregator: string,
    private readonly gatewayEpoch: number,
  ) {
    const n = state.layout.slotCount;
    this.encOff = new Int32Array(n);
    this.encLen = new Int32Array(n);
    this.scratchOff = new Int32Array(n);
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
    let newKlineBytes = this.klineBytes;
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
      this.scratchOff[s] = start;
      this.scratchLen[s] = n;
      newKlineBytes += n - this.encLen[s]!;
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
    const size = headLen + newKlineBytes + this.tail.pos;
    const out = this.pool.take(size);
    this.assembleSnapshot(out);
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
      size,
      this.pool,
    );
    // The builder's own lease on the previous snapshot (its copy source) ends here.
    this.prev?.unref(true);
    this.prev = snapshot;
    this.klineBytes = newKlineBytes;
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

  /** Writes the new snapshot into `out`: header, unchanged runs copied from the previous bytes, changed slots from scratch, trailer. */
  private assembleSnapshot(out: Buffer): void {
    const st = this.state;
    const headLen = this.head.pos;
    this.head.buf.copy(out, 0, 0, headLen);
    const prev = this.prev?.buffer ?? out;
    const scratch = this.scratch.buf;
    const flag = st.changedFlag;
    const encOff = this.encOff;
    const encLen = this.encLen;
    let pos = headLen;
    // Two kinds of runs, each copied with one call: unchanged slots (contiguous in the previous
    // bytes) and changed slots whose encodings are contiguous in scratch (a symbol's intervals
    // usually change together and arrive in order).
    let runFrom = -1;
    let runTo = -1;
    let sFrom = -1;
    let sTo = -1;
    const n = st.layout.slotCount;
    for (let s = 0; s < n; s++) {
      if (flag[s] === 1) {
        if (runTo > runFrom) {
          copyBytes(prev, out, pos, runFrom, runTo);
          pos += runTo - runFrom;
        }
        runFrom = runTo = -1;
        const so = this.scratchOff[s]!;
        const len = this.scratchLen[s]!;
        if (so !== sTo) {
          if (sTo > sFrom) {
            copyBytes(scratch, out, pos, sFrom, sTo);
            pos += sTo - sFrom;
          }
          sFrom = so;
        }
        sTo = so + len;
        encOff[s] = pos + (so - sFrom);
        encLen[s] = len;
        continue;
      }
      const len = encLen[s]!;
      if (len === 0) continue;
      if (sTo > sFrom) {
        copyBytes(scratch, out, pos, sFrom, sTo);
        pos += sTo - sFrom;
      }
      sFrom = sTo = -1;
      const off = encOff[s]!;
      // Unchanged slots with content are contiguous in the previous bytes until a changed slot breaks the run.
      if (runFrom < 0) runFrom = runTo = off;
      encOff[s] = pos + (runTo - runFrom);
      runTo = off + len;
    }
    if (runTo > runFrom) {
      copyBytes(prev, out, pos, runFrom, runTo);
      pos += runTo - runFrom;
    }
    if (sTo > sFrom) {
      copyBytes(scratch, out, pos, sFrom, sTo);
      pos += sTo - sFrom;
    }
    this.tail.buf.copy(out, pos, 0, this.tail.pos);
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

/**
 * `src.copy(dst, at, from, to)` without its per-call view allocation for short ranges: Node 20's
 * Buffer#copy creates a Uint8Array view for every partial copy, and a tick with changes spread over
 * the whole state makes ~15,000 copies of a few hundred bytes.
 */
function copyBytes(src: Buffer, dst: Buffer, at: number, from: number, to: number): void {
  const n = to - from;
  if (n > 512) {
    src.copy(dst, at, from, to);
    return;
  }
  for (let i = 0; i < n; i++) dst[at + i] = src[from + i]!;
}
