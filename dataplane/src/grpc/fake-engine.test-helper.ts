/**
 * A minimal in-memory engine with the pull semantics of `KlineEngine` (epoch,
 * versions, retention of closed klines until acked), for testing the gRPC
 * layer in isolation from the aggregation code. Test-only.
 */
import type { KlineEngine, PullView } from "../core/engine-api.js";
import type { Interval, KlineRecord } from "../core/types.js";

export class FakeEngine implements Pick<KlineEngine, "epoch" | "version" | "pull"> {
  version: number;
  private readonly open = new Map<string, KlineRecord>();
  private readonly retained = new Map<string, KlineRecord>();
  pulls = 0;

  constructor(readonly epoch: number) {
    this.version = epoch * 1000;
  }

  /** Creates or changes the open kline (symbol, interval, openTime) with a close price. */
  set(symbol: string, interval: Interval, openTime: number, close: string): KlineRecord {
    const key = `${symbol}|${interval}|${openTime}`;
    const rec: KlineRecord = {
      symbol,
      interval,
      openTime,
      closeTime: openTime + 59_999,
      open: "1.00",
      high: close,
      low: "1.00",
      close,
      volume: "2.500",
      quoteVolume: "2.50000",
      trades: 3,
      takerBuyVolume: "1.000",
      takerBuyQuoteVolume: "1.00000",
      firstTradeId: 100,
      lastTradeId: 102,
      closed: false,
      version: ++this.version,
    };
    this.open.set(key, rec);
    return rec;
  }

  /** Closes an open kline (a new version), moving it to the retained set. */
  close(symbol: string, interval: Interval, openTime: number): void {
    const key = `${symbol}|${interval}|${openTime}`;
    const rec = this.open.get(key);
    if (!rec) throw new Error(`no open kline ${key}`);
    this.open.delete(key);
    this.retained.set(key, { ...rec, closed: true, version: ++this.version });
  }

  get retainedClosed(): number {
    return this.retained.size;
  }

  pull(epoch: number, ackVersion: number): PullView {
    this.pulls++;
    const all = [...this.retained.values(), ...this.open.values()];
    if (epoch !== this.epoch) return { epoch: this.epoch, version: this.version, full: true, klines: all };
    for (const [k, r] of this.retained) if (r.version <= ackVersion) this.retained.delete(k);
    return {
      epoch: this.epoch,
      version: this.version,
      full: false,
      klines: all.filter((r) => r.version > ackVersion),
    };
  }
}
