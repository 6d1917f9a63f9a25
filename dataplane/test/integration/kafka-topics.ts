/**
 * Topic creation for the integration tests. Right after the local broker
 * starts, a new topic's metadata can lag its creation: kafkajs' `waitForLeaders`
 * then fails with UNKNOWN_TOPIC_OR_PARTITION (retriable) instead of waiting, and
 * a test that leaves its admin client connected on that error keeps its file's
 * process alive. Here the creation is retried until every partition has a
 * leader, and the admin client made for it is always disconnected.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Kafka, logLevel, type Admin, type ITopicConfig } from "kafkajs";

const ATTEMPTS = 20;
const RETRY_MS = 500;

/** Creates `topics` (existing ones are kept) and waits until each partition has a leader. */
export async function ensureTopics(admin: Admin, topics: ITopicConfig[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await admin.createTopics({ topics, waitForLeaders: true });
      const meta = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
      const ready = topics.every((t) => {
        const parts = meta.topics.find((m) => m.name === t.topic)?.partitions ?? [];
        return parts.length === (t.numPartitions ?? 1) && parts.every((p) => p.leader >= 0);
      });
      if (ready) return;
      if (attempt >= ATTEMPTS)
        throw new Error(`topics ${topics.map((t) => t.topic).join(", ")} have no leaders`);
    } catch (err) {
      if (!(err as { retriable?: boolean }).retriable || attempt >= ATTEMPTS) throw err;
    }
    await sleep(RETRY_MS);
  }
}

/** Runs `fn` with an admin client of its own, disconnected whatever happens. */
async function withAdmin(brokers: string, fn: (admin: Admin) => Promise<void>): Promise<void> {
  const kafka = new Kafka({
    clientId: "klagg-test-admin",
    brokers: brokers.split(","),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await fn(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** `ensureTopics` with an admin client of its own. */
export async function createTestTopics(brokers: string, topics: ITopicConfig[]): Promise<void> {
  await withAdmin(brokers, (admin) => ensureTopics(admin, topics));
}

/**
 * Deletes a test's topics (best effort): the local broker keeps its data across runs, and every partition left
 * behind is loaded again at each start.
 */
export async function deleteTestTopics(brokers: string, topics: string[]): Promise<void> {
  if (topics.length === 0) return;
  await withAdmin(brokers, (admin) => admin.deleteTopics({ topics, timeout: 10_000 })).catch(() => {
    // Best effort: a topic that stays only costs the broker a little start-up time.
  });
}
