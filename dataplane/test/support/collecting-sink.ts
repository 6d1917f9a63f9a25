/** A TradeSink for tests that keeps everything it receives. */
import type { RawTrade, RejectReason } from "../../src/core/types.js";
import type { TradeSink } from "../../src/sources/trade-source.js";

export class CollectingSink implements TradeSink {
  readonly trades: RawTrade[] = [];
  readonly rejects: { reason: RejectReason; detail: string }[] = [];
  /** Called after each trade, e.g. to abort after N. */
  afterTrade: ((t: RawTrade, n: number) => void) | undefined;

  onTrade(trade: RawTrade): void {
    this.trades.push(trade);
    this.afterTrade?.(trade, this.trades.length);
  }

  onReject(reason: RejectReason, detail: string): void {
    this.rejects.push({ reason, detail });
  }

  reasons(): RejectReason[] {
    return this.rejects.map((r) => r.reason);
  }
}

/** A logger sink that keeps parsed log lines. */
export function captureLog(): { lines: Record<string, unknown>[]; sink: (l: string) => void } {
  const lines: Record<string, unknown>[] = [];
  return { lines, sink: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) };
}
