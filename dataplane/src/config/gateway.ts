/**
 * Configuration of `klagg gateway` (and of the gateway `klagg local` embeds).
 * Keys are environment variables; `klagg gateway` flags set the same keys. The
 * operator renders these keys and validates them with this parser. Common keys
 * (log level, OTEL endpoint, metrics port) are parsed by `config/common.ts` and
 * embedded as `common`.
 */
import { INTERVALS, type Interval } from "../core/types.js";
import { parseCommonConfig, type CommonConfig } from "./common.js";
import { HOST_PORT, parseKafkaConnection, parseRedisPassword, type KafkaSasl } from "./connections.js";
import { ConfigError, ConfigReader, freeze, type ConfigSource } from "./parse.js";

/** One worker the gateway pulls. */
export interface WorkerEndpoint {
  /** Name used in logs, metrics and alerts (defaults to the address). */
  readonly name: string;
  /** host:port of the worker's gRPC server. */
  readonly address: string;
}

/** The gateway's validated configuration. */
export interface GatewayConfig {
  /** The aggregator's name: Redis keys are `klagg:<name>:...`; `local` for `klagg local`. */
  readonly name: string;
  readonly workers: readonly WorkerEndpoint[];
  readonly tickMs: number;
  /** Strict deadline of one pull; always below the tick. */
  readonly pullDeadlineMs: number;
  /** Consecutive failed pulls of one worker that raise the degraded alert. */
  readonly timeoutAlertThreshold: number;
  /** The global state layout: symbols (upper case, unique) x intervals. */
  readonly symbols: readonly string[];
  readonly intervals: readonly Interval[];
  readonly redisUrl: string | undefined;
  /** From a Secret in Kubernetes (KLAGG_REDIS_PASSWORD); never part of the URL there. */
  readonly redisPassword: string | undefined;
  readonly kafkaBrokers: readonly string[];
  readonly kafkaSasl: KafkaSasl | undefined;
  readonly kafkaTopic: string;
  /** Most klines waiting in the Kafka hand-off queue (open ones are dropped first beyond it). */
  readonly kafkaQueueLimit: number;
  /** How long a graceful stop may spend flushing the Kafka queue. */
  readonly shutdownFlushMs: number;
  readonly common: CommonConfig;
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const SYMBOL = /^[A-Z0-9][A-Z0-9_.-]{0,31}$/;

function parseWorkers(src: ConfigSource, r: ConfigReader): WorkerEndpoint[] {
  const items = r.list("KLAGG_WORKERS", undefined);
  if (items.length === 0)
    throw new ConfigError("KLAGG_WORKERS", src.KLAGG_WORKERS, "needs at least one worker");
  const seen = new Set<string>();
  return items.map((item) => {
    const eq = item.indexOf("=");
    const name = eq < 0 ? item : item.slice(0, eq).trim();
    const address = eq < 0 ? item : item.slice(eq + 1).trim();
    if (!HOST_PORT.test(address)) {
      throw new ConfigError(
        "KLAGG_WORKERS",
        src.KLAGG_WORKERS,
        `"${item}" is not host:port or name=host:port`,
      );
    }
    if (name === "" || seen.has(name)) {
      throw new ConfigError("KLAGG_WORKERS", src.KLAGG_WORKERS, `worker name "${name}" is empty or repeated`);
    }
    seen.add(name);
    return { name, address };
  });
}

function parseSymbols(src: ConfigSource, r: ConfigReader): string[] {
  const symbols = r.list("KLAGG_SYMBOLS", undefined).map((s) => s.toUpperCase());
  if (symbols.length === 0)
    throw new ConfigError("KLAGG_SYMBOLS", src.KLAGG_SYMBOLS, "needs at least one symbol");
  const seen = new Set<string>();
  for (const s of symbols) {
    if (!SYMBOL.test(s)) throw new ConfigError("KLAGG_SYMBOLS", src.KLAGG_SYMBOLS, `"${s}" is not a symbol`);
    if (seen.has(s)) throw new ConfigError("KLAGG_SYMBOLS", src.KLAGG_SYMBOLS, `"${s}" is repeated`);
    seen.add(s);
  }
  return symbols;
}

function parseIntervals(src: ConfigSource, r: ConfigReader): Interval[] {
  const items = r.list("KLAGG_INTERVALS", INTERVALS);
  const known: readonly string[] = INTERVALS;
  const out = new Set<Interval>();
  for (const i of items) {
    if (!known.includes(i)) {
      throw new ConfigError(
        "KLAGG_INTERVALS",
        src.KLAGG_INTERVALS,
        `"${i}" is not one of ${INTERVALS.join(" ")}`,
      );
    }
    out.add(i as Interval);
  }
  if (out.size === 0)
    throw new ConfigError("KLAGG_INTERVALS", src.KLAGG_INTERVALS, "needs at least one interval");
  // Canonical order (shortest first) so the layout never depends on how the list was written.
  return INTERVALS.filter((i) => out.has(i));
}

/** Parses and validates the gateway configuration (common keys included). */
export function parseGatewayConfig(src: ConfigSource): Readonly<GatewayConfig> {
  const r = new ConfigReader(src);
  const common = parseCommonConfig(src);
  const name = r.string("KLAGG_NAME", "local");
  if (!NAME.test(name)) throw new ConfigError("KLAGG_NAME", name, "must be a DNS label (a-z, 0-9, -)");
  const tickMs = r.durationMs("KLAGG_TICK", 100, 10);
  const pullDeadlineMs = r.durationMs("KLAGG_PULL_DEADLINE", Math.floor(tickMs / 2), 1);
  if (pullDeadlineMs >= tickMs) {
    throw new ConfigError(
      "KLAGG_PULL_DEADLINE",
      src.KLAGG_PULL_DEADLINE,
      `must be shorter than KLAGG_TICK (${tickMs}ms)`,
    );
  }
  const redisUrl = r.optionalString("KLAGG_REDIS_URL");
  if (redisUrl !== undefined && !/^rediss?:\/\/\S+$/.test(redisUrl)) {
    throw new ConfigError("KLAGG_REDIS_URL", redisUrl, "must be a redis:// or rediss:// URL");
  }
  const kafka = parseKafkaConnection(src, r, false);
  const kafkaTopic = r.string("KLAGG_KAFKA_TOPIC", "klagg.klines");
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(kafkaTopic)) {
    throw new ConfigError("KLAGG_KAFKA_TOPIC", kafkaTopic, "must be a Kafka topic name");
  }
  return freeze({
    name,
    workers: parseWorkers(src, r),
    tickMs,
    pullDeadlineMs,
    timeoutAlertThreshold: r.int("KLAGG_TIMEOUT_ALERT_THRESHOLD", 5, 1, 1_000_000),
    symbols: parseSymbols(src, r),
    intervals: parseIntervals(src, r),
    redisUrl,
    redisPassword: parseRedisPassword(r, redisUrl),
    kafkaBrokers: kafka.brokers,
    kafkaSasl: kafka.sasl,
    kafkaTopic,
    kafkaQueueLimit: r.int("KLAGG_KAFKA_QUEUE_LIMIT", 500_000, 1, 100_000_000),
    shutdownFlushMs: r.durationMs("KLAGG_SHUTDOWN_FLUSH", 5000, 0),
    common,
  });
}
