/**
 * Smoke test of the local Kafka (KRaft, one node) through kafkajs, the client the gateway and writer use:
 * create a topic, produce, consume from a consumer group. Reads KAFKA_BROKERS only.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Kafka, logLevel, type Admin, type Consumer, type Producer } from "kafkajs";

function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run under \`deploy/local/klagg-infra with-infra -- ...\``);
  return v;
}

const topic = `klagg-smoke-${process.pid}-${Date.now()}`;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let consumer: Consumer;

before(async () => {
  kafka = new Kafka({
    clientId: "klagg-smoke",
    brokers: requireEnv("KAFKA_BROKERS").split(","),
    logLevel: logLevel.NOTHING,
  });
  admin = kafka.admin();
  await admin.connect();
});

after(async () => {
  await consumer?.disconnect().catch(() => undefined);
  await producer?.disconnect().catch(() => undefined);
  await admin?.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin?.disconnect().catch(() => undefined);
});

test("a created topic is listed with its partitions", async () => {
  assert.equal(
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true }),
    true,
  );
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  assert.equal(meta.topics[0]?.partitions.length, 2);
});

test("produced messages are consumed back in order per key", async () => {
  producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const sent = Array.from({ length: 10 }, (_, i) => ({ key: "BTCUSDT", value: `m${i}` }));
  await producer.send({ topic, messages: sent, acks: -1 });

  consumer = kafka.consumer({ groupId: `${topic}-g`, sessionTimeout: 10_000, heartbeatInterval: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`consumed only ${got.length}/10 within 30s`)), 30_000);
    void consumer.run({
      eachMessage: async ({ message }) => {
        got.push(message.value?.toString() ?? "");
        if (got.length === sent.length) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  assert.deepEqual(
    got,
    sent.map((m) => m.value),
  );
});
