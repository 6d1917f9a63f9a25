/**
 * Kafka adapter of the writer: the only writer file that imports kafkajs.
 *
 * A consumer group member with auto-commit off: each batch is handed to the
 * writer and its offsets are *resolved* (so fetching moves on) but committed
 * only when the writer says so, after the rows are in ClickHouse. A restart or
 * rebalance therefore re-reads everything not yet committed (at-least-once).
 */
import {
  Kafka,
  logLevel,
  Partitioners,
  type Consumer,
  type Producer,
  type Admin,
  type IHeaders,
  type LogEntry,
} from "kafkajs";
import type { Logger } from "../obs/log.js";
import { SocketTracker, STOPPED, kafkaSaslOption } from "../kafka/client-support.js";
import type { KafkaSasl } from "../config/connections.js";
import { partitionKey, type CommitOffset, type ConsumedBatch, type ConsumedMessage } from "./ports.js";
import type { MessageSource, OffsetMap } from "./ports.js";

/** Settings of {@link KafkaSource}. */
export interface KafkaSourceOptions {
  readonly brokers: readonly string[];
  /** SASL credentials; undefined: none. */
  readonly sasl?: KafkaSasl;
  readonly clientId: string;
  readonly groupId: string;
  readonly topic: string;
  /** Partitions when the topic has to be created here. */
  readonly topicPartitions: number;
  readonly deadLetterTopic: string;
  readonly log: Logger;
}

/**
 * Short session so a killed writer's partitions move to a live member within
 * seconds (the broker's minimum is 6 s); heartbeats at a third of it.
 */
const SESSION_TIMEOUT_MS = 10_000;
const HEARTBEAT_INTERVAL_MS = 3_000;

/** The {@link MessageSource} on a real Kafka cluster. */
export class KafkaSource implements MessageSource {
  private readonly kafka: Kafka;
  private readonly sockets = new SocketTracker();
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly admin: Admin;
  private paused = false;
  private onFatal: (err: Error) => void = () => undefined;

  constructor(private readonly opts: KafkaSourceOptions) {
    const klog = opts.log.child({ component: "kafkajs" });
    this.kafka = new Kafka({
      clientId: opts.clientId,
      brokers: [...opts.brokers],
      logLevel: logLevel.WARN,
      logCreator: () => (e: LogEntry) => logKafka(klog, e),
      retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: 10 },
      socketFactory: this.sockets.factory,
      ...kafkaSaslOption(opts.sasl),
    });
    this.consumer = this.kafka.consumer({
      groupId: opts.groupId,
      sessionTimeout: SESSION_TIMEOUT_MS,
      rebalanceTimeout: 2 * SESSION_TIMEOUT_MS,
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      maxBytesPerPartition: 8 * 1024 * 1024,
      maxBytes: 32 * 1024 * 1024,
      maxWaitTimeInMs: 100,
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      // kafkajs restarts the consumer after retriable crashes; anything else is the end of this member.
      if (!e.payload.restart) this.onFatal(e.payload.error);
    });
    // The partitioner is explicit only to silence kafkajs 2's warning; dead letters keep their original key.
    this.producer = this.kafka.producer({
      allowAutoTopicCreation: true,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.admin = this.kafka.admin();
  }

  async start(
    handler: (batch: ConsumedBatch) => Promise<void>,
    onFatal: (err: Error) => void,
  ): Promise<void> {
    this.onFatal = onFatal;
    await this.admin.connect();
    await this.ensureTopics();
    await this.producer.connect();
    await this.consumer.connect();
    // A new group starts at the beginning: klines produced before the first writer started are history too.
    await this.consumer.subscribe({ topics: [this.opts.topic], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (!isRunning() || isStale() || batch.messages.length === 0) return;
        const messages: ConsumedMessage[] = batch.messages.map((m) => ({
          topic: batch.topic,
          partition: batch.partition,
          offset: m.offset,
          key: m.key ?? null,
          value: m.value ?? null,
          headers: flattenHeaders(m.headers),
        }));
        await handler({
          topic: batch.topic,
          partition: batch.partition,
          highWatermark: batch.highWatermark,
          messages,
        });
        resolveOffset(batch.lastOffset());
        await heartbeat();
      },
    });
    if (this.paused) this.consumer.pause([{ topic: this.opts.topic }]);
  }

  pause(): void {
    this.paused = true;
    this.consumer.pause([{ topic: this.opts.topic }]);
  }

  resume(): void {
    this.paused = false;
    this.consumer.resume([{ topic: this.opts.topic }]);
  }

  async commit(offsets: readonly CommitOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    await this.consumer.commitOffsets(
      offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset.toString() })),
    );
  }

  async deadLetter(msg: ConsumedMessage, reason: string, detail: string): Promise<void> {
    await this.producer.send({
      topic: this.opts.deadLetterTopic,
      acks: -1,
      messages: [
        {
          key: msg.key,
          value: msg.value,
          headers: {
            ...msg.headers,
            "klagg-dlq-reason": reason,
            "klagg-dlq-detail": detail.slice(0, 1000),
            "klagg-dlq-source": `${msg.topic}/${msg.partition}/${msg.offset}`,
          },
        },
      ],
    });
  }

  async endOffsets(): Promise<OffsetMap> {
    const out: OffsetMap = new Map();
    for (const p of await this.admin.fetchTopicOffsets(this.opts.topic)) {
      out.set(partitionKey(this.opts.topic, p.partition), BigInt(p.high));
    }
    return out;
  }

  async committedOffsets(): Promise<OffsetMap> {
    const out: OffsetMap = new Map();
    const res = await this.admin.fetchOffsets({ groupId: this.opts.groupId, topics: [this.opts.topic] });
    for (const t of res) {
      for (const p of t.partitions) {
        const o = BigInt(p.offset);
        if (o >= 0n) out.set(partitionKey(t.topic, p.partition), o);
      }
    }
    return out;
  }

  async stop(): Promise<void> {
    // disconnect() waits for the batch in progress, then leaves the group, so partitions move at once.
    await Promise.allSettled([this.consumer.disconnect(), this.producer.disconnect()]);
    await this.admin.disconnect().catch(() => undefined);
    const leaked = this.sockets.destroyAll();
    if (leaked > 0) this.opts.log.info("closed kafka sockets the client left open", { sockets: leaked });
  }

  private async ensureTopics(): Promise<void> {
    const existing = new Set(await this.admin.listTopics());
    const wanted = [
      { topic: this.opts.topic, numPartitions: this.opts.topicPartitions },
      { topic: this.opts.deadLetterTopic, numPartitions: 1 },
    ].filter((t) => !existing.has(t.topic));
    if (wanted.length === 0) return;
    // Another writer or the gateway may create them at the same moment: "already exists" is success.
    await this.admin.createTopics({ topics: wanted, waitForLeaders: true }).catch((err: unknown) => {
      if (!/already exists/i.test(err instanceof Error ? err.message : String(err))) throw err;
    });
  }
}

function flattenHeaders(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  for (const [k, v] of Object.entries(h)) {
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined) out[k] = first.toString();
  }
  return out;
}

function logKafka(log: Logger, e: LogEntry): void {
  const { message, ...fields } = e.log;
  const f = { namespace: e.namespace, ...fields };
  // The sockets closed by SocketTracker at stop are expected, not errors.
  if (message.includes(STOPPED)) log.debug(message, f);
  else if (e.level === logLevel.ERROR) log.error(message, f);
  else if (e.level === logLevel.WARN) log.warn(message, f);
  else log.debug(message, f);
}
