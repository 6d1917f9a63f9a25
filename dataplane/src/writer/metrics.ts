/**
 * Prometheus metrics of the writer. Registered on the registry the binary
 * exposes (a fresh one when none is given, so two writers in one process, as
 * in tests, never clash).
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** The writer's instruments. */
export interface WriterMetrics {
  readonly messages: Counter<"result">;
  readonly rowsIn: Counter;
  readonly rowsWritten: Counter;
  readonly batchRows: Histogram;
  readonly insertSeconds: Histogram;
  readonly insertRetries: Counter;
  readonly deadLetters: Counter<"reason">;
  readonly commitFailures: Counter;
  readonly consumerLag: Gauge<"partition">;
  readonly bufferedRows: Gauge;
  readonly paused: Gauge;
  readonly closeToWriteSeconds: Histogram;
  readonly registry: Registry;
}

/** Creates the writer metrics on `registry`. */
export function createWriterMetrics(registry: Registry = new Registry()): WriterMetrics {
  const r = [registry];
  return {
    registry,
    messages: new Counter({
      name: "klagg_writer_messages_total",
      help: "Kafka messages consumed, by result (ok, dead_letter).",
      labelNames: ["result"],
      registers: r,
    }),
    rowsIn: new Counter({
      name: "klagg_writer_rows_consumed_total",
      help: "Kline rows consumed before coalescing.",
      registers: r,
    }),
    rowsWritten: new Counter({
      name: "klagg_writer_rows_written_total",
      help: "Rows inserted into ClickHouse (after coalescing).",
      registers: r,
    }),
    batchRows: new Histogram({
      name: "klagg_writer_batch_rows",
      help: "Rows per INSERT.",
      buckets: [1, 10, 100, 1_000, 5_000, 10_000, 25_000, 50_000, 100_000],
      registers: r,
    }),
    insertSeconds: new Histogram({
      name: "klagg_writer_insert_seconds",
      help: "Latency of one successful INSERT attempt.",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: r,
    }),
    insertRetries: new Counter({
      name: "klagg_writer_insert_retries_total",
      help: "Failed INSERT attempts that were retried.",
      registers: r,
    }),
    deadLetters: new Counter({
      name: "klagg_writer_dead_letters_total",
      help: "Messages sent to the dead-letter topic, by reason.",
      labelNames: ["reason"],
      registers: r,
    }),
    commitFailures: new Counter({
      name: "klagg_writer_commit_failures_total",
      help: "Offset commits that failed (the offsets are retried with the next commit).",
      registers: r,
    }),
    consumerLag: new Gauge({
      name: "klagg_writer_consumer_lag",
      help: "Messages between the last fetched offset and the partition's high watermark.",
      labelNames: ["partition"],
      registers: r,
    }),
    bufferedRows: new Gauge({
      name: "klagg_writer_buffered_rows",
      help: "Distinct rows waiting for an INSERT (buffered plus in flight).",
      registers: r,
    }),
    paused: new Gauge({
      name: "klagg_writer_consumption_paused",
      help: "1 while consumption is paused (ClickHouse failing or buffer full).",
      registers: r,
    }),
    closeToWriteSeconds: new Histogram({
      name: "klagg_writer_close_to_insert_seconds",
      help: "From a closed kline's close time to the end of the INSERT that made it readable.",
      buckets: [0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30],
      registers: r,
    }),
  };
}
