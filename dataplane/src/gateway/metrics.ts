/**
 * The gateway's Prometheus metrics. Created on a caller-supplied registry so
 * tests (and `klagg local`, which may run several components) get their own.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** Every metric the gateway updates. */
export interface GatewayMetrics {
  readonly tickDuration: Histogram<string>;
  readonly tickOverruns: Counter<string>;
  readonly snapshotSeq: Gauge<string>;
  readonly pullDuration: Histogram<"worker">;
  readonly pullFailures: Counter<"worker" | "cause">;
  readonly consecutiveTimeouts: Gauge<"worker">;
  readonly degraded: Gauge<"worker">;
  readonly rejectedKlines: Counter<"reason">;
  readonly symbolRefMisses: Counter<"worker">;
  readonly kafkaQueueDepth: Gauge<"kind">;
  readonly kafkaDroppedOpen: Counter<string>;
  readonly kafkaClosedOverflow: Counter<string>;
  readonly kafkaSentKlines: Counter<string>;
  readonly kafkaSendFailures: Counter<string>;
  readonly redisPublished: Counter<string>;
  readonly redisPublishFailures: Counter<string>;
}

const P = "klagg_gateway_";

/** Registers the gateway metrics on `registry`. */
export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  const registers = [registry];
  return {
    tickDuration: new Histogram({
      name: `${P}tick_duration_seconds`,
      help: "Wall time of one gateway tick: pulls, apply, snapshot encode and hand-off.",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    tickOverruns: new Counter({
      name: `${P}tick_overruns_total`,
      help: "Ticks that started late because the previous one overran its slot.",
      registers,
    }),
    snapshotSeq: new Gauge({
      name: `${P}snapshot_seq`,
      help: "Sequence number of the newest snapshot.",
      registers,
    }),
    pullDuration: new Histogram({
      name: `${P}worker_pull_duration_seconds`,
      help: "Latency of successful worker pulls.",
      labelNames: ["worker"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1],
      registers,
    }),
    pullFailures: new Counter({
      name: `${P}worker_pull_failures_total`,
      help: "Worker pulls that missed their deadline or failed, by cause.",
      labelNames: ["worker", "cause"],
      registers,
    }),
    consecutiveTimeouts: new Gauge({
      name: `${P}worker_consecutive_timeouts`,
      help: "Consecutive failed pulls of a worker (0 after a success).",
      labelNames: ["worker"],
      registers,
    }),
    degraded: new Gauge({
      name: `${P}worker_degraded`,
      help: "1 while a worker's consecutive failed pulls are at or above the alert threshold.",
      labelNames: ["worker"],
      registers,
    }),
    rejectedKlines: new Counter({
      name: `${P}rejected_klines_total`,
      help: "Klines from workers that do not fit the configured layout, by reason.",
      labelNames: ["reason"],
      registers,
    }),
    symbolRefMisses: new Counter({
      name: `${P}symbol_ref_misses_total`,
      help: "Klines whose symbol ref named another symbol than the kline's own (a worker bug; placed by name instead).",
      labelNames: ["worker"],
      registers,
    }),
    kafkaQueueDepth: new Gauge({
      name: `${P}kafka_queue_depth`,
      help: "Klines waiting in the Kafka hand-off queue, by kind (closed, open).",
      labelNames: ["kind"],
      registers,
    }),
    kafkaDroppedOpen: new Counter({
      name: `${P}kafka_dropped_open_total`,
      help: "Open-kline updates dropped because the Kafka hand-off queue was full.",
      registers,
    }),
    kafkaClosedOverflow: new Counter({
      name: `${P}kafka_closed_overflow_total`,
      help: "Closed klines refused by the full hand-off queue (not acked; the worker sends them again).",
      registers,
    }),
    kafkaSentKlines: new Counter({
      name: `${P}kafka_sent_klines_total`,
      help: "Klines acknowledged by Kafka.",
      registers,
    }),
    kafkaSendFailures: new Counter({
      name: `${P}kafka_send_failures_total`,
      help: "Failed Kafka sends (retried).",
      registers,
    }),
    redisPublished: new Counter({
      name: `${P}redis_published_total`,
      help: "Snapshots stored and announced in Redis.",
      registers,
    }),
    redisPublishFailures: new Counter({
      name: `${P}redis_publish_failures_total`,
      help: "Failed Redis snapshot publications.",
      registers,
    }),
  };
}
