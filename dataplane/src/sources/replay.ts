/**
 * Replays trade files: ws-captures, JSON lines, Binance trades/aggTrades dump
 * CSVs (format detected per file from its content, gzip from its magic bytes).
 * Files are read in the given order (e.g. spot 0808 then 0809), streaming, at
 * `speed` times trade-time pace or as fast as possible (speed 0).
 */
import type { RejectReason } from "../core/types.js";
import { createLogger, type Logger } from "../obs/log.js";
import { lineParser, type LineParser } from "./capture.js";
import { detectFormat, detectLine, needsSymbol, symbolFromFileName, type FileFormat } from "./detect.js";
import { fileLines } from "./file-lines.js";
import { isTooLong, MAX_LINE_BYTES, type SplitLine } from "./line-splitter.js";
import { Rejecter } from "./reject.js";
import type { TradeSink, TradeSource } from "./trade-source.js";
import { REPLAY_TIME_BOUNDS, type TimeBounds } from "./validate.js";
import { abortableSleep } from "../async/sleep.js";

/** Settings of a replay. */
export interface ReplayOptions {
  /** Files replayed in this order. */
  readonly files: readonly string[];
  /** Multiple of trade-time pace (1 = real time, 10 = ten times faster); 0 = as fast as possible (default). */
  readonly speed?: number;
  /** Only these symbols are delivered; others are skipped silently (a worker's shard). */
  readonly symbols?: Iterable<string>;
  /** When given, trades of other symbols (after the filter) are rejected as unknown_symbol. */
  readonly knownSymbols?: Iterable<string>;
  /** Symbol of dump CSVs whose file name does not carry it. */
  readonly symbol?: string;
  /** Accepted trade times; default 2017-01-01 .. 2100-01-01 (a replay has no "now"). */
  readonly bounds?: TimeBounds;
  readonly maxLineBytes?: number;
  readonly log?: Logger;
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly name?: string;
}

/** Counters of a replay. */
export interface ReplayStats {
  files: number;
  lines: number;
  trades: number;
  /** Valid trades that do not count for klines (USD-M non-MARKET). */
  skipped: number;
  /** Trades of symbols outside the `symbols` filter. */
  filtered: number;
  /** Non-trade messages (depth, bookTicker, ...), headers and blank lines. */
  ignored: number;
  rejected: Partial<Record<RejectReason, number>>;
}

/** A TradeSource over files. */
export class ReplaySource implements TradeSource {
  readonly name: string;
  private readonly speed: number;
  private readonly filter: Set<string> | undefined;
  private readonly known: Set<string> | undefined;
  private readonly bounds: TimeBounds;
  private readonly log: Logger;
  private readonly rejecter: Rejecter;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly counts = { files: 0, lines: 0, trades: 0, skipped: 0, filtered: 0, ignored: 0 };
  /** Pace anchor: (first trade time, wall time then). */
  private anchor: { t: number; w: number } | undefined;

  constructor(private readonly opts: ReplayOptions) {
    this.name = opts.name ?? "replay";
    this.speed = opts.speed ?? 0;
    if (!(this.speed >= 0 && Number.isFinite(this.speed)))
      throw new Error(`replay speed must be >= 0, got ${this.speed}`);
    this.filter = opts.symbols ? new Set(opts.symbols) : undefined;
    this.known = opts.knownSymbols ? new Set(opts.knownSymbols) : undefined;
    this.bounds = opts.bounds ?? REPLAY_TIME_BOUNDS;
    this.log = (opts.log ?? createLogger("sources")).child({ source: this.name });
    this.rejecter = new Rejecter(this.log, this.name);
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? abortableSleep;
  }

  stats(): ReplayStats {
    return { ...this.counts, rejected: this.rejecter.stats() };
  }

  /** Replays every file in order; resolves at the end or on abort. Missing files and unknown formats throw. */
  async run(sink: TradeSink, signal: AbortSignal): Promise<void> {
    for (const file of this.opts.files) {
      if (signal.aborted) return;
      try {
        await this.replayFile(file, sink, signal);
      } catch (e) {
        if (signal.aborted) return;
        throw e;
      }
    }
  }

  private async replayFile(file: string, sink: TradeSink, signal: AbortSignal): Promise<void> {
    this.counts.files++;
    const head: SplitLine[] = [];
    let parse: LineParser | undefined;
    let format: FileFormat | undefined;
    const lines = fileLines(file, signal, this.opts.maxLineBytes ?? MAX_LINE_BYTES);
    try {
      for await (const batch of lines) {
        if (parse === undefined) {
          // Detect the format from the first lines, holding them back until it is known.
          head.push(...batch);
          format = detectFormat(head.filter((l): l is string => typeof l === "string").slice(0, 64));
          if (format === undefined && head.length < 64) continue;
          if (format === undefined) throw new Error(`${file}: unrecognized trade file format`);
          const p = this.parserFor(file, format);
          if (p === undefined) return; // the whole file is outside the symbol filter
          parse = p;
          const pending = head.splice(0);
          if (needsSymbol(format)) skipHeader(pending);
          await this.handle(pending, parse, sink, signal);
        } else {
          await this.handle(batch, parse, sink, signal);
        }
        if (signal.aborted) return;
      }
      if (parse === undefined && head.length > 0) {
        format = detectFormat(head.filter((l): l is string => typeof l === "string"));
        if (format === undefined) throw new Error(`${file}: unrecognized trade file format`);
        const p = this.parserFor(file, format);
        if (p === undefined) return;
        if (needsSymbol(format)) skipHeader(head);
        await this.handle(head, p, sink, signal);
      }
    } catch (e) {
      if (signal.aborted || !isReadError(e)) throw e;
      // A truncated or corrupt gzip is bad input: count it and go on with the next file.
      this.rejecter.reject(sink, "malformed_line", `${file}: read error: ${(e as Error).message}`);
    } finally {
      await lines.return(undefined);
    }
  }

  private parserFor(file: string, format: FileFormat): LineParser | undefined {
    if (!needsSymbol(format)) return lineParser(format, undefined, this.bounds);
    const symbol = this.opts.symbol ?? symbolFromFileName(file);
    if (symbol === undefined) {
      throw new Error(
        `${file}: a dump CSV needs its symbol in the file name (e.g. BTCUSDT-aggTrades-2024-08-08.csv)`,
      );
    }
    if (this.filter && !this.filter.has(symbol)) return undefined;
    return lineParser(format, symbol, this.bounds);
  }

  private async handle(
    batch: SplitLine[],
    parse: LineParser,
    sink: TradeSink,
    signal: AbortSignal,
  ): Promise<void> {
    for (const line of batch) {
      if (signal.aborted) return;
      this.counts.lines++;
      if (isTooLong(line)) {
        this.rejecter.reject(sink, "line_too_long", `line of ${line.bytes} bytes`);
        continue;
      }
      if (line.length === 0 || line.trim() === "") {
        this.counts.ignored++;
        continue;
      }
      const r = parse(line);
      if (r.kind === "ignore") {
        this.counts.ignored++;
        continue;
      }
      if (r.kind === "reject") {
        this.rejecter.reject(sink, r.reason, r.detail);
        continue;
      }
      const symbol = r.kind === "trade" ? r.trade.symbol : r.symbol;
      if (this.filter && !this.filter.has(symbol)) {
        this.counts.filtered++;
        continue;
      }
      if (this.known && !this.known.has(symbol)) {
        this.rejecter.reject(sink, "unknown_symbol", symbol);
        continue;
      }
      if (r.kind === "skip") {
        this.counts.skipped++;
        continue;
      }
      if (this.speed > 0) {
        await this.pace(r.trade.time, signal);
        if (signal.aborted) return;
      }
      this.counts.trades++;
      sink.onTrade(r.trade);
    }
  }

  private async pace(tradeTime: number, signal: AbortSignal): Promise<void> {
    const w = this.now();
    if (this.anchor === undefined) {
      this.anchor = { t: tradeTime, w };
      return;
    }
    const due = this.anchor.w + (tradeTime - this.anchor.t) / this.speed;
    // Sleep only when at least 1 ms ahead: timers are coarse and a sleep per trade would be slow.
    if (due - w >= 1) await this.sleep(due - w, signal);
  }
}

/** Drops a leading CSV header row (the first non-empty line). */
function skipHeader(lines: SplitLine[]): void {
  const i = lines.findIndex((l) => typeof l !== "string" || l.trim() !== "");
  const first = lines[i];
  if (i >= 0 && typeof first === "string" && detectLine(first)?.header) lines.splice(i, 1);
}

function isReadError(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" && code.startsWith("Z_");
}

/** Reads files fully into a sink as fast as possible (for `klagg aggregate`); resolves with the counters. */
export async function replayFiles(
  files: readonly string[],
  sink: TradeSink,
  opts: Omit<ReplayOptions, "files" | "speed"> = {},
  signal: AbortSignal = new AbortController().signal,
): Promise<ReplayStats> {
  const src = new ReplaySource({ ...opts, files, speed: 0 });
  await src.run(sink, signal);
  return src.stats();
}
