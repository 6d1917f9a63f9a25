/**
 * The writer on the real local Kafka and ClickHouse: exact values, highest
 * version wins whatever the order, replays change nothing, poison messages go
 * to the dead-letter topic. Reads KAFKA_BROKERS and CLICKHOUSE_URL only.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { parseWriterConfig } from "../../src/config/writer.js";
import { createLogger } from "../../src/obs/log.js";
import { createWriter, type Writer } from "../../src/writer/writer.js";
import { expectedLine, market, WriterEnv } from "./writer-harness.js";
import type { KlineSpec } from "../../src/writer/test-fixtures.js";

const quiet = createLogger("writer", { level: "warn" });
const envs: WriterEnv[] = [];
after(async () => {
  for (const e of envs) await e.tearDown();
});

async function newEnv(): Promise<WriterEnv> {
  const e = new WriterEnv();
  envs.push(e);
  await e.setUp();
  return e;
}

async function runUntilFlushed(e: WriterEnv, extra: Record<string, string> = {}): Promise<Writer> {
  const w = createWriter(parseWriterConfig(e.env(extra)), { log: quiet });
  await w.start();
  await Promise.race([
    w.flushed(),
    new Promise((_, rej) => setTimeout(() => rej(new Error("writer did not flush within 30 s")), 30_000)),
  ]);
  await w.stop();
  return w;
}

/** A seeded shuffle (mulberry32), so a failure is reproducible. */
function shuffle<T>(xs: T[], seed: number): T[] {
  let s = seed;
  const rnd = () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

test("every kline is stored exactly, with its highest version, whatever the order and duplication of messages", async () => {
  const e = await newEnv();
  const { batches, final } = market(40);
  await e.produce(shuffle([...batches, ...batches, ...batches.slice(0, 50)], 42));
  const w = await runUntilFlushed(e);
  assert.deepEqual(await e.readFinal(), final.map(expectedLine));
  const migrations = await e.ch.queryText(
    `SELECT version FROM ${e.database}.schema_migrations FORMAT TabSeparated`,
  );
  assert.equal(migrations.trim(), "1");
  // Coalescing: far fewer rows written than consumed, in few INSERTs.
  const consumed = (await w.metrics.rowsIn.get()).values[0]!.value;
  const written = (await w.metrics.rowsWritten.get()).values[0]!.value;
  const inserts = (await w.metrics.batchRows.get()).values.find((v) =>
    v.metricName?.endsWith("_count"),
  )!.value;
  assert.equal(consumed, (2 * batches.length + 50) * 3);
  assert.ok(written < consumed / 5, `wrote ${written} of ${consumed} rows`);
  assert.ok(inserts <= 10, `${inserts} inserts`);
});

test("replaying the whole topic with a new group, any number of times, leaves the same table", async () => {
  const e = await newEnv();
  const { batches, final } = market(15);
  await e.produce(batches);
  await runUntilFlushed(e);
  const first = await e.readFinal();
  assert.deepEqual(first, final.map(expectedLine));
  // Older versions arriving later (a replay in reverse) must not win either.
  await e.produce([...batches].reverse());
  await runUntilFlushed(e, { KLAGG_WRITER_GROUP: `${e.group}-replay` });
  await runUntilFlushed(e, { KLAGG_WRITER_GROUP: `${e.group}-replay2` });
  assert.deepEqual(await e.readFinal(), first);
  assert.ok((await e.countRaw()) >= first.length);
});

test("a poison message goes to the dead-letter topic with its reason and the messages after it are written", async () => {
  const e = await newEnv();
  const good: KlineSpec[] = [{ symbol: "BTCUSDT", version: 3 }];
  const after: KlineSpec[] = [{ symbol: "BTCUSDT", interval: "5m", version: 4 }];
  // One partition, so the poison sits between the two good messages.
  await e.producer.send({
    topic: e.topic,
    acks: -1,
    messages: [{ key: "BTCUSDT", value: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x01]) }],
  });
  await e.produce([good]);
  await e.produce([], [Buffer.from("not a kline batch")]);
  await e.produce([after]);
  const w = await runUntilFlushed(e);
  assert.deepEqual(await e.readFinal(), [expectedLine(good[0]!), expectedLine(after[0]!)].sort());
  const dl = (await w.metrics.deadLetters.get()).values.reduce((n, v) => n + v.value, 0);
  assert.equal(dl, 2);
  // The dead-letter topic holds both poison messages, intact, with the reason.
  const consumer = e.kafka.consumer({ groupId: `${e.group}-dlq-reader` });
  await consumer.connect();
  await consumer.subscribe({ topic: e.dlqTopic, fromBeginning: true });
  const got: { value: string; reason: string }[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("dead letters not read within 15 s")), 15_000);
    void consumer.run({
      eachMessage: async ({ message }) => {
        got.push({
          value: message.value?.toString("latin1") ?? "",
          reason: message.headers?.["klagg-dlq-reason"]?.toString() ?? "",
        });
        if (got.length === 2) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  assert.deepEqual(got.map((g) => g.reason).sort(), ["undecodable", "undecodable"]);
  assert.ok(got.some((g) => g.value === "not a kline batch"));
});

test("schema preparation is idempotent, keeps existing rows, and the table reloads from its metadata", async () => {
  const e = await newEnv();
  await e.produce([[{ symbol: "ETHUSDT", version: 9 }]]);
  await runUntilFlushed(e);
  // DETACH + ATTACH parses the stored metadata again, exactly as a server restart does.
  await e.ch.command(`DETACH TABLE ${e.database}.klines`);
  await e.ch.command(`ATTACH TABLE ${e.database}.klines`);
  assert.equal(await e.ch.prepare(), await e.ch.serverVersion());
  assert.equal(await e.ch.appliedVersion(), 1);
  assert.deepEqual(await e.readFinal(), [expectedLine({ symbol: "ETHUSDT", version: 9 })]);
});
