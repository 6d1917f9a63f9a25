/**
 * `klagg writer`: consumes kline batches from Kafka and writes them to
 * ClickHouse (see writer/writer.ts). Flags set the same keys as the
 * environment; the environment is read here, once. SIGINT/SIGTERM flush,
 * commit and leave the group (a second signal exits at once).
 */
import { ConfigError } from "../../config/parse.js";
import { parseWriterConfig } from "../../config/writer.js";
import { createLogger } from "../../obs/log.js";
import { createRegistry, MetricsServer } from "../../obs/metrics.js";
import { startTracing } from "../../obs/tracing.js";
import { createWriter } from "../../writer/writer.js";
import { ArgsError, formatUsage, parseArgs, toConfigSource, type FlagSpecs, COMMON_FLAGS } from "../args.js";

/** The flags of `klagg writer`, each setting one config key. */
export const WRITER_FLAGS: FlagSpecs = {
  kafka: {
    type: "string",
    env: "KLAGG_KAFKA_BROKERS",
    valueName: "HOST:PORT,...",
    description: "Kafka brokers.",
  },
  topic: { type: "string", env: "KLAGG_KAFKA_TOPIC", valueName: "NAME", description: "Klines topic." },
  "dlq-topic": {
    type: "string",
    env: "KLAGG_WRITER_DLQ_TOPIC",
    valueName: "NAME",
    description: "Dead letters.",
  },
  group: { type: "string", env: "KLAGG_WRITER_GROUP", valueName: "ID", description: "Consumer group id." },
  clickhouse: {
    type: "string",
    env: "KLAGG_CLICKHOUSE_URL",
    valueName: "URL",
    description: "ClickHouse HTTP URL.",
  },
  database: { type: "string", env: "KLAGG_CLICKHOUSE_DATABASE", valueName: "DB", description: "Database." },
  "max-batch-rows": {
    type: "string",
    env: "KLAGG_WRITER_MAX_BATCH_ROWS",
    valueName: "N",
    description: "Flush at this many rows (default 50000).",
  },
  "max-batch-age": {
    type: "string",
    env: "KLAGG_WRITER_MAX_BATCH_AGE",
    valueName: "DUR",
    description: "Flush when the oldest row is this old (default 1s).",
  },
  "max-buffered-rows": {
    type: "string",
    env: "KLAGG_WRITER_MAX_BUFFERED_ROWS",
    valueName: "N",
    description: "Pause consuming at this many waiting rows.",
  },
  ...COMMON_FLAGS,
};

const USAGE = formatUsage(
  "klagg writer [options]",
  "Consumes klagg.v1.KlineBatch messages from Kafka and upserts them into ClickHouse in large batches.\n" +
    "Every flag sets the config key shown (see docs/clickhouse.md); flags win over the environment.",
  WRITER_FLAGS,
);

export async function run(argv: string[]): Promise<number> {
  let config;
  try {
    const args = parseArgs(argv, WRITER_FLAGS);
    if (args.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (args.positionals.length > 0) throw new ArgsError(`unexpected argument "${args.positionals[0]}"`);
    config = parseWriterConfig(toConfigSource(args, WRITER_FLAGS, process.env));
  } catch (err) {
    if (err instanceof ArgsError || err instanceof ConfigError) {
      process.stderr.write(`klagg writer: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const log = createLogger("writer", { level: config.common.logLevel });
  const shutdownTracing = startTracing({
    serviceName: "klagg-writer",
    endpoint: config.common.otlpEndpoint,
    sampleRatio: config.common.traceSampleRatio,
  });
  const registry = createRegistry("klagg-writer");
  let healthy = true;
  const metricsServer = new MetricsServer({
    registry,
    host: config.common.metricsHost,
    port: config.common.metricsPort,
    healthy: () => healthy,
    log,
  });
  const stop = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (++signals > 1) {
      log.warn("second signal: exiting without flushing", { signal: sig });
      process.exit(130);
    }
    log.info("signal received, flushing and stopping", { signal: sig });
    healthy = false;
    stop.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await metricsServer.start();
    const writer = createWriter(config, { log, registry, signal: stop.signal });
    const stopped = new Promise<void>((resolve) => stop.signal.addEventListener("abort", () => resolve()));
    await writer.start();
    await Promise.race([stopped, writer.done]);
    await writer.stop();
    return writer.failure === undefined ? 0 : 1;
  } catch (err) {
    log.error("writer failed", { error: err });
    return 1;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await metricsServer.stop();
    await shutdownTracing().catch((err: unknown) => log.warn("trace flush failed", { error: err }));
  }
}
