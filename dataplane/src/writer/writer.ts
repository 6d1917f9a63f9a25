/**
 * The ClickHouse writer: a Kafka consumer group member that coalesces kline
 * batches and writes them in few, large INSERTs.
 *
 * Guarantees: offsets are committed only after the INSERT holding their rows
 * succeeded (at-least-once); rows are keyed and versioned, so any replay
 * leaves the same table when read with FINAL (idempotent). While ClickHouse
 * fails, the insert is retried with capped, jittered backoff and consumption
 * is paused, which bounds memory. A message that cannot be decoded goes to the
 * dead-letter topic and its offset is committed like any other.
 */
import type { SpanContext } from "@opentelemetry/api";
import type { Registry } from "prom-client";
import type { WriterConfig } from "../config/writer.js";
import { createLogger, RateLimitedLog, type Logger } from "../obs/log.js";
import { backoffDelay } from "./backoff.js";
import { ClickHouseSink, type RowSink } from "./clickhouse-adapter.js";
import { CoalescingBuffer, flushDecision, shouldPause, type Drained } from "./coalesce.js";
import { decodeKlineMessage } from "./decode.js";
import { KafkaSource } from "./kafka-adapter.js";
import { createWriterMetrics, type WriterMetrics } from "./metrics.js";
import { partitionKey, type ConsumedBatch, type ConsumedMessage, type MessageSource } from "./ports.js";
import type { KlineRow } from "./row.js";
import { InsertSpans, startConsumeSpan, TraceCollector } from "./tracing.js";

/** What the writer needs besides its config; everything has a production default. */
export interface WriterDeps {
  readonly log?: Logger;
  /** Registry to put the writer metrics on (a fresh one by default). */
  readonly registry?: Registry;
  /** Defaults to {@link KafkaSource} from the config. */
  readonly source?: MessageSource;
  /** Defaults to {@link ClickHouseSink} from the config. */
  readonly sink?: RowSink;
  readonly now?: () => number;
  readonly random?: () => number;
  /** Aborting it stops the writer (as {@link Writer.stop}). */
  readonly signal?: AbortSignal;
  /** Called after every successful INSERT with its rows and the time it ended (benchmarks, tests). */
  readonly onInserted?: (rows: readonly KlineRow[], endedAt: number) => void;
}

/** A running writer. */
export interface Writer {
  /** Prepares the schema (retrying while ClickHouse is unreachable) and joins the consumer group. */
  start(): Promise<void>;
  /** Flushes, commits and leaves the group. Idempotent. */
  stop(): Promise<void>;
  /**
   * Resolves once every message produced to the topic before the call is
   * inserted and its offset committed by the group.
   */
  flushed(): Promise<void>;
  readonly metrics: WriterMetrics;
  /** Resolves once the writer stopped, by stop() or by a fatal error (then `failure` is set). */
  readonly done: Promise<void>;
  /** The error that stopped the writer, if one did. */
  readonly failure: Error | undefined;
}

/** Ignore close-to-insert latencies of old klines (replays of history are not "late"). */
const LATENCY_WINDOW_MS = 3_600_000;

/** Creates a writer; nothing runs until `start()`. */
export function createWriter(config: Readonly<WriterConfig>, deps: WriterDeps = {}): Writer {
  return new WriterLoop(config, deps);
}

class WriterLoop implements Writer {
  readonly metrics: WriterMetrics;
  failure: Error | undefined;
  private resolveDone: () => void = () => undefined;
  readonly done = new Promise<void>((resolve) => (this.resolveDone = resolve));
  private readonly log: Logger;
  private readonly rejections: RateLimitedLog;
  private readonly source: MessageSource;
  private readonly sink: RowSink;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly buffer = new CoalescingBuffer();
  private readonly traces = new TraceCollector();
  /** Offsets whose rows are inserted but whose commit has not succeeded yet. */
  private readonly pendingCommit = new Map<string, { topic: string; partition: number; offset: bigint }>();
  private inflightRows = 0;
  private flushing: Promise<void> | undefined;
  private handling: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private sinkFailing = false;
  /** When a commit failed and its offsets wait for a retry (undefined when none wait). */
  private commitFailedAt: number | undefined;
  private paused = false;
  private stopping: { at: number; done: Promise<void> } | undefined;

  constructor(
    private readonly config: Readonly<WriterConfig>,
    private readonly deps: WriterDeps,
  ) {
    this.log = deps.log ?? createLogger("writer");
    this.rejections = new RateLimitedLog(this.log);
    this.metrics = createWriterMetrics(deps.registry);
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.sink = deps.sink ?? defaultSink(config);
    this.source =
      deps.source ??
      new KafkaSource({
        brokers: config.kafkaBrokers,
        sasl: config.kafkaSasl,
        clientId: config.clientId,
        groupId: config.groupId,
        topic: config.topic,
        topicPartitions: config.topicPartitions,
        deadLetterTopic: config.deadLetterTopic,
        log: this.log,
      });
    deps.signal?.addEventListener("abort", () => void this.stop(), { once: true });
  }

  async start(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.stopping) return;
      try {
        const version = await this.sink.prepare();
        this.log.info("clickhouse schema ready", {
          server_version: version,
          database: this.config.clickhouseDatabase,
        });
        break;
      } catch (err) {
        const delay = backoffDelay(attempt, this.retryPolicy(), this.random);
        this.log.warn("clickhouse not ready, retrying", { error: err, retry_in_ms: delay });
        await sleep(delay);
      }
    }
    await this.source.start(
      (b) => this.track(this.onBatch(b)),
      (err) => this.fail(err),
    );
    this.log.info("writer consuming", { topic: this.config.topic, group: this.config.groupId });
  }

  stop(): Promise<void> {
    this.stopping ??= { at: this.now(), done: this.shutdown().finally(() => this.resolveDone()) };
    return this.stopping.done;
  }

  /** A part of the writer failed for good: stop (flushing what can be flushed) and report it. */
  private fail(err: Error): void {
    this.log.error("writer failed, stopping", { error: err });
    this.failure ??= err;
    void this.stop();
  }

  async flushed(): Promise<void> {
    const target = await this.source.endOffsets();
    for (;;) {
      if (this.stopping) throw new Error("writer stopped before everything was flushed");
      await this.flush();
      const committed = await this.source.committedOffsets();
      const behind = [...target].filter(([k, end]) => (committed.get(k) ?? 0n) < end);
      if (behind.length === 0) return;
      await sleep(100);
    }
  }

  private async shutdown(): Promise<void> {
    clearTimeout(this.timer);
    this.source.pause();
    await this.handling;
    await this.flush().catch((err: unknown) => this.log.error("final flush failed", { error: err }));
    await this.source.stop();
    await this.sink.close();
    this.log.info("writer stopped");
  }

  /** Serializes batch handling so shutdown can wait for the one in progress. */
  private track(p: Promise<void>): Promise<void> {
    this.handling = this.handling.then(() => p).catch(() => undefined);
    return p;
  }

  private async onBatch(batch: ConsumedBatch): Promise<void> {
    const last = batch.messages[batch.messages.length - 1];
    if (last) {
      const lag = BigInt(batch.highWatermark) - BigInt(last.offset) - 1n;
      this.metrics.consumerLag.set({ partition: String(batch.partition) }, Number(lag < 0n ? 0n : lag));
    }
    try {
      for (const m of batch.messages) await this.onMessage(m);
    } finally {
      this.evaluate();
    }
  }

  private async onMessage(m: ConsumedMessage): Promise<void> {
    const span = startConsumeSpan(m.headers, m);
    const res = decodeKlineMessage(m.value);
    try {
      if (res.ok) {
        this.buffer.add(res.rows, m.topic, m.partition, BigInt(m.offset), this.now());
        this.metrics.messages.inc({ result: "ok" });
        this.metrics.rowsIn.inc(res.rows.length);
        span.setAttribute("klagg.rows", res.rows.length);
        this.traces.add(span);
      } else {
        span.setAttribute("klagg.dead_letter_reason", res.reason);
        // Awaited: the offset may only be committed once the message is safe in the dead-letter topic.
        await this.source.deadLetter(m, res.reason, res.detail);
        this.buffer.add([], m.topic, m.partition, BigInt(m.offset), this.now());
        this.metrics.messages.inc({ result: "dead_letter" });
        this.metrics.deadLetters.inc({ reason: res.reason });
        const where = { topic: m.topic, partition: m.partition, offset: m.offset, detail: res.detail };
        this.rejections.warn(res.reason, "message sent to the dead-letter topic", where);
      }
    } finally {
      span.end();
    }
  }

  /** Re-checks the pause and flush policies; called after every change of state. */
  private evaluate(): void {
    const waiting = this.buffer.size + this.inflightRows;
    this.metrics.bufferedRows.set(waiting);
    const pause =
      this.stopping !== undefined || shouldPause(waiting, this.config.maxBufferedRows, this.sinkFailing);
    if (pause !== this.paused) {
      this.paused = pause;
      this.metrics.paused.set(pause ? 1 : 0);
      if (pause) this.source.pause();
      else this.source.resume();
      this.log.info(pause ? "consumption paused" : "consumption resumed", {
        waiting_rows: waiting,
        clickhouse_failing: this.sinkFailing,
      });
    }
    if (this.flushing || this.stopping) return;
    const oldest = this.buffer.oldestAt ?? this.commitFailedAt;
    const d = flushDecision(this.buffer.size, oldest, this.now(), this.limits());
    clearTimeout(this.timer);
    this.timer = undefined;
    if (d.flush) void this.flush().catch((err: unknown) => this.log.error("flush failed", { error: err }));
    else if (d.waitMs !== undefined) this.timer = setTimeout(() => this.evaluate(), d.waitMs);
  }

  /** Inserts everything buffered, then commits; concurrent callers share the flush in progress. */
  private flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => (this.buffer.empty ? undefined : this.flush()));
    const drained = this.buffer.drain();
    this.inflightRows = drained.rows.length;
    this.flushing = this.insertAndCommit(drained).finally(() => {
      this.flushing = undefined;
      this.inflightRows = 0;
      this.evaluate();
    });
    return this.flushing;
  }

  private async insertAndCommit(d: Drained): Promise<void> {
    const parents = this.traces.take();
    if (d.rows.length > 0) await this.insertWithRetry(d.rows, parents);
    for (const [k, o] of d.offsets) {
      const cur = this.pendingCommit.get(k);
      if (cur === undefined || o.offset > cur.offset) this.pendingCommit.set(k, o);
    }
    const offsets = [...this.pendingCommit.values()];
    if (offsets.length === 0) return;
    try {
      await this.source.commit(offsets);
      this.commitFailedAt = undefined;
      for (const o of offsets) {
        if (this.pendingCommit.get(partitionKey(o.topic, o.partition))?.offset === o.offset) {
          this.pendingCommit.delete(partitionKey(o.topic, o.partition));
        }
      }
    } catch (err) {
      // Rows are in ClickHouse; the offsets stay pending and go with the next commit (a replay is harmless).
      this.metrics.commitFailures.inc();
      this.commitFailedAt ??= this.now();
      this.log.warn("offset commit failed, will retry", { error: err });
    }
  }

  private async insertWithRetry(rows: readonly KlineRow[], parents: SpanContext[]): Promise<void> {
    const spans = new InsertSpans(parents, rows.length);
    const lines = rows.map((r) => r.tsv);
    for (let attempt = 0; ; attempt++) {
      const t0 = this.now();
      try {
        await this.sink.insert(lines);
        const t1 = this.now();
        this.metrics.insertSeconds.observe((t1 - t0) / 1000);
        this.observeWritten(rows, t1);
        if (this.sinkFailing) this.log.info("clickhouse insert succeeded again", { attempts: attempt + 1 });
        this.sinkFailing = false;
        spans.end();
        return;
      } catch (err) {
        this.metrics.insertRetries.inc();
        spans.retry(attempt, err);
        const firstFailure = !this.sinkFailing;
        this.sinkFailing = true;
        this.evaluate();
        const delay = backoffDelay(attempt, this.retryPolicy(), this.random);
        const left = this.stopping ? this.stopping.at + this.config.shutdownTimeoutMs - this.now() : Infinity;
        if (left <= 0) {
          spans.end(err);
          throw new Error(`insert of ${rows.length} rows abandoned at shutdown (offsets stay uncommitted)`);
        }
        if (firstFailure || attempt % 10 === 0) {
          this.log.warn("clickhouse insert failed, retrying", { error: err, attempt, rows: rows.length });
        }
        await sleep(Math.min(delay, left));
      }
    }
  }

  private observeWritten(rows: readonly KlineRow[], endedAt: number): void {
    this.metrics.rowsWritten.inc(rows.length);
    this.metrics.batchRows.observe(rows.length);
    for (const r of rows) {
      if (r.closedAt === undefined) continue;
      const lateMs = endedAt - r.closedAt;
      if (lateMs >= 0 && lateMs < LATENCY_WINDOW_MS) this.metrics.closeToWriteSeconds.observe(lateMs / 1000);
    }
    this.deps.onInserted?.(rows, endedAt);
  }

  private limits() {
    return { maxRows: this.config.maxBatchRows, maxAgeMs: this.config.maxBatchAgeMs };
  }

  private retryPolicy() {
    return { baseMs: this.config.retryBaseMs, capMs: this.config.retryCapMs };
  }
}

function defaultSink(config: Readonly<WriterConfig>): RowSink {
  return new ClickHouseSink({
    url: config.clickhouseUrl,
    database: config.clickhouseDatabase,
    username: config.clickhouseUser,
    password: config.clickhousePassword,
    requestTimeoutMs: config.insertTimeoutMs,
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
