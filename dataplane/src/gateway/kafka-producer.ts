/**
 * kafkajs adapter of the gateway's Kafka producer port: an idempotent
 * producer (acks from all in-sync replicas, one request in flight, so retries
 * neither duplicate nor reorder), connected lazily and reconnected on failure.
 */
import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import type { KafkaSasl } from "../config/connections.js";
import { kafkaSaslOption, SocketTracker } from "../kafka/client-support.js";
import type { Logger } from "../obs/log.js";
import type { KafkaProducerPort, KafkaRecord } from "./ports.js";

/** Settings of the producer. */
export interface KafkaProducerOptions {
  readonly brokers: readonly string[];
  /** SASL credentials; undefined: none. */
  readonly sasl?: KafkaSasl;
  readonly topic: string;
  readonly clientId?: string;
  /** Per-request timeout; a send that takes longer fails and the hand-off retries it. */
  readonly requestTimeoutMs?: number;
}

/** Sends records to one topic with acks=-1. */
export class KafkaJsProducer implements KafkaProducerPort {
  private readonly kafka: Kafka;
  /** kafkajs leaks sockets after a broker restart; closing them at stop lets the process exit. */
  private readonly sockets = new SocketTracker();
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;

  constructor(
    private readonly opts: KafkaProducerOptions,
    private readonly log: Logger,
  ) {
    this.kafka = new Kafka({
      clientId: opts.clientId ?? "klagg-gateway",
      brokers: [...opts.brokers],
      requestTimeout: opts.requestTimeoutMs ?? 10_000,
      connectionTimeout: 3000,
      // The hand-off queue retries with its own backoff; kafkajs only retries briefly.
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
      logLevel: logLevel.NOTHING,
      socketFactory: this.sockets.factory,
      ...kafkaSaslOption(opts.sasl),
    });
  }

  private connect(): Promise<Producer> {
    if (this.producer !== undefined) return Promise.resolve(this.producer);
    this.connecting ??= (async () => {
      const p = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: true,
        // Explicit (kafkajs 2 otherwise warns): murmur2 like the Java client, so a symbol's records land on
        // the partition any Kafka client would pick for that key.
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      try {
        await p.connect();
      } catch (err) {
        this.connecting = undefined;
        await p.disconnect().catch(() => undefined);
        throw err;
      }
      p.on(p.events.DISCONNECT, () => {
        this.producer = undefined;
        this.connecting = undefined;
      });
      this.producer = p;
      this.log.info("kafka producer connected", { brokers: this.opts.brokers, topic: this.opts.topic });
      return p;
    })();
    return this.connecting;
  }

  async send(records: readonly KafkaRecord[]): Promise<void> {
    const p = await this.connect();
    try {
      await p.send({
        topic: this.opts.topic,
        acks: -1,
        messages: records.map((r) => ({
          key: r.key,
          value: Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength),
          headers: { ...r.headers },
        })),
      });
    } catch (err) {
      // Start from a fresh connection next time (the broker may have restarted).
      this.producer = undefined;
      this.connecting = undefined;
      await p.disconnect().catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    const p = this.producer ?? (this.connecting ? await this.connecting.catch(() => undefined) : undefined);
    this.producer = undefined;
    this.connecting = undefined;
    await p?.disconnect().catch(() => undefined);
    const leaked = this.sockets.destroyAll();
    if (leaked > 0) this.log.info("closed kafka sockets the client left open", { sockets: leaked });
  }
}
