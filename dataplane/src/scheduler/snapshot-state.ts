/**
 * A reader's copy of the gateway's snapshot, kept current by applying
 * `SnapshotUpdate`s on top of the last full `Snapshot` read from the bus.
 *
 * Pure (no I/O). `apply` says whether an update could be applied or whether
 * the reader must re-read the full snapshot (a gap in `seq`, a new gateway
 * epoch, or no base yet).
 *
 * Retention: an update only carries changed klines, never removals, so the
 * state cannot see what the gateway dropped. It keeps, per (symbol, interval),
 * at most as many klines (newest open times) as the last full snapshot held for
 * any pair (at least one); the read scheduler also re-reads the full snapshot
 * periodically, which corrects any other drift.
 */
import { create } from "@bufbuild/protobuf";
import type { Kline } from "../gen/klagg/v1/kline_pb.js";
import { SnapshotSchema, type Snapshot, type SnapshotUpdate } from "../gen/klagg/v1/snapshot_pb.js";
import { INTERVALS } from "../core/types.js";

/** Outcome of applying one update. */
export type ApplyResult =
  /** Applied: the state advanced to the update's seq. */
  | "applied"
  /** Already contained in the state (seq not newer); ignored. */
  | "stale"
  /** A seq was skipped: the state must be re-read from the snapshot. */
  | "gap"
  /** The update belongs to another gateway run: re-read. */
  | "epoch"
  /** No full snapshot read yet: read it first. */
  | "no_base";

const INTERVAL_RANK = new Map<string, number>(INTERVALS.map((iv, i) => [iv, i]));

function pairKey(k: Kline): string {
  return `${k.symbol}\u0000${k.interval}`;
}

/** Orders klines by symbol, then interval (shortest first), then open time. */
export function compareKlines(a: Kline, b: Kline): number {
  if (a.symbol !== b.symbol) return a.symbol < b.symbol ? -1 : 1;
  const ra = INTERVAL_RANK.get(a.interval) ?? INTERVALS.length;
  const rb = INTERVAL_RANK.get(b.interval) ?? INTERVALS.length;
  if (ra !== rb) return ra - rb;
  if (a.interval !== b.interval) return a.interval < b.interval ? -1 : 1;
  return a.openTime < b.openTime ? -1 : a.openTime > b.openTime ? 1 : 0;
}

/** The reader-side snapshot: a base snapshot plus the updates applied since. */
export class SnapshotState {
  private header: { aggregator: string; epoch: bigint; seq: bigint; time: bigint } | undefined;
  /** (symbol, interval) -> open time -> kline. */
  private readonly pairs = new Map<string, Map<bigint, Kline>>();
  private perPairLimit = 1;
  private cached: Snapshot | undefined;

  /** Gateway epoch of the state, undefined before the first snapshot. */
  get epoch(): bigint | undefined {
    return this.header?.epoch;
  }

  /** Seq of the state, undefined before the first snapshot. */
  get seq(): bigint | undefined {
    return this.header?.seq;
  }

  /** Replaces the state with a full snapshot. */
  reset(s: Snapshot): void {
    this.header = { aggregator: s.aggregator, epoch: s.gatewayEpoch, seq: s.seq, time: s.time };
    this.pairs.clear();
    for (const k of s.klines) this.put(k);
    let limit = 1;
    for (const m of this.pairs.values()) limit = Math.max(limit, m.size);
    this.perPairLimit = limit;
    this.cached = s;
  }

  /** Applies `u` if it is the next seq of the same gateway epoch. */
  apply(u: SnapshotUpdate): ApplyResult {
    const h = this.header;
    if (h === undefined) return "no_base";
    if (u.gatewayEpoch !== h.epoch) return "epoch";
    if (u.seq <= h.seq) return "stale";
    if (u.seq !== h.seq + 1n) return "gap";
    const touched = new Set<string>();
    for (const k of u.klines) touched.add(this.put(k));
    for (const p of touched) this.trim(p);
    this.header = { aggregator: u.aggregator || h.aggregator, epoch: h.epoch, seq: u.seq, time: u.time };
    this.cached = undefined;
    return "applied";
  }

  /** The current snapshot (a new object after every change; treat it as immutable), or undefined. */
  snapshot(): Snapshot | undefined {
    const h = this.header;
    if (h === undefined) return undefined;
    if (this.cached === undefined) {
      const klines: Kline[] = [];
      for (const m of this.pairs.values()) for (const k of m.values()) klines.push(k);
      klines.sort(compareKlines);
      this.cached = create(SnapshotSchema, {
        aggregator: h.aggregator,
        seq: h.seq,
        time: h.time,
        gatewayEpoch: h.epoch,
        klines,
      });
    }
    return this.cached;
  }

  private put(k: Kline): string {
    const p = pairKey(k);
    let m = this.pairs.get(p);
    if (m === undefined) {
      m = new Map();
      this.pairs.set(p, m);
    }
    m.set(k.openTime, k);
    return p;
  }

  private trim(p: string): void {
    const m = this.pairs.get(p);
    if (m === undefined || m.size <= this.perPairLimit) return;
    const times = [...m.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const t of times.slice(0, times.length - this.perPairLimit)) m.delete(t);
  }
}
