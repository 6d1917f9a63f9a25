/**
 * Configuration of `klagg worker` (and of the workers `klagg local` embeds).
 * Keys are environment variables; `klagg worker` flags set the same keys. The
 * operator renders exactly these keys and validates them with this parser.
 * Every key is documented in docs/config.md.
 */
import type { Market } from "../core/kline-csv.js";
import { INTERVALS, type Interval } from "../core/types.js";
import { symbolsOfShard } from "../core/shard.js";
import type { BinanceMarket } from "../sources/binance-ws.js";
import { SYMBOL_RE } from "../sources/validate.js";
import { parseCommonConfig, type CommonConfig } from "./common.js";
import { ConfigError, ConfigReader, freeze, type ConfigSource } from "./parse.js";

/** Binance markets klagg knows (file formats, CSV output). */
export const MARKETS: readonly Market[] = ["spot", "usdm", "coinm"];
export type { Market };

/** Markets the live WebSocket client supports. */
const LIVE_MARKETS: readonly BinanceMarket[] = ["spot", "usdm"];

/** The worker's trade source (shape of `sources/factory.ts` SourceSpec). */
export type WorkerSourceConfig =
  | {
      readonly kind: "binance";
      readonly market: BinanceMarket;
      readonly stream: "trade" | "aggTrade";
      readonly baseUrl: string | undefined;
    }
  | { readonly kind: "replay"; readonly files: readonly string[]; readonly speed: number }
  | { readonly kind: "synthetic"; readonly seed: number; readonly tradesPerSecond: number };

/** The worker's validated configuration. */
export interface WorkerConfig {
  readonly common: CommonConfig;
  /** KLAGG_WORKER_NAME: reported in every pull answer (the pod name in Kubernetes). */
  readonly workerName: string;
  /** KLAGG_SYMBOLS: every symbol of the aggregator (upper case, unique). */
  readonly allSymbols: readonly string[];
  readonly shardIndex: number;
  readonly shardCount: number;
  /** The symbols of this worker's shard (rendezvous hashing, core/shard.ts). */
  readonly symbols: readonly string[];
  /** KLAGG_INTERVALS in canonical order (shortest first). */
  readonly intervals: readonly Interval[];
  readonly market: Market;
  readonly source: WorkerSourceConfig;
  readonly grpcHost: string;
  readonly grpcPort: number;
  readonly graceMs: number;
  /** KLAGG_DRAIN: how long a stopping worker keeps answering pulls until its klines are acked. */
  readonly drainMs: number;
  readonly emptyKlines: boolean;
  /** KLAGG_TIMEZONE as minutes east of UTC (applied to 1d and longer intervals). */
  readonly utcOffsetMinutes: number;
  /** KLAGG_MAX_RETAINED_CLOSED: most closed klines held until the gateway acks them (176 bytes each). */
  readonly maxRetainedClosed: number;
}

/** Parses KLAGG_SYMBOLS: upper-cased, valid, unique, at least one. */
export function parseSymbolList(src: ConfigSource, key = "KLAGG_SYMBOLS"): string[] {
  const symbols = new ConfigReader(src).list(key, undefined).map((s) => s.toUpperCase());
  if (symbols.length === 0) throw new ConfigError(key, src[key], "needs at least one symbol");
  const seen = new Set<string>();
  for (const s of symbols) {
    if (!SYMBOL_RE.test(s)) throw new ConfigError(key, src[key], `"${s}" is not an exchange symbol`);
    if (seen.has(s)) throw new ConfigError(key, src[key], `"${s}" is repeated`);
    seen.add(s);
  }
  return symbols;
}

/** Parses KLAGG_INTERVALS (default all 16) into canonical order; unknown or repeated names are errors. */
export function parseIntervalList(src: ConfigSource, key = "KLAGG_INTERVALS"): Interval[] {
  const items = new ConfigReader(src).list(key, INTERVALS);
  const known: readonly string[] = INTERVALS;
  const out = new Set<Interval>();
  for (const i of items) {
    if (!known.includes(i))
      throw new ConfigError(key, src[key], `"${i}" is not one of ${INTERVALS.join(" ")}`);
    if (out.has(i as Interval)) throw new ConfigError(key, src[key], `"${i}" is repeated`);
    out.add(i as Interval);
  }
  if (out.size === 0) throw new ConfigError(key, src[key], "needs at least one interval");
  return INTERVALS.filter((i) => out.has(i));
}

/**
 * Parses a Binance-style time zone ("+08:00", "-1:00", "05:45", "8", "0")
 * into minutes east of UTC; Binance accepts -12:00 ..= +14:00.
 */
export function parseUtcOffset(src: ConfigSource, key = "KLAGG_TIMEZONE"): number {
  const v = new ConfigReader(src).string(key, "+00:00");
  const m = /^([+-])?(\d{1,2})(?::(\d{2}))?$/.exec(v);
  if (!m) throw new ConfigError(key, v, 'must be an offset like "+08:00", "-1:00" or "0"');
  const minutes = Number(m[3] ?? "0");
  if (minutes >= 60) throw new ConfigError(key, v, "minutes must be below 60");
  const total = (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + minutes);
  if (total < -12 * 60 || total > 14 * 60) throw new ConfigError(key, v, "must be between -12:00 and +14:00");
  return total;
}

function parseSource(src: ConfigSource, r: ConfigReader, market: Market): WorkerSourceConfig {
  const v = r.string("KLAGG_SOURCE", "binance");
  if (v === "binance") {
    if (!(LIVE_MARKETS as readonly string[]).includes(market)) {
      throw new ConfigError(
        "KLAGG_MARKET",
        market,
        `the live Binance source supports ${LIVE_MARKETS.join(", ")} only (coinm is replay-only)`,
      );
    }
    const baseUrl = r.optionalString("KLAGG_BINANCE_WS_URL");
    if (baseUrl !== undefined && !/^wss?:\/\/\S+$/.test(baseUrl)) {
      throw new ConfigError("KLAGG_BINANCE_WS_URL", baseUrl, "must be a ws:// or wss:// URL");
    }
    return {
      kind: "binance",
      market: market as BinanceMarket,
      stream: r.oneOf("KLAGG_TRADE_STREAM", ["trade", "aggTrade"], "trade"),
      baseUrl,
    };
  }
  if (v === "synthetic") {
    return {
      kind: "synthetic",
      seed: r.int("KLAGG_SYNTHETIC_SEED", 1, 0, 2 ** 32 - 1),
      tradesPerSecond: r.number("KLAGG_SYNTHETIC_RATE", 100, 0.001, 10_000_000),
    };
  }
  if (v.startsWith("replay:")) {
    // Repeated --source flags arrive joined: "replay:a.gz,replay:b.gz" means the same as "replay:a.gz,b.gz".
    const files = v
      .slice("replay:".length)
      .split(",")
      .map((f) => f.trim().replace(/^replay:/, ""))
      .filter((f) => f !== "");
    if (files.length === 0)
      throw new ConfigError("KLAGG_SOURCE", src.KLAGG_SOURCE, "replay needs at least one file");
    return { kind: "replay", files, speed: r.number("KLAGG_REPLAY_SPEED", 1, 0, 1_000_000) };
  }
  throw new ConfigError(
    "KLAGG_SOURCE",
    src.KLAGG_SOURCE,
    'must be "binance", "synthetic" or "replay:FILE[,FILE...]"',
  );
}

/** Parses and validates the worker configuration (common keys included). */
export function parseWorkerConfig(src: ConfigSource): Readonly<WorkerConfig> {
  const r = new ConfigReader(src);
  const common = parseCommonConfig(src);
  const allSymbols = parseSymbolList(src);
  const shardCount = r.int("KLAGG_SHARD_COUNT", 1, 1, 10_000);
  const shardIndex = r.int("KLAGG_SHARD_INDEX", 0, 0, 10_000);
  if (shardIndex >= shardCount) {
    throw new ConfigError(
      "KLAGG_SHARD_INDEX",
      src.KLAGG_SHARD_INDEX,
      `must be below KLAGG_SHARD_COUNT (${shardCount})`,
    );
  }
  const symbols = symbolsOfShard(allSymbols, shardIndex, shardCount);
  if (symbols.length === 0) {
    throw new ConfigError(
      "KLAGG_SHARD_INDEX",
      src.KLAGG_SHARD_INDEX,
      `shard ${shardIndex} of ${shardCount} owns none of the ${allSymbols.length} symbols; use fewer shards`,
    );
  }
  const workerName = r.string("KLAGG_WORKER_NAME", `worker-${shardIndex}`);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/.test(workerName)) {
    throw new ConfigError("KLAGG_WORKER_NAME", workerName, "must be letters, digits, '.', '_' or '-'");
  }
  const market = r.oneOf<Market>("KLAGG_MARKET", MARKETS, "spot");
  return freeze({
    common,
    workerName,
    allSymbols,
    shardIndex,
    shardCount,
    symbols,
    intervals: parseIntervalList(src),
    market,
    source: parseSource(src, r, market),
    grpcHost: r.string("KLAGG_GRPC_HOST", "0.0.0.0"),
    grpcPort: r.int("KLAGG_GRPC_PORT", 50051, 0, 65535),
    graceMs: r.durationMs("KLAGG_GRACE", 2000, 0),
    drainMs: r.durationMs("KLAGG_DRAIN", 5000, 0),
    emptyKlines: r.bool("KLAGG_EMPTY_KLINES", true),
    utcOffsetMinutes: parseUtcOffset(src),
    maxRetainedClosed: r.int("KLAGG_MAX_RETAINED_CLOSED", 2_000_000, 1000, 1_000_000_000),
  });
}
