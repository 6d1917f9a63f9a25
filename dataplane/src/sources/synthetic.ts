/**
 * The synthetic market as a TradeSource, for demos and load tests.
 *
 * Two clocks: real time (trades at `tradesPerSecond`, stamped with the
 * injected `now`, delivered in small batches every `tickMs`), or virtual time
 * (trades stamped `startMs + k * 1000 / tradesPerSecond`, delivered as fast as
 * possible without sleeping, for tests and benchmarks).
 */
import { createLogger, type Logger } from "../obs/log.js";
import { abortableSleep } from "../async/sleep.js";
import { SyntheticMarket, syntheticSymbols } from "./synthetic-market.js";
import type { TradeSink, TradeSource } from "./trade-source.js";

/** Settings of the synthetic source. */
export interface SyntheticOptions {
  readonly seed?: number;
  /** A list of symbols, or how many to generate (default 10). */
  readonly symbols?: readonly string[] | number;
  /** Total trades per second over all symbols (default 100). */
  readonly tradesPerSecond?: number;
  /** Wall clock for real-time mode; default Date.now. */
  readonly now?: () => number;
  /** Virtual time mode: trades carry synthetic increasing times from `startMs`, no sleeping. */
  readonly virtualStartMs?: number;
  /** Ends the run after this many trades (default: never). */
  readonly limit?: number;
  /** Real-time batch period, ms (default 20). */
  readonly tickMs?: number;
  /** Most trades a real-time batch catches up after a stall, in seconds of rate (default 5). */
  readonly maxCatchUpSeconds?: number;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly log?: Logger;
  readonly name?: string;
}

/** Trades per event-loop turn in virtual mode, so an abort is seen promptly. */
const VIRTUAL_BATCH = 4096;

/** A TradeSource over a SyntheticMarket. */
export class SyntheticSource implements TradeSource {
  readonly name: string;
  readonly market: SyntheticMarket;
  readonly symbols: readonly string[];
  private readonly rate: number;
  private readonly limit: number;
  private readonly log: Logger;
  private emitted = 0;
  private dropped = 0;

  constructor(private readonly opts: SyntheticOptions = {}) {
    this.name = opts.name ?? "synthetic";
    const s = opts.symbols ?? 10;
    this.symbols = typeof s === "number" ? syntheticSymbols(s) : [...s];
    this.market = new SyntheticMarket(this.symbols, opts.seed ?? 1);
    this.rate = opts.tradesPerSecond ?? 100;
    if (!(this.rate > 0 && Number.isFinite(this.rate)))
      throw new Error(`tradesPerSecond must be > 0, got ${this.rate}`);
    this.limit = opts.limit ?? Infinity;
    this.log = (opts.log ?? createLogger("sources")).child({ source: this.name });
  }

  /** Trades delivered so far, and trades not generated because of a catch-up cap after a stall. */
  stats(): { trades: number; skippedAfterStall: number } {
    return { trades: this.emitted, skippedAfterStall: this.dropped };
  }

  run(sink: TradeSink, signal: AbortSignal): Promise<void> {
    return this.opts.virtualStartMs !== undefined
      ? this.runVirtual(sink, signal, this.opts.virtualStartMs)
      : this.runRealTime(sink, signal);
  }

  private async runVirtual(sink: TradeSink, signal: AbortSignal, startMs: number): Promise<void> {
    while (!signal.aborted && this.emitted < this.limit) {
      const end = Math.min(this.limit, this.emitted + VIRTUAL_BATCH);
      for (; this.emitted < end;) {
        const t = startMs + Math.floor((this.emitted * 1000) / this.rate);
        this.emitted++;
        sink.onTrade(this.market.next(t));
      }
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  private async runRealTime(sink: TradeSink, signal: AbortSignal): Promise<void> {
    const now = this.opts.now ?? Date.now;
    const sleep = this.opts.sleep ?? abortableSleep;
    const tickMs = this.opts.tickMs ?? 20;
    const maxBatch = Math.max(1, Math.ceil(this.rate * (this.opts.maxCatchUpSeconds ?? 5)));
    const start = now();
    let due = 0; // trades due since start, generated or skipped
    let last = start;
    while (!signal.aborted && this.emitted < this.limit) {
      const t = now();
      const target = Math.floor(((t - start) * this.rate) / 1000);
      let n = target - due;
      if (n > maxBatch) {
        // The event loop stalled: do not flood the sink with a backlog of stale trades.
        this.dropped += n - maxBatch;
        this.log.warn("synthetic market fell behind; skipping trades", { skipped: n - maxBatch });
        n = maxBatch;
      }
      due = target;
      n = Math.min(n, this.limit - this.emitted);
      for (let i = 0; i < n; i++) {
        // Spread the batch's times evenly between the previous tick and now.
        const time = last + Math.floor(((i + 1) * (t - last)) / n);
        this.emitted++;
        sink.onTrade(this.market.next(time));
      }
      last = t;
      if (this.emitted >= this.limit) break;
      await sleep(tickMs, signal);
    }
  }
}
