/**
 * `klagg writer`: consumes kline batches from Kafka and writes them to
 * ClickHouse (see writer/writer.ts). Flags set the same keys as the
 * environment; the environment is read here, once. SIGINT/SIGTERM flush,
 * commit and leave the group (a second signal exits at once).
 */
import { parseWriterConfig } from "../../config/writer.js";
import { createWriter } from "../../writer/writer.js";
import { formatUsage, type FlagSpecs, COMMON_FLAGS } from "../args.js";
import { parseServiceConfig, runService, withMetricsServer } from "../service.js";

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
  const config = parseServiceConfig("writer", argv, WRITER_FLAGS, USAGE, parseWriterConfig);
  if (typeof config === "number") return config;
  return runService({ component: "writer", common: config.common }, (ctx) =>
    withMetricsServer(ctx, config.common, async (registry) => {
      // The signal stops the writer (flush, commit, leave the group); `done` also ends on a fatal failure.
      const writer = createWriter(config, { log: ctx.log, registry, signal: ctx.signal });
      await writer.start();
      await Promise.race([ctx.stopped, writer.done]);
      await writer.stop();
      return writer.failure === undefined ? 0 : 1;
    }),
  );
}
