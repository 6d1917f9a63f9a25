/**
 * Wires a gateway from its configuration: gRPC worker clients, the Redis
 * publisher (when KLAGG_REDIS_URL is set), the Kafka hand-off (when
 * KLAGG_KAFKA_BROKERS is set), plus whatever the caller adds. `klagg gateway`
 * and `klagg local` both build their gateway here.
 *
 * Example (klagg local without Redis):
 *   const gw = createGateway(config, { publishers: [new InProcessPublisher(bus, log)] });
 *   gw.start(signal); ... await gw.stop();
 */
import { register, type Registry } from "prom-client";
import type { GatewayConfig, WorkerEndpoint } from "../config/gateway.js";
import { WorkerClient } from "../grpc/worker-client.js";
import { createLogger, type Logger } from "../obs/log.js";
import { DurableAckPuller } from "./durable-ack.js";
import { Gateway } from "./gateway.js";
import { StateLayout } from "./global-state.js";
import { KafkaHandoff } from "./kafka-handoff.js";
import { KafkaJsProducer } from "./kafka-producer.js";
import { createGatewayMetrics } from "./metrics.js";
import type { KafkaProducerPort, SnapshotPublisher, WorkerPuller } from "./ports.js";
import { RedisPublisher } from "./redis-publisher.js";

/** Optional overrides of the gateway's collaborators. */
export interface GatewayDeps {
  readonly log?: Logger;
  /** Metrics registry (default: prom-client's global registry, which `obs/metrics.ts` serves). */
  readonly registry?: Registry;
  /** How to reach a worker (default: a gRPC `WorkerClient`). */
  readonly pullerFor?: (w: WorkerEndpoint) => WorkerPuller;
  /** Extra snapshot publishers (e.g. `InProcessPublisher`), besides Redis when configured. */
  readonly publishers?: readonly SnapshotPublisher[];
  /** Replaces the kafkajs producer (used when set, even without KLAGG_KAFKA_BROKERS). */
  readonly kafkaProducer?: KafkaProducerPort;
  readonly now?: () => number;
}

/** Builds a gateway (not started). */
export function createGateway(config: GatewayConfig, deps: GatewayDeps = {}): Gateway {
  const log = deps.log ?? createLogger("gateway");
  const metrics = createGatewayMetrics(deps.registry ?? register);
  // Raw klines: the gateway copies the workers' kline bytes into its snapshot instead of decoding and re-encoding them.
  const pullerFor =
    deps.pullerFor ?? ((w: WorkerEndpoint) => new WorkerClient(w.address, { name: w.name, rawKlines: true }));
  const publishers: SnapshotPublisher[] = [...(deps.publishers ?? [])];
  if (config.redisUrl !== undefined) {
    publishers.push(
      new RedisPublisher(
        { url: config.redisUrl, password: config.redisPassword, name: config.name },
        log,
        metrics,
      ),
    );
  }
  let producer = deps.kafkaProducer;
  if (producer === undefined && config.kafkaBrokers.length > 0) {
    producer = new KafkaJsProducer(
      { brokers: config.kafkaBrokers, sasl: config.kafkaSasl, topic: config.kafkaTopic },
      log,
    );
  }
  const kafka =
    producer === undefined
      ? undefined
      : new KafkaHandoff(
          producer,
          new StateLayout(config.symbols, config.intervals),
          { aggregator: config.name, limit: config.kafkaQueueLimit },
          log,
          metrics,
        );
  if (kafka === undefined)
    log.warn("no Kafka configured: klines reach snapshot readers only, nothing is stored");
  // With Kafka, workers are acked only up to what Kafka confirmed (see durable-ack.ts); without, after apply.
  const puller = (w: WorkerEndpoint): WorkerPuller =>
    kafka === undefined ? pullerFor(w) : new DurableAckPuller(pullerFor(w), kafka);
  return new Gateway(config, {
    workers: config.workers.map((endpoint) => ({ endpoint, puller: puller(endpoint) })),
    publishers,
    kafka,
    log,
    metrics,
    now: deps.now,
  });
}
