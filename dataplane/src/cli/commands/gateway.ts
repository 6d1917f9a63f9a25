/**
 * `klagg gateway`: pulls every worker each tick, publishes snapshots to Redis
 * and klines to Kafka (see gateway/gateway.ts). Flags set the same keys as the
 * environment (docs/config.md); the environment is read here, once.
 * SIGINT/SIGTERM stop it gracefully: the newest snapshot is published and the
 * Kafka queue flushed, bounded by KLAGG_SHUTDOWN_FLUSH (a second signal exits at once).
 */
import { parseGatewayConfig } from "../../config/gateway.js";
import { ConfigError } from "../../config/parse.js";
import { createGateway } from "../../gateway/create.js";
import { createLogger } from "../../obs/log.js";
import { createRegistry, MetricsServer } from "../../obs/metrics.js";
import { startTracing } from "../../obs/tracing.js";
import { ArgsError, formatUsage, parseArgs, toConfigSource, type FlagSpecs, COMMON_FLAGS } from "../args.js";

/** The flags of `klagg gateway`, each setting one config key. */
export const GATEWAY_FLAGS: FlagSpecs = {
  name: { type: "string", env: "KLAGG_NAME", description: "Aggregator name (Redis keys klagg:<name>:...)." },
  workers: {
    type: "string",
    multiple: true,
    env: "KLAGG_WORKERS",
    valueName: "LIST",
    description: "Worker addresses host:port or name=host:port, comma separated.",
  },
  symbols: {
    type: "string",
    env: "KLAGG_SYMBOLS",
    valueName: "LIST",
    description: "All symbols (state layout).",
  },
  intervals: { type: "string", env: "KLAGG_INTERVALS", valueName: "LIST", description: "Kline intervals." },
  tick: { type: "string", env: "KLAGG_TICK", valueName: "DUR", description: "Tick period (default 100ms)." },
  "pull-deadline": {
    type: "string",
    env: "KLAGG_PULL_DEADLINE",
    valueName: "DUR",
    description: "Deadline of one pull (default tick/2).",
  },
  "timeout-alert-threshold": {
    type: "string",
    env: "KLAGG_TIMEOUT_ALERT_THRESHOLD",
    valueName: "N",
    description: "Consecutive failed pulls that raise the alert (default 5).",
  },
  "redis-url": {
    type: "string",
    env: "KLAGG_REDIS_URL",
    valueName: "URL",
    description: "redis://host:port.",
  },
  "kafka-brokers": {
    type: "string",
    env: "KLAGG_KAFKA_BROKERS",
    valueName: "LIST",
    description: "Kafka bootstrap brokers host:port.",
  },
  "kafka-topic": {
    type: "string",
    env: "KLAGG_KAFKA_TOPIC",
    valueName: "TOPIC",
    description: "Klines topic.",
  },
  "kafka-queue-limit": {
    type: "string",
    env: "KLAGG_KAFKA_QUEUE_LIMIT",
    valueName: "N",
    description: "Klines the Kafka hand-off queue holds.",
  },
  "shutdown-flush": {
    type: "string",
    env: "KLAGG_SHUTDOWN_FLUSH",
    valueName: "DUR",
    description: "Kafka flush bound on shutdown.",
  },
  ...COMMON_FLAGS,
};

const USAGE = formatUsage(
  "klagg gateway [options]",
  "Runs the gateway: pulls every worker each tick under a strict deadline, publishes the snapshot to\n" +
    "Redis and the changed klines to Kafka. Every flag sets the config key shown (see docs/config.md).",
  GATEWAY_FLAGS,
);

export async function run(argv: string[]): Promise<number> {
  let config;
  try {
    const args = parseArgs(argv, GATEWAY_FLAGS);
    if (args.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (args.positionals.length > 0) throw new ArgsError(`unexpected argument "${args.positionals[0]}"`);
    config = parseGatewayConfig(toConfigSource(args, GATEWAY_FLAGS, process.env));
  } catch (err) {
    if (err instanceof ArgsError || err instanceof ConfigError) {
      process.stderr.write(`klagg gateway: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const log = createLogger("gateway", { level: config.common.logLevel });
  const shutdownTracing = startTracing({
    serviceName: "klagg-gateway",
    endpoint: config.common.otlpEndpoint,
    sampleRatio: config.common.traceSampleRatio,
    attributes: { "service.instance.id": config.name },
  });
  const registry = createRegistry("klagg-gateway");
  let stopping = false;
  const metricsServer = new MetricsServer({
    registry,
    host: config.common.metricsHost,
    port: config.common.metricsPort,
    healthy: () => !stopping,
    log,
  });
  const stop = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (++signals > 1) {
      log.warn("second signal: exiting without flushing", { signal: sig });
      process.exit(130);
    }
    log.info("signal received, stopping", { signal: sig });
    stop.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await metricsServer.start();
    const gateway = createGateway(config, { log, registry });
    const stopped = new Promise<void>((resolve) => stop.signal.addEventListener("abort", () => resolve()));
    gateway.start();
    await stopped;
    stopping = true;
    await gateway.stop();
    return 0;
  } catch (err) {
    log.error("gateway failed", { err });
    return 1;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await metricsServer.stop();
    await shutdownTracing().catch((err: unknown) => log.warn("trace flush failed", { err }));
  }
}
