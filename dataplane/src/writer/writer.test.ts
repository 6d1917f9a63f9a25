import { afterEach, test } from "node:test";
import assert from "node:assert/strict";
import { parseWriterConfig } from "../config/writer.js";
import { createLogger } from "../obs/log.js";
import type { RowSink } from "./clickhouse-adapter.js";
import type { CommitOffset, ConsumedBatch, ConsumedMessage, MessageSource, OffsetMap } from "./ports.js";
import { partitionKey } from "./ports.js";
import { batchBytes, kline } from "./test-fixtures.js";
import { createWriter } from "./writer.js";

const TOPIC = "klagg.klines";

/** In-memory consumer: records every call in `events` so tests can check their order. */
class FakeSource implements MessageSource {
  handler: ((b: ConsumedBatch) => Promise<void>) | undefined;
  fatal: ((err: Error) => void) | undefined;
  events: string[] = [];
  commits: CommitOffset[][] = [];
  deadLetters: { offset: string; reason: string }[] = [];
  paused = false;
  failDeadLetter = false;
  failCommits = 0;
  end: OffsetMap = new Map();
  committed: OffsetMap = new Map();
  stopped = false;

  async start(handler: (b: ConsumedBatch) => Promise<void>, onFatal: (err: Error) => void): Promise<void> {
    this.handler = handler;
    this.fatal = onFatal;
  }
  pause(): void {
    if (!this.paused) this.events.push("pause");
    this.paused = true;
  }
  resume(): void {
    if (this.paused) this.events.push("resume");
    this.paused = false;
  }
  async commit(offsets: readonly CommitOffset[]): Promise<void> {
    if (this.failCommits > 0) {
      this.failCommits--;
      this.events.push("commit-failed");
      throw new Error("coordinator moved");
    }
    this.commits.push([...offsets]);
    this.events.push(`commit ${offsets.map((o) => `${o.partition}:${o.offset}`).join(",")}`);
    for (const o of offsets) this.committed.set(partitionKey(o.topic, o.partition), o.offset);
  }
  async deadLetter(msg: ConsumedMessage, reason: string): Promise<void> {
    if (this.failDeadLetter) throw new Error("dead-letter topic unavailable");
    this.deadLetters.push({ offset: msg.offset, reason });
    this.events.push(`dlq ${msg.offset}`);
  }
  async endOffsets(): Promise<OffsetMap> {
    return new Map(this.end);
  }
  async committedOffsets(): Promise<OffsetMap> {
    return new Map(this.committed);
  }
  async stop(): Promise<void> {
    this.stopped = true;
    this.events.push("stop");
  }
  /** Delivers messages with values `values` at consecutive offsets from `first` of `partition`. */
  deliver(partition: number, first: number, values: (Uint8Array | null)[]): Promise<void> {
    const messages = values.map((v, i) => ({
      topic: TOPIC,
      partition,
      offset: String(first + i),
      key: null,
      value: v === null ? null : Buffer.from(v),
      headers: {},
    }));
    const next = BigInt(first + values.length);
    const k = partitionKey(TOPIC, partition);
    if ((this.end.get(k) ?? 0n) < next) this.end.set(k, next);
    return this.handler!({ topic: TOPIC, partition, highWatermark: String(next), messages });
  }
}

/** In-memory ClickHouse: fails the next `failures` inserts. */
class FakeSink implements RowSink {
  inserts: string[][] = [];
  failures = 0;
  closed = false;
  constructor(private readonly source: FakeSource) {}
  async prepare(): Promise<string> {
    return "fake";
  }
  async insert(lines: readonly string[]): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      this.source.events.push("insert-failed");
      throw new Error("Connection refused");
    }
    this.inserts.push([...lines]);
    this.source.events.push(`insert ${lines.length}`);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

const running: { stop(): Promise<void> }[] = [];
// A failed assertion must not leave a writer's timers keeping the test process alive.
afterEach(async () => {
  await Promise.all(running.splice(0).map((w) => w.stop()));
});

function setup(env: Record<string, string> = {}) {
  const config = parseWriterConfig({
    KLAGG_KAFKA_BROKERS: "127.0.0.1:1",
    KLAGG_CLICKHOUSE_URL: "http://127.0.0.1:1",
    KLAGG_WRITER_MAX_BATCH_AGE: "20ms",
    KLAGG_WRITER_RETRY_BASE: "5ms",
    KLAGG_WRITER_RETRY_CAP: "20ms",
    ...env,
  });
  const source = new FakeSource();
  const sink = new FakeSink(source);
  const lines: string[] = [];
  const writer = createWriter(config, {
    source,
    sink,
    log: createLogger("writer", { sink: (l) => lines.push(l) }),
  });
  return { writer, source, sink, lines };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, what: string, ms = 2000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) assert.fail(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

test("rows are coalesced, inserted once the age limit passes, and committed only after the insert", async () => {
  const { writer, source, sink } = setup();
  await writer.start();
  await source.deliver(0, 0, [batchBytes([kline({ version: 1 }), kline({ interval: "5m", version: 1 })])]);
  await source.deliver(0, 1, [batchBytes([kline({ version: 2, close: "61999.00000000" })])]);
  assert.equal(sink.inserts.length, 0, "nothing is inserted before the age limit");
  await until(() => source.commits.length === 1, "the commit");
  assert.deepEqual(source.events, ["insert 2", "commit 0:2"]);
  assert.equal(sink.inserts[0]!.filter((l) => l.includes("61999.00000000")).length, 1);
  assert.equal(
    writer.metrics.registry.getSingleMetric("klagg_writer_rows_consumed_total") !== undefined,
    true,
  );
  await writer.stop();
});

test("the row limit triggers an insert without waiting for the age limit", async () => {
  const { writer, source, sink } = setup({
    KLAGG_WRITER_MAX_BATCH_ROWS: "3",
    KLAGG_WRITER_MAX_BATCH_AGE: "1h",
  });
  await writer.start();
  const ks = [0, 1, 2].map((i) => kline({ openTime: 1_723_161_300_000 + i * 60_000 }));
  await source.deliver(1, 40, [batchBytes(ks)]);
  await until(() => source.commits.length === 1, "the commit");
  assert.equal(sink.inserts[0]!.length, 3);
  assert.deepEqual(source.commits[0], [{ topic: TOPIC, partition: 1, offset: 41n }]);
  await writer.stop();
});

test("a failing insert is retried with consumption paused, and commit and resume follow the success", async () => {
  const { writer, source, sink } = setup();
  sink.failures = 3;
  await writer.start();
  await source.deliver(0, 0, [batchBytes([kline()])]);
  await until(() => source.commits.length === 1, "the commit");
  assert.deepEqual(source.events, [
    "insert-failed",
    "pause",
    "insert-failed",
    "insert-failed",
    "insert 1",
    "commit 0:1",
    "resume",
  ]);
  const retries = await writer.metrics.insertRetries.get();
  assert.equal(retries.values[0]!.value, 3);
  await writer.stop();
});

test("an undecodable message goes to the dead-letter topic, is counted and committed, and the partition moves on", async () => {
  const { writer, source, sink, lines } = setup();
  await writer.start();
  await source.deliver(2, 5, [Buffer.from("garbage \xff\xff", "latin1"), batchBytes([kline()]), null]);
  await until(() => source.commits.length === 1, "the commit");
  assert.deepEqual(source.deadLetters, [
    { offset: "5", reason: "undecodable" },
    { offset: "7", reason: "empty_value" },
  ]);
  assert.equal(sink.inserts[0]!.length, 1);
  assert.deepEqual(source.commits[0], [{ topic: TOPIC, partition: 2, offset: 8n }]);
  const dl = await writer.metrics.deadLetters.get();
  assert.deepEqual(dl.values.map((v) => [v.labels.reason, v.value]).sort(), [
    ["empty_value", 1],
    ["undecodable", 1],
  ]);
  assert.ok(lines.some((l) => l.includes("dead-letter")));
  await writer.stop();
});

test("when the dead-letter topic cannot be written the batch fails so it is delivered again, and nothing past it is committed", async () => {
  const { writer, source } = setup();
  source.failDeadLetter = true;
  await writer.start();
  await assert.rejects(source.deliver(0, 0, [batchBytes([kline()]), Buffer.from([0xff, 0xff])]));
  await until(() => source.commits.length === 1, "the commit of the good message");
  assert.deepEqual(source.commits[0], [{ topic: TOPIC, partition: 0, offset: 1n }]);
  await writer.stop();
});

test("consumption pauses when the waiting rows reach the memory bound and resumes after the flush", async () => {
  const { writer, source } = setup({
    KLAGG_WRITER_MAX_BATCH_ROWS: "2",
    KLAGG_WRITER_MAX_BUFFERED_ROWS: "2",
    KLAGG_WRITER_MAX_BATCH_AGE: "1h",
  });
  await writer.start();
  await source.deliver(0, 0, [batchBytes([kline({ interval: "1m" }), kline({ interval: "3m" })])]);
  await until(() => source.events.includes("resume"), "the resume");
  assert.deepEqual(source.events, ["pause", "insert 2", "commit 0:1", "resume"]);
  await writer.stop();
});

test("a failed commit keeps its offsets and sends them with the next commit", async () => {
  const { writer, source } = setup();
  source.failCommits = 1;
  await writer.start();
  await source.deliver(0, 0, [batchBytes([kline()])]);
  await until(() => source.events.includes("commit-failed"), "the failed commit");
  await until(() => source.commits.length === 1, "the retried commit");
  assert.deepEqual(source.commits[0], [{ topic: TOPIC, partition: 0, offset: 1n }]);
  assert.equal((await writer.metrics.commitFailures.get()).values[0]!.value, 1);
  await writer.stop();
});

test("stop flushes what is buffered, commits, then leaves the group and closes ClickHouse", async () => {
  const { writer, source, sink } = setup({ KLAGG_WRITER_MAX_BATCH_AGE: "1h" });
  await writer.start();
  await source.deliver(0, 0, [batchBytes([kline()])]);
  await writer.stop();
  assert.deepEqual(source.events, ["pause", "insert 1", "commit 0:1", "stop"]);
  assert.equal(sink.closed, true);
});

test("stop while ClickHouse is down gives up after the shutdown timeout without committing", async () => {
  const { writer, source, sink } = setup({
    KLAGG_WRITER_MAX_BATCH_AGE: "1h",
    KLAGG_WRITER_SHUTDOWN_TIMEOUT: "60ms",
  });
  sink.failures = 1_000_000;
  await writer.start();
  await source.deliver(0, 0, [batchBytes([kline()])]);
  const t0 = Date.now();
  await writer.stop();
  assert.ok(Date.now() - t0 < 1000);
  assert.equal(source.commits.length, 0);
  assert.equal(source.stopped, true);
});

test("flushed resolves once everything produced before the call is inserted and committed", async () => {
  const { writer, source, sink } = setup({ KLAGG_WRITER_MAX_BATCH_AGE: "1h" });
  await writer.start();
  await source.deliver(0, 0, [batchBytes([kline()])]);
  source.end.set(partitionKey(TOPIC, 1), 1n); // produced but not yet delivered
  let done = false;
  const p = writer.flushed().then(() => (done = true));
  await sleep(30);
  assert.equal(done, false, "partition 1 is not consumed yet");
  await source.deliver(1, 0, [batchBytes([kline({ symbol: "ETHUSDT" })])]);
  await p;
  assert.equal(sink.inserts.flat().length, 2);
  assert.equal(source.committed.get(partitionKey(TOPIC, 1)), 1n);
  await writer.stop();
});

test("an abort signal stops the writer like stop()", async () => {
  const config = parseWriterConfig({
    KLAGG_KAFKA_BROKERS: "127.0.0.1:1",
    KLAGG_CLICKHOUSE_URL: "http://127.0.0.1:1",
  });
  const source = new FakeSource();
  const sink = new FakeSink(source);
  const ac = new AbortController();
  const writer = createWriter(config, {
    source,
    sink,
    signal: ac.signal,
    log: createLogger("w", { sink: () => {} }),
  });
  await writer.start();
  ac.abort();
  await until(() => source.stopped && sink.closed, "the shutdown");
});

test("when the source fails for good the writer flushes what it has, stops, and reports the failure", async () => {
  const { writer, source, sink, lines } = setup({ KLAGG_WRITER_MAX_BATCH_AGE: "1h" });
  await writer.start();
  await source.deliver(0, 0, [batchBytes([kline()])]);
  source.fatal!(new Error("consumer crashed: retries exhausted"));
  await writer.done;
  assert.equal(writer.failure?.message, "consumer crashed: retries exhausted");
  assert.deepEqual(source.events, ["pause", "insert 1", "commit 0:1", "stop"]);
  assert.equal(sink.closed, true);
  assert.ok(lines.some((l) => l.includes("writer failed, stopping")));
});

test("a writer stopped normally resolves done without a failure", async () => {
  const { writer } = setup();
  await writer.start();
  await writer.stop();
  await writer.done;
  assert.equal(writer.failure, undefined);
});
