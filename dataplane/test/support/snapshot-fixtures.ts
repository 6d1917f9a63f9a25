/**
 * Test helpers for snapshot consumers: a tiny stand-in for the gateway's
 * publishing side that builds consistent `Snapshot`/`SnapshotUpdate` pairs.
 */
import { create } from "@bufbuild/protobuf";
import { KlineSchema, type Kline } from "../../src/gen/klagg/v1/kline_pb.js";
import {
  SnapshotSchema,
  SnapshotUpdateSchema,
  type Snapshot,
  type SnapshotUpdate,
} from "../../src/gen/klagg/v1/snapshot_pb.js";

/** A 1m-style kline with a given close price; other fields are plausible constants. */
export function kline(
  symbol: string,
  interval: string,
  openTime: number,
  close: string,
  opts: { closed?: boolean; version?: number; volume?: string; durationMs?: number } = {},
): Kline {
  const dur = opts.durationMs ?? 60_000;
  return create(KlineSchema, {
    symbol,
    interval,
    openTime: BigInt(openTime),
    closeTime: BigInt(openTime + dur - 1),
    open: close,
    high: close,
    low: close,
    close,
    volume: opts.volume ?? "1.000",
    quoteVolume: "100.000",
    trades: 1n,
    takerBuyVolume: "0.500",
    takerBuyQuoteVolume: "50.000",
    firstTradeId: 1n,
    lastTradeId: 1n,
    closed: opts.closed ?? false,
    version: BigInt(opts.version ?? 1),
  });
}

/** Mimics the gateway: keeps the newest kline per (symbol, interval) and numbers ticks. */
export class FakePublisher {
  seq = 0n;
  private readonly state = new Map<string, Kline>();

  constructor(
    readonly aggregator = "test",
    readonly epoch = 1n,
  ) {}

  /** Applies one tick's changes; returns the snapshot and update the gateway would publish. */
  tick(changes: Kline[], time = 1_700_000_000_000): { snapshot: Snapshot; update: SnapshotUpdate } {
    this.seq++;
    for (const k of changes) {
      const key = `${k.symbol}/${k.interval}`;
      const prev = this.state.get(key);
      if (prev === undefined || prev.openTime <= k.openTime) this.state.set(key, k);
    }
    const common = {
      aggregator: this.aggregator,
      seq: this.seq,
      time: BigInt(time),
      gatewayEpoch: this.epoch,
    };
    return {
      snapshot: create(SnapshotSchema, { ...common, klines: [...this.state.values()] }),
      update: create(SnapshotUpdateSchema, { ...common, klines: changes }),
    };
  }
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` every 5 ms until true, failing after `timeoutMs`. */
export async function eventually(cond: () => boolean, timeoutMs = 2000, what = "condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}
