import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "./parse.js";
import { parseWriterConfig } from "./writer.js";

const base = { KLAGG_KAFKA_BROKERS: "127.0.0.1:19092", KLAGG_CLICKHOUSE_URL: "http://127.0.0.1:18123" };

test("defaults follow the issue: 50,000 rows or 1 s per INSERT, database klagg, topic klagg.klines", () => {
  const c = parseWriterConfig(base);
  assert.equal(c.maxBatchRows, 50_000);
  assert.equal(c.maxBatchAgeMs, 1000);
  assert.equal(c.maxBufferedRows, 200_000);
  assert.equal(c.clickhouseDatabase, "klagg");
  assert.equal(c.topic, "klagg.klines");
  assert.equal(c.deadLetterTopic, "klagg.klines.dlq");
  assert.equal(c.groupId, "klagg-writer");
  assert.deepEqual(c.kafkaBrokers, ["127.0.0.1:19092"]);
  assert.equal(c.common.traceSampleRatio, 1);
  assert.ok(Object.isFrozen(c));
});

test("every limit can be set, and durations accept units", () => {
  const c = parseWriterConfig({
    ...base,
    KLAGG_KAFKA_BROKERS: "a:1,b:2",
    KLAGG_WRITER_MAX_BATCH_ROWS: "1000",
    KLAGG_WRITER_MAX_BATCH_AGE: "250ms",
    KLAGG_WRITER_MAX_BUFFERED_ROWS: "5000",
    KLAGG_WRITER_RETRY_BASE: "1s",
    KLAGG_WRITER_RETRY_CAP: "1m",
    KLAGG_KAFKA_TOPIC: "x.klines",
  });
  assert.deepEqual(
    [c.kafkaBrokers, c.maxBatchRows, c.maxBatchAgeMs, c.maxBufferedRows, c.retryBaseMs, c.retryCapMs],
    [["a:1", "b:2"], 1000, 250, 5000, 1000, 60_000],
  );
  assert.equal(c.deadLetterTopic, "x.klines.dlq");
});

test("missing or malformed keys fail with the key and the value named", () => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ KLAGG_CLICKHOUSE_URL: base.KLAGG_CLICKHOUSE_URL }, /KLAGG_KAFKA_BROKERS/],
    [{ KLAGG_KAFKA_BROKERS: "127.0.0.1" }, /KLAGG_KAFKA_BROKERS="127.0.0.1"/],
    [{ ...base, KLAGG_CLICKHOUSE_URL: "tcp://x:9000" }, /KLAGG_CLICKHOUSE_URL/],
    [{ ...base, KLAGG_CLICKHOUSE_DATABASE: "klagg; DROP" }, /KLAGG_CLICKHOUSE_DATABASE/],
    [{ ...base, KLAGG_WRITER_MAX_BATCH_ROWS: "0" }, /KLAGG_WRITER_MAX_BATCH_ROWS/],
    [{ ...base, KLAGG_WRITER_MAX_BATCH_ROWS: "100", KLAGG_WRITER_MAX_BUFFERED_ROWS: "10" }, /BUFFERED/],
    [{ ...base, KLAGG_WRITER_RETRY_BASE: "5s", KLAGG_WRITER_RETRY_CAP: "1s" }, /RETRY_CAP/],
    [{ ...base, KLAGG_WRITER_MAX_BATCH_AGE: "soon" }, /KLAGG_WRITER_MAX_BATCH_AGE/],
  ];
  for (const [src, re] of bad) {
    assert.throws(
      () => parseWriterConfig(src),
      (e: unknown) => e instanceof ConfigError && re.test(e.message),
    );
  }
});
