/**
 * Options of `klagg local`, parsed from its flags (the environment supplies
 * defaults for the service URLs only). Validation of the per-process keys is
 * left to the worker, gateway and writer config parsers, which receive them.
 */
import { ArgsError, type FlagSpecs, type ParsedArgs } from "../cli/args.js";
import { INTERVALS, type Interval } from "../core/types.js";
import { syntheticSymbols } from "../sources/synthetic-market.js";

/** The flags of `klagg local`. */
export const LOCAL_FLAGS: FlagSpecs = {
  source: {
    type: "string",
    valueName: "SRC",
    description: "synthetic (default) | binance | replay:FILE[,FILE].",
  },
  symbols: {
    type: "string",
    valueName: "LIST",
    description:
      "Symbols, comma separated (default: 10 synthetic ones; BTCUSDT for a replay; 5 majors live).",
  },
  intervals: { type: "string", valueName: "LIST", description: "Kline intervals (default: all 16)." },
  workers: { type: "string", valueName: "N", description: "Worker processes (default 2)." },
  tick: { type: "string", valueName: "DUR", description: "Gateway tick (default 100ms)." },
  speed: {
    type: "string",
    valueName: "X",
    description: "Replay pace, 1 = real time, 0 = as fast as possible.",
  },
  rate: {
    type: "string",
    valueName: "N",
    description: "Synthetic trades per second per worker (default 200).",
  },
  market: { type: "string", valueName: "M", description: "spot (default) | usdm | coinm." },
  name: {
    type: "string",
    valueName: "N",
    description: 'Aggregator name (Redis keys klagg:<N>:..., default "local").',
  },
  redis: {
    type: "string",
    valueName: "URL",
    description: "Publish snapshots to Redis (default: in-process only).",
  },
  kafka: { type: "string", valueName: "BROKERS", description: "Hand klines to Kafka (host:port,...)." },
  "kafka-topic": { type: "string", valueName: "T", description: 'Kafka topic (default "klagg.klines").' },
  clickhouse: {
    type: "string",
    valueName: "URL",
    description: "Run the writer into ClickHouse (needs --kafka).",
  },
  "exit-when-done": {
    type: "boolean",
    description: "For a replay: exit 0 once the last trade is aggregated and flushed downstream.",
  },
  view: {
    type: "string",
    valueName: "V",
    description: "table (TTY default) | lines (default otherwise) | none.",
  },
  top: { type: "string", valueName: "N", description: "Symbols in the live view (default 10)." },
  "view-interval": {
    type: "string",
    valueName: "I",
    description: "Interval shown in the live view (default 1m).",
  },
  "log-level": { type: "string", valueName: "L", description: "Log level of every process (default warn)." },
};

/** What `klagg local` runs. */
export interface LocalOptions {
  readonly source: string;
  readonly sourceKind: "synthetic" | "binance" | "replay";
  readonly symbols: readonly string[];
  readonly intervals: readonly Interval[];
  readonly workers: number;
  readonly tick: string;
  readonly speed: string | undefined;
  readonly rate: string;
  readonly market: string | undefined;
  readonly name: string;
  readonly redisUrl: string | undefined;
  readonly kafkaBrokers: string | undefined;
  readonly kafkaTopic: string | undefined;
  readonly clickhouseUrl: string | undefined;
  readonly exitWhenDone: boolean;
  readonly view: "table" | "lines" | "none";
  readonly top: number;
  readonly viewInterval: Interval;
  readonly logLevel: string;
}

const LIVE_DEFAULT_SYMBOLS = ["BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT"];

function positiveInt(name: string, v: string | undefined, def: number, max: number): number {
  if (v === undefined) return def;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > max) {
    throw new ArgsError(`--${name} "${v}" must be an integer from 1 to ${max}`);
  }
  return Number(v);
}

function intervalList(v: string | undefined): Interval[] {
  if (v === undefined) return [...INTERVALS];
  const want = new Set(
    v
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== ""),
  );
  for (const w of want) {
    if (!(INTERVALS as readonly string[]).includes(w))
      throw new ArgsError(`--intervals: "${w}" is not an interval`);
  }
  if (want.size === 0) throw new ArgsError("--intervals needs at least one interval");
  return INTERVALS.filter((i) => want.has(i));
}

/** Builds the options from parsed flags; `isTty` picks the default view. */
export function localOptions(args: ParsedArgs, isTty: boolean): LocalOptions {
  if (args.positionals.length > 0) throw new ArgsError(`unexpected argument "${args.positionals[0]}"`);
  const source = args.get("source") ?? "synthetic";
  let sourceKind: LocalOptions["sourceKind"];
  if (source === "synthetic" || source === "binance") sourceKind = source;
  else if (source.startsWith("replay:") && source.length > "replay:".length) sourceKind = "replay";
  else throw new ArgsError(`--source "${source}" must be synthetic, binance or replay:FILE[,FILE]`);
  const symbolsArg = args.get("symbols");
  const symbols =
    symbolsArg !== undefined
      ? symbolsArg
          .split(",")
          .map((s) => s.trim().toUpperCase())
          .filter((s) => s !== "")
      : sourceKind === "synthetic"
        ? syntheticSymbols(10)
        : sourceKind === "replay"
          ? ["BTCUSDT"]
          : LIVE_DEFAULT_SYMBOLS;
  if (symbols.length === 0) throw new ArgsError("--symbols needs at least one symbol");
  if (new Set(symbols).size !== symbols.length) throw new ArgsError("--symbols has a repeated symbol");
  const intervals = intervalList(args.get("intervals"));
  const viewInterval = args.get("view-interval") ?? (intervals.includes("1m") ? "1m" : intervals[0]!);
  if (!(intervals as readonly string[]).includes(viewInterval)) {
    throw new ArgsError(`--view-interval "${viewInterval}" is not among the aggregated intervals`);
  }
  const view = args.get("view") ?? (isTty ? "table" : "lines");
  if (view !== "table" && view !== "lines" && view !== "none") {
    throw new ArgsError(`--view "${view}" must be table, lines or none`);
  }
  const clickhouseUrl = args.get("clickhouse");
  const kafkaBrokers = args.get("kafka");
  if (clickhouseUrl !== undefined && kafkaBrokers === undefined) {
    throw new ArgsError("--clickhouse needs --kafka (the writer consumes the gateway's Kafka topic)");
  }
  const exitWhenDone = args.has("exit-when-done");
  if (exitWhenDone && sourceKind !== "replay") {
    throw new ArgsError("--exit-when-done only makes sense with --source replay:FILE[,FILE]");
  }
  return {
    source,
    sourceKind,
    symbols,
    intervals,
    workers: positiveInt("workers", args.get("workers"), 2, 64),
    tick: args.get("tick") ?? "100ms",
    speed: args.get("speed"),
    rate: args.get("rate") ?? "200",
    market: args.get("market"),
    name: args.get("name") ?? "local",
    redisUrl: args.get("redis"),
    kafkaBrokers,
    kafkaTopic: args.get("kafka-topic"),
    clickhouseUrl,
    exitWhenDone,
    view,
    top: positiveInt("top", args.get("top"), 10, 1000),
    viewInterval: viewInterval as Interval,
    logLevel: args.get("log-level") ?? "warn",
  };
}
