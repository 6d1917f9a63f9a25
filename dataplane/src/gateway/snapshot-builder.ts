/**
 * Builds each tick's immutable, encoded snapshot without re-encoding or
 * copying the whole state.
 *
 * The full `Snapshot` uses a fixed layout (`slot-layout.ts`): every kline owns
 * a byte range (the kline plus padding), so a tick rewrites only the klines
 * that changed, each with one small copy. When nobody holds the previous
 * snapshot any more, its buffer is patched in place. When a reader still holds
 * it (a publisher still sending it), the tick writes into the buffer of the
 * snapshot before it after copying in the byte ranges the previous tick wrote
 * (double buffering), or, when that one is held too, into a free buffer with a
 * full copy. A published snapshot is never written while leased. When a
 * symbol's klines outgrow their range (or fill an empty one), the layout is
 * recomputed and the buffer rewritten once.
 *
 * The changed klines are first written, tagged, into the tick's
 * `SnapshotUpdate` (`tick-update.ts`); the snapshot is patched from those
 * bytes and the Kafka hand-off refers to ranges of them, so every changed
 * kline is encoded at most once per tick.
 */
import { SLOT_RECORD_INTS, SLOT_TABLE_BASE, type GlobalState } from "./global-state.js";
import type { GatewaySnapshot } from "./ports.js";
import { BufferPool, PooledSnapshot } from "./snapshot-pool.js";
import { ByteRanges, DEFAULT_HEADROOM, SlotLayout } from "./slot-layout.js";
import type { SlotChanges } from "./slot-table.js";
import { TickUpdateWriter, type ExtraKline, type TickEntries, type WrittenUpdate } from "./tick-update.js";

export { ENTRY_CLOSED, ENTRY_EXTRA, type ExtraKline, type TickEntries } from "./tick-update.js";

/** Output of one build. */
export interface BuiltTick {
  readonly snapshot: GatewaySnapshot;
  /** The hand-off's share of the update bytes: its consumer calls `entries.release()` once. */
  readonly entries: TickEntries;
}

/** Incremental snapshot encoder for one `GlobalState`. */
export class SnapshotBuilder {
  /** The newest snapshot and the one before it (the builder holds a lease on both). */
  private prev: PooledSnapshot | undefined;
  private older: PooledSnapshot | undefined;
  /** In pairs: the double buffer's catch-up then copies within one `ArrayBuffer`. */
  private readonly pool = new BufferPool(4, true);
  private readonly layout: SlotLayout;
  private readonly update: TickUpdateWriter;
  /** The byte ranges the newest snapshot's tick wrote (what `older` lacks). */
  private prevWritten = new ByteRanges(1024);
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
    // The layout's per-slot fields share the state's slot records (one cache line per changed kline).
    const records = { ints: state.recI, stride: SLOT_RECORD_INTS, base: SLOT_TABLE_BASE };
    this.layout = new SlotLayout(n, state.layout.nIntervals, aggregator, gatewayEpoch, headroom, records);
    this.update = new TickUpdateWriter(state, aggregator, gatewayEpoch);
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
    const u = this.update.write(seq, time, extras, extraCount, forwardWorker);
    const out = this.writeSnapshot(seq, time, u);
    const snapshot = new PooledSnapshot(
      {
        aggregator: this.aggregator,
        gatewayEpoch: this.gatewayEpoch,
        seq,
        time,
        updateBytes: u.bytes,
        changedCount: st.changedCount + extraCount,
        klineCount: st.filled,
      },
      out,
      this.layout.size,
      this.pool,
      this.layout.generation,
      u.shared,
    );
    // The builder keeps its lease on the previous snapshot unless it was patched in place: its buffer is a
    // target of the next tick when the newest is still being read.
    this.older = this.prev;
    this.prev = snapshot;
    // What this tick wrote is what the next tick's double buffer (this tick's target's sibling) lacks.
    const w = this.layout.written;
    this.layout.written = this.prevWritten;
    this.prevWritten = w;
    return { snapshot, entries: u.entries };
  }

  /** Writes the tick's snapshot (the state's changed slots, located in the update) into a buffer it returns. */
  private writeSnapshot(seq: number, time: number, u: WrittenUpdate): Buffer {
    const L = this.layout;
    const prev = this.prev;
    const older = this.older;
    this.older = undefined;
    // `claim` takes a snapshot's buffer when the builder's own lease is the only one left.
    const free = older !== undefined && older.claim() ? older.buffer : undefined;
    // Not claimed: drop the builder's lease; the buffer returns to the pool with its last holder.
    if (older !== undefined && free === undefined) older.unref(true);
    if (prev === undefined) {
      // The first build: nothing to patch, every group is laid out.
      if (free !== undefined) this.pool.give(free);
      L.fits(u.changes);
      const size = L.sizeAfterRelayout();
      const out = this.pool.take(size);
      this.relayout(undefined, out, stage(u, out, size), seq, time);
      return out;
    }
    let out: Buffer;
    let inPlace = false;
    if (prev.claim()) {
      // Nobody reads the previous snapshot any more: patch it in place.
      if (free !== undefined) this.pool.give(free);
      out = prev.buffer;
      this.prev = undefined;
      inPlace = true;
    } else if (free !== undefined && older!.layoutGen === L.generation && free.length >= L.size) {
      // A reader still holds the previous snapshot: write into the one before it, caught up with what
      // the previous tick wrote (double buffering).
      L.catchUp(prev.buffer, free, this.prevWritten);
      out = free;
    } else {
      // Both held: a free buffer with a full copy.
      if (free !== undefined) this.pool.give(free);
      out = this.pool.take(L.size);
      L.copyAll(prev.buffer, out);
      this.fullCopies++;
    }
    const ch = stage(u, out, L.size);
    if (L.patch(out, ch)) {
      if (inPlace) this.inPlace++;
      L.writeHeader(out, seq, time);
      return out;
    }
    // A group outgrew its capacity: a new layout, copied from the buffer just patched (its unchanged
    // klines are current; the changes are taken from `ch`, which may be staged in it).
    const size = L.sizeAfterRelayout();
    const next = this.pool.take(size);
    this.relayout(out, next, ch, seq, time);
    this.pool.give(out);
    return next;
  }

  private relayout(from: Buffer | undefined, out: Buffer, ch: SlotChanges, seq: number, time: number): void {
    this.layout.relayout(from, out, ch);
    this.layout.writeHeader(out, seq, time);
    this.relayouts++;
  }

  /** Snapshot buffers allocated so far (tests, bench). */
  get buffersAllocated(): number {
    return this.pool.allocated;
  }

  /** Update buffers allocated so far (tests, bench). */
  get updateBuffersAllocated(): number {
    return this.update.allocated;
  }

  /** Groups rewritten whole because a kline outgrew its sub-range, without a relayout (tests, bench). */
  get regroups(): number {
    return this.layout.regroups;
  }
}

/**
 * The changes copied (one copy) into `out` past its first `size` bytes, where the snapshot does not
 * reach, when they fit there: the patch then moves each kline within one buffer (`copyWithin`, much
 * cheaper per small copy than `Buffer.copy` between buffers). Otherwise the changes stay in the update.
 */
function stage(u: WrittenUpdate, out: Buffer, size: number): SlotChanges {
  const n = u.changesTo - u.changesFrom;
  if (n === 0 || out.length - size < n) return u.changes;
  u.bytes.copy(out, size, u.changesFrom, u.changesTo);
  return { ...u.changes, src: out, shift: size - u.changesFrom };
}
