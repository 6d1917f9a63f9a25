/**
 * Binance WebSocket trade source, spot and USD-M futures.
 *
 * Subscribes through combined-stream URLs
 * (`<base>/stream?streams=btcusdt@trade/ethusdt@trade`), splitting many
 * symbols across connections (Binance allows 1024 streams per connection; we
 * stay well below, 200 by default), with liveness pings, reconnects with
 * backoff and jitter, make-before-break rotation before the 24 h connection
 * limit (`ws-stream-group.ts`), and per-symbol gap detection and de-duplication
 * on the trade id (`@trade`) or aggregate id (`@aggTrade`).
 */
import type { RejectReason } from "../core/types.js";
import { createLogger, type Logger } from "../obs/log.js";
import { parseBinanceMessage } from "./binance-message.js";
import { MAX_LINE_BYTES } from "./line-splitter.js";
import { Rejecter } from "./reject.js";
import { SeqTracker, type GapEvent } from "./seq-tracker.js";
import type { TradeSink, TradeSource } from "./trade-source.js";
import { liveTimeBounds, SYMBOL_RE } from "./validate.js";
import { StreamGroup, type GroupCounters, type GroupPolicy } from "./ws-stream-group.js";

/** Which Binance market. */
export type BinanceMarket = "spot" | "usdm";

/** Default WebSocket base URLs. */
export const BINANCE_WS_BASE: Readonly<Record<BinanceMarket, string>> = {
  spot: "wss://stream.binance.com:9443",
  usdm: "wss://fstream.binance.com",
};

/** Binance's hard limit of streams per connection. */
export const BINANCE_MAX_STREAMS = 1024;

/** Settings of the WebSocket source; everything but `symbols` has a default. */
export interface BinanceWsOptions {
  readonly symbols: readonly string[];
  readonly market?: BinanceMarket;
  /** Overrides the market's default base URL (tests point it at a local server). */
  readonly baseUrl?: string;
  /** `trade` (every trade) or `aggTrade` (trades aggregated by price and taker side). Default trade. */
  readonly stream?: "trade" | "aggTrade";
  readonly maxStreamsPerConnection?: number;
  readonly livenessTimeoutMs?: number;
  readonly pingIntervalMs?: number;
  readonly handshakeTimeoutMs?: number;
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
  /** Default 23 h: Binance closes connections after 24 h. */
  readonly maxConnectionAgeMs?: number;
  readonly overlapMs?: number;
  /** Delay between opening successive connections (Binance limits new connections per IP). */
  readonly connectStaggerMs?: number;
  readonly maxMessageBytes?: number;
  /** Called for every gap in a symbol's ids (also counted and logged). */
  readonly onGap?: (gap: GapEvent) => void;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly log?: Logger;
  readonly name?: string;
}

/** Counters of the WebSocket source. */
export interface BinanceWsStats extends GroupCounters {
  connections: number;
  messages: number;
  trades: number;
  /** Valid non-MARKET futures trades, not aggregated (see binance-message.ts). */
  skipped: number;
  /** Non-trade messages (depth, bookTicker, replies). */
  ignored: number;
  /** Trades received twice (overlap during rotation, replays after reconnect), dropped. */
  duplicates: number;
  gaps: number;
  missingIds: number;
  rejected: Partial<Record<RejectReason, number>>;
}

/** Splits symbols into per-connection stream lists of at most `max` streams. */
export function planStreams(symbols: readonly string[], stream: string, max: number): string[][] {
  const names = symbols.map((s) => `${s.toLowerCase()}@${stream}`);
  const out: string[][] = [];
  for (let i = 0; i < names.length; i += max) out.push(names.slice(i, i + max));
  return out;
}

/** The combined-stream URL of a list of streams. */
export function streamUrl(base: string, streams: readonly string[]): string {
  return `${base.replace(/\/+$/, "")}/stream?streams=${streams.join("/")}`;
}

/** A TradeSource over Binance WebSocket trade streams. */
export class BinanceWsSource implements TradeSource {
  readonly name: string;
  private readonly symbols: ReadonlySet<string>;
  private readonly groups: StreamGroup[];
  private readonly tracker = new SeqTracker();
  private readonly log: Logger;
  private readonly rejecter: Rejecter;
  private readonly now: () => number;
  private readonly counters = {
    connectionsOpened: 0,
    reconnects: 0,
    rotations: 0,
    livenessTimeouts: 0,
    messages: 0,
    trades: 0,
    skipped: 0,
    ignored: 0,
    duplicates: 0,
    gaps: 0,
    missingIds: 0,
  };
  private sink: TradeSink | undefined;
  private connSeq = 0;

  constructor(private readonly opts: BinanceWsOptions) {
    const market = opts.market ?? "spot";
    this.name = opts.name ?? `binance-${market}`;
    const symbols = opts.symbols.map((s) => s.toUpperCase());
    for (const s of symbols) if (!SYMBOL_RE.test(s)) throw new Error(`invalid symbol ${JSON.stringify(s)}`);
    if (symbols.length === 0) throw new Error("binance websocket source needs at least one symbol");
    this.symbols = new Set(symbols);
    const max = opts.maxStreamsPerConnection ?? 200;
    if (!(max >= 1 && max <= BINANCE_MAX_STREAMS))
      throw new Error(`maxStreamsPerConnection must be 1..${BINANCE_MAX_STREAMS}`);
    this.now = opts.now ?? Date.now;
    this.log = (opts.log ?? createLogger("sources")).child({ source: this.name });
    this.rejecter = new Rejecter(this.log, this.name);
    const policy: GroupPolicy = {
      livenessTimeoutMs: opts.livenessTimeoutMs ?? 30_000,
      pingIntervalMs: opts.pingIntervalMs ?? 10_000,
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 10_000,
      maxPayloadBytes: opts.maxMessageBytes ?? 1024 * 1024,
      backoffInitialMs: opts.backoffInitialMs ?? 500,
      backoffMaxMs: opts.backoffMaxMs ?? 30_000,
      maxConnectionAgeMs: opts.maxConnectionAgeMs ?? 23 * 3_600_000,
      overlapMs: opts.overlapMs ?? 5_000,
      maxOverlapBuffer: 100_000,
    };
    const base = opts.baseUrl ?? BINANCE_WS_BASE[market];
    const ctx = {
      policy,
      log: this.log,
      random: opts.random ?? Math.random,
      deliver: (text: string) => this.deliver(text),
      nextConnectionId: () => ++this.connSeq,
      counters: this.counters,
    };
    this.groups = planStreams([...this.symbols], opts.stream ?? "trade", max).map(
      (streams) => new StreamGroup(streamUrl(base, streams), streams.length, ctx),
    );
  }

  /** The combined-stream URLs this source connects to, one per connection. */
  urls(): string[] {
    return this.groups.map((g) => g.url);
  }

  stats(): BinanceWsStats {
    return { ...this.counters, connections: this.groups.length, rejected: this.rejecter.stats() };
  }

  /** Connects and delivers until `signal` aborts; then closes every connection and resolves. */
  async run(sink: TradeSink, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    this.sink = sink;
    const stagger = this.opts.connectStaggerMs ?? 200;
    const timers = this.groups.map((g, i) => setTimeout(() => g.start(), i * stagger));
    await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    for (const t of timers) clearTimeout(t);
    await Promise.all(this.groups.map((g) => g.stop()));
    this.log.info("websocket source stopped", { ...this.counters });
  }

  private deliver(text: string): void {
    const sink = this.sink;
    if (!sink) return;
    this.counters.messages++;
    if (text.length > MAX_LINE_BYTES) {
      this.rejecter.reject(sink, "line_too_long", `message of ${text.length} chars`);
      return;
    }
    const r = parseBinanceMessage(text, liveTimeBounds(this.now()));
    if (r.kind === "ignore") {
      this.counters.ignored++;
      return;
    }
    if (r.kind === "reject") {
      this.rejecter.reject(sink, r.reason, r.detail);
      return;
    }
    const symbol = r.kind === "trade" ? r.trade.symbol : r.symbol;
    if (!this.symbols.has(symbol)) {
      this.rejecter.reject(sink, "unknown_symbol", symbol);
      return;
    }
    const verdict = this.tracker.observe(symbol, r.seq);
    if (verdict === "duplicate") {
      this.counters.duplicates++;
      return;
    }
    if (verdict !== "next") this.gap(verdict);
    if (r.kind === "skip") {
      this.counters.skipped++;
      return;
    }
    this.counters.trades++;
    sink.onTrade(r.trade);
  }

  private gap(g: GapEvent): void {
    this.counters.gaps++;
    this.counters.missingIds += g.missing;
    this.log.warn("trade id gap", {
      symbol: g.symbol,
      after: g.afterSeq,
      before: g.beforeSeq,
      missing: g.missing,
    });
    this.opts.onGap?.(g);
  }
}
