/**
 * Configuration of `klagg writer` (and of the writer `klagg local` embeds).
 * Keys are environment variables; `klagg writer` flags set the same keys.
 */
import { parseCommonConfig, type CommonConfig } from "./common.js";
import { parseKafkaConnection, type KafkaSasl } from "./connections.js";
import { ConfigReader, ConfigError, freeze, type ConfigSource } from "./parse.js";

/** The writer's validated configuration. */
export interface WriterConfig {
  /** Logging, tracing and metrics keys shared by every binary. */
  readonly common: CommonConfig;
  /** Kafka bootstrap brokers, host:port. */
  readonly kafkaBrokers: readonly string[];
  /** SASL credentials for Kafka; undefined: none. */
  readonly kafkaSasl: KafkaSasl | undefined;
  /** Topic the gateway produces `KlineBatch` messages to. */
  readonly topic: string;
  /** Partitions used when the writer has to create the topic itself. */
  readonly topicPartitions: number;
  /** Topic that receives messages the writer cannot decode. */
  readonly deadLetterTopic: string;
  /** Consumer group id; every writer replica of one aggregator shares it. */
  readonly groupId: string;
  readonly clientId: string;
  /** ClickHouse HTTP URL, e.g. http://127.0.0.1:18123 */
  readonly clickhouseUrl: string;
  readonly clickhouseDatabase: string;
  readonly clickhouseUser: string | undefined;
  readonly clickhousePassword: string | undefined;
  /** Flush when this many distinct rows are buffered. */
  readonly maxBatchRows: number;
  /** Flush when the oldest buffered row is this old. */
  readonly maxBatchAgeMs: number;
  /** Pause consumption when buffered plus in-flight rows reach this (memory bound). */
  readonly maxBufferedRows: number;
  /** First retry delay of a failed INSERT, doubled per attempt up to the cap. */
  readonly retryBaseMs: number;
  readonly retryCapMs: number;
  /** Timeout of one INSERT request. */
  readonly insertTimeoutMs: number;
  /** On shutdown, how long the final flush may keep retrying before giving up (rows are then replayed). */
  readonly shutdownTimeoutMs: number;
}

/** Parses and validates the writer configuration. */
export function parseWriterConfig(src: ConfigSource): Readonly<WriterConfig> {
  const r = new ConfigReader(src);
  const kafka = parseKafkaConnection(src, r, true);
  const clickhouseUrl = r.string("KLAGG_CLICKHOUSE_URL");
  if (!/^https?:\/\/[^\s]+$/.test(clickhouseUrl)) {
    throw new ConfigError("KLAGG_CLICKHOUSE_URL", clickhouseUrl, "must be an http(s) URL");
  }
  const clickhouseDatabase = r.string("KLAGG_CLICKHOUSE_DATABASE", "klagg");
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(clickhouseDatabase)) {
    throw new ConfigError("KLAGG_CLICKHOUSE_DATABASE", clickhouseDatabase, "must be a plain identifier");
  }
  const maxBatchRows = r.int("KLAGG_WRITER_MAX_BATCH_ROWS", 50_000, 1, 10_000_000);
  const maxBufferedRows = r.int("KLAGG_WRITER_MAX_BUFFERED_ROWS", maxBatchRows * 4, 1, 100_000_000);
  if (maxBufferedRows < maxBatchRows) {
    throw new ConfigError(
      "KLAGG_WRITER_MAX_BUFFERED_ROWS",
      String(maxBufferedRows),
      "must be >= max batch rows",
    );
  }
  const retryBaseMs = r.durationMs("KLAGG_WRITER_RETRY_BASE", 200, 1);
  const retryCapMs = r.durationMs("KLAGG_WRITER_RETRY_CAP", 10_000, 1);
  if (retryCapMs < retryBaseMs) {
    throw new ConfigError("KLAGG_WRITER_RETRY_CAP", src.KLAGG_WRITER_RETRY_CAP, "must be >= the retry base");
  }
  const topic = r.string("KLAGG_KAFKA_TOPIC", "klagg.klines");
  return freeze({
    common: parseCommonConfig(src),
    kafkaBrokers: kafka.brokers,
    kafkaSasl: kafka.sasl,
    topic,
    topicPartitions: r.int("KLAGG_KAFKA_PARTITIONS", 6, 1, 10_000),
    deadLetterTopic: r.string("KLAGG_WRITER_DLQ_TOPIC", `${topic}.dlq`),
    groupId: r.string("KLAGG_WRITER_GROUP", "klagg-writer"),
    clientId: r.string("KLAGG_WRITER_CLIENT_ID", "klagg-writer"),
    clickhouseUrl,
    clickhouseDatabase,
    clickhouseUser: r.optionalString("KLAGG_CLICKHOUSE_USER"),
    clickhousePassword: r.optionalString("KLAGG_CLICKHOUSE_PASSWORD"),
    maxBatchRows,
    maxBatchAgeMs: r.durationMs("KLAGG_WRITER_MAX_BATCH_AGE", 1000, 1),
    maxBufferedRows,
    retryBaseMs,
    retryCapMs,
    insertTimeoutMs: r.durationMs("KLAGG_WRITER_INSERT_TIMEOUT", 30_000, 100),
    shutdownTimeoutMs: r.durationMs("KLAGG_WRITER_SHUTDOWN_TIMEOUT", 10_000, 0),
  });
}
