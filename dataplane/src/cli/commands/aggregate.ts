/**
 * `klagg aggregate`: offline aggregation of trade files (ws-captures, JSON
 * lines, Binance trades/aggTrades dumps; format detected from content) into
 * Binance's 12-column kline dump format, one `DIR/<SYMBOL>-<interval>.csv`
 * per symbol and interval, no header, one row per kline in open-time order.
 * Every symbol found in the input is aggregated (one engine per symbol,
 * created on its first trade). A summary goes to stderr.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import type { KlineEngine } from "../../core/engine-api.js";
import { createEngine } from "../../core/engine.js";
import { formatKlineCsvRow } from "../../core/kline-csv.js";
import type { Interval, KlineRecord, RejectReason } from "../../core/types.js";
import { ConfigError, ConfigReader } from "../../config/parse.js";
import { MARKETS, parseIntervalList, parseUtcOffset, type Market } from "../../config/worker.js";
import { createLogger } from "../../obs/log.js";
import { symbolFromFileName } from "../../sources/detect.js";
import { openMaybeGzip } from "../../sources/file-lines.js";
import { replayFiles } from "../../sources/replay.js";
import { ArgsError, formatUsage, parseArgs, type FlagSpecs } from "../args.js";

const FLAGS: FlagSpecs = {
  input: { type: "string", multiple: true, valueName: "FILE", description: "Trade file (plain or gzip)." },
  intervals: { type: "string", valueName: "LIST", description: "Kline intervals (default: all 16)." },
  "out-dir": { type: "string", valueName: "DIR", description: "Output directory (created if missing)." },
  market: { type: "string", valueName: "MARKET", description: "spot | usdm | coinm (default: guessed)." },
  symbol: { type: "string", valueName: "SYMBOL", description: "Symbol of dump CSVs whose name lacks it." },
  grace: { type: "string", valueName: "DUR", description: "Late-trade grace period (default 2s)." },
  "empty-klines": {
    type: "string",
    valueName: "BOOL",
    description: "Emit klines without trades (default true).",
  },
  timezone: {
    type: "string",
    valueName: "OFFSET",
    description: "UTC offset for 1d+ klines (default +00:00).",
  },
};

const USAGE = formatUsage(
  "klagg aggregate --input FILE [--input FILE ...] --out-dir DIR [options]",
  "Aggregates trade files into Binance kline dump CSVs: DIR/<SYMBOL>-<interval>.csv.\n" +
    "Files are read in the given order; their format is detected from their content.",
  FLAGS,
);

/** What one aggregation did. */
export interface AggregateSummary {
  readonly market: Market;
  readonly trades: number;
  readonly rejected: Readonly<Partial<Record<RejectReason, number>>>;
  readonly skipped: number;
  readonly files: readonly string[];
  readonly klines: number;
}

export async function run(argv: string[]): Promise<number> {
  try {
    const args = parseArgs(argv, FLAGS);
    if (args.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (args.positionals.length > 0) throw new ArgsError(`unexpected argument "${args.positionals[0]}"`);
    const inputs = args.getAll("input");
    if (inputs.length === 0) throw new ArgsError("--input is required");
    const outDir = args.get("out-dir");
    if (outDir === undefined) throw new ArgsError("--out-dir is required");
    const flags = Object.fromEntries(
      ["intervals", "grace", "empty-klines", "timezone", "market"].map((f) => [`--${f}`, args.get(f)]),
    );
    const r = new ConfigReader(flags);
    const intervals = parseIntervalList(flags, "--intervals");
    const market =
      r.raw("--market") === undefined ? await guessMarket(inputs) : r.oneOf("--market", MARKETS, undefined);
    const summary = await aggregateFiles({
      inputs,
      outDir,
      intervals,
      market,
      symbol: args.get("symbol"),
      graceMs: r.durationMs("--grace", 2000),
      emptyKlines: r.bool("--empty-klines", true),
      utcOffsetMinutes: parseUtcOffset({ "--timezone": args.get("timezone") }, "--timezone"),
    });
    process.stderr.write(formatSummary(summary, outDir));
    return 0;
  } catch (err) {
    if (err instanceof ArgsError || err instanceof ConfigError) {
      process.stderr.write(`klagg aggregate: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    process.stderr.write(`klagg aggregate: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

/** Settings of one offline aggregation. */
export interface AggregateOptions {
  readonly inputs: readonly string[];
  readonly outDir: string;
  readonly intervals: readonly Interval[];
  readonly market: Market;
  readonly symbol?: string;
  readonly graceMs: number;
  readonly emptyKlines: boolean;
  readonly utcOffsetMinutes: number;
}

/** Aggregates `inputs` and writes the CSVs; throws on unreadable or unrecognised files. */
export async function aggregateFiles(o: AggregateOptions): Promise<AggregateSummary> {
  const engines = new Map<string, KlineEngine>();
  const sourceRejects: Partial<Record<RejectReason, number>> = {};
  const stats = await replayFiles(
    o.inputs,
    {
      onTrade: (t) => {
        let e = engines.get(t.symbol);
        if (e === undefined) {
          e = createEngine({
            symbols: [t.symbol],
            intervals: o.intervals,
            epoch: 1,
            emptyKlines: o.emptyKlines,
            graceMs: o.graceMs,
            utcOffsetMinutes: o.utcOffsetMinutes,
          });
          engines.set(t.symbol, e);
        }
        e.ingest(t);
      },
      onReject: (reason) => {
        sourceRejects[reason] = (sourceRejects[reason] ?? 0) + 1;
      },
    },
    // Rejections are summarised at the end; per-line warnings would only repeat them.
    { symbol: o.symbol, log: createLogger("aggregate", { level: "error" }) },
  );
  await mkdir(o.outDir, { recursive: true });
  const rejected = { ...sourceRejects };
  let klines = 0;
  let trades = 0;
  for (const [symbol, engine] of [...engines].sort(([a], [b]) => (a < b ? -1 : 1))) {
    engine.closeAll();
    const s = engine.stats();
    trades += s.tradesIn;
    for (const [reason, n] of Object.entries(s.rejected) as Array<[RejectReason, number]>) {
      rejected[reason] = (rejected[reason] ?? 0) + n;
    }
    // An unknown epoch returns the full state: after closeAll, every kline, all closed.
    const byInterval = new Map<Interval, KlineRecord[]>();
    for (const k of engine.pull(0, 0).klines) {
      let list = byInterval.get(k.interval);
      if (list === undefined) byInterval.set(k.interval, (list = []));
      list.push(k);
    }
    for (const interval of o.intervals) {
      const list = (byInterval.get(interval) ?? []).sort((a, b) => a.openTime - b.openTime);
      if (list.length === 0) continue;
      const text = list.map((k) => formatKlineCsvRow(k, o.market)).join("\n") + "\n";
      await writeFile(join(o.outDir, `${symbol}-${interval}.csv`), text);
      klines += list.length;
    }
  }
  return { market: o.market, trades, rejected, skipped: stats.skipped, files: o.inputs, klines };
}

function formatSummary(s: AggregateSummary, outDir: string): string {
  const rejected = Object.entries(s.rejected).filter(([, n]) => (n ?? 0) > 0);
  const total = rejected.reduce((a, [, n]) => a + (n ?? 0), 0);
  const lines = [
    `klagg aggregate: ${s.files.length} file(s), market ${s.market}`,
    `  trades:   ${s.trades} aggregated${s.skipped > 0 ? `, ${s.skipped} skipped (not counted for klines)` : ""}`,
    `  rejected: ${total}${rejected.length > 0 ? ` (${rejected.map(([r, n]) => `${r}=${n}`).join(", ")})` : ""}`,
    `  klines:   ${s.klines} written to ${outDir}`,
  ];
  return lines.join("\n") + "\n";
}

/** The market of each file from its name, else from its content; all files must agree. */
export async function guessMarket(files: readonly string[]): Promise<Market> {
  const guesses = new Set<Market>();
  for (const f of files) guesses.add(marketFromName(f) ?? marketFromContent(f, await peek(f)));
  if (guesses.size > 1) {
    throw new ArgsError(
      `the input files look like different markets (${[...guesses].join(", ")}); pass --market`,
    );
  }
  return [...guesses][0] ?? "spot";
}

/** Market from a file name: `usdm-...`, `um-...`, `...-futures-um-...`, `coinm`/`cm`, `spot`. */
export function marketFromName(path: string): Market | undefined {
  const tokens = basename(path)
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  if (tokens.some((t) => t === "usdm" || t === "um")) return "usdm";
  if (tokens.some((t) => t === "coinm" || t === "cm")) return "coinm";
  if (tokens.includes("spot")) return "spot";
  return undefined;
}

/**
 * Market from the first bytes of a file: futures trade messages carry an
 * order type `"X"` (spot ones do not); COIN-M symbols end in `_PERP` or a
 * delivery date; futures dump CSVs have a header row, spot dumps none.
 */
export function marketFromContent(path: string, head: string): Market {
  const coin =
    /"s":"[A-Z0-9]+_(PERP|\d{6})"/.test(head) || /_(PERP|\d{6})$/.test(symbolFromFileName(path) ?? "");
  if (coin) return "coinm";
  const csvHeader = /^[a-z_]+,/i.test(head.trimStart());
  return head.includes('"X":"') || csvHeader ? "usdm" : "spot";
}

/** The first bytes of a (possibly gzipped) file as text. */
async function peek(path: string, bytes = 64 * 1024): Promise<string> {
  const stream = await openMaybeGzip(path);
  const parts: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of stream) {
      parts.push(chunk as Buffer);
      n += (chunk as Buffer).length;
      if (n >= bytes) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(parts).subarray(0, bytes).toString("utf8");
}
