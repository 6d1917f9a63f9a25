/**
 * The trade source port: what the worker, `klagg aggregate` and the benchmarks
 * consume. Adapters: the Binance WebSocket client (`binance-ws.ts`), file
 * replays (`replay.ts`) and the synthetic market (`synthetic.ts`).
 */
import type { RawTrade, RejectReason } from "../core/types.js";

/** Receives trades and rejections from a source. */
export interface TradeSink {
  onTrade(trade: RawTrade): void;
  onReject(reason: RejectReason, detail: string): void;
}

/** A stream of trades: a live exchange feed, a file replay or the synthetic market. */
export interface TradeSource {
  readonly name: string;
  /** Delivers trades until the source ends (a replay) or `signal` aborts; never rejects for bad input. */
  run(sink: TradeSink, signal: AbortSignal): Promise<void>;
}
