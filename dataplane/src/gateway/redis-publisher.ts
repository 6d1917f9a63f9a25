/**
 * Redis adapter of the snapshot publisher: each delivery is one MULTI that
 * SETs `klagg:<name>:snapshot` to the Snapshot bytes and PUBLISHes the
 * SnapshotUpdate on `klagg:<name>:updates`.
 *
 * A Redis outage never reaches the tick: commands fail fast while
 * disconnected (no offline queue), every failure is counted and logged
 * (rate-limited), ioredis keeps reconnecting, and once the connection is
 * ready again the newest snapshot is published at once (readers see a seq gap
 * and re-read the key). After a failed MULTI the socket may still hold the
 * snapshot bytes for writing, so that buffer is abandoned, never recycled.
 */
import { Redis } from "ioredis";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { RateLimitedLog, type Logger } from "../obs/log.js";
import { CoalescingPublisher } from "./coalescing-publisher.js";
import type { GatewayMetrics } from "./metrics.js";
import type { GatewaySnapshot } from "./ports.js";
import { contextOf } from "./trace-context.js";

/** Settings of the Redis publisher. */
export interface RedisPublisherOptions {
  readonly url: string;
  /** The aggregator name (`klagg:<name>:...`). */
  readonly name: string;
  /** A MULTI that takes longer fails (and is retried with the next snapshot). */
  readonly commandTimeoutMs?: number;
}

const tracer = trace.getTracer("klagg-gateway");

/** Redis key of the newest snapshot of aggregator `name`. */
export const snapshotKeyOf = (name: string): string => `klagg:${name}:snapshot`;
/** Redis channel of the updates of aggregator `name`. */
export const updatesChannelOf = (name: string): string => `klagg:${name}:updates`;

/** Publishes snapshots to Redis; never blocks or throws into the tick. */
export class RedisPublisher extends CoalescingPublisher {
  readonly name = "redis";
  private readonly client: Redis;
  private readonly key: string;
  private readonly channel: string;
  private readonly errors: RateLimitedLog;
  private failing = false;
  protected override readonly abandonOnFailure = true;

  constructor(
    opts: RedisPublisherOptions,
    private readonly log: Logger,
    private readonly metrics: GatewayMetrics,
  ) {
    super();
    this.key = snapshotKeyOf(opts.name);
    this.channel = updatesChannelOf(opts.name);
    this.errors = new RateLimitedLog(log, 5000);
    this.client = new Redis(opts.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: opts.commandTimeoutMs ?? 2000,
      connectTimeout: 2000,
      // Keep trying for ever, never slower than once a second.
      retryStrategy: (times) => Math.min(50 * times, 1000),
      lazyConnect: false,
    });
    this.client.on("error", (err: unknown) =>
      this.errors.warn("redis_connection", "redis connection error", { err }),
    );
    this.client.on("ready", () => {
      if (this.failing) this.log.info("redis connection ready; republishing the newest snapshot");
      this.republishLatest();
    });
  }

  protected async deliver(snap: GatewaySnapshot, traceparent: string): Promise<void> {
    const span = tracer.startSpan(
      "redis.publish",
      {
        kind: SpanKind.CLIENT,
        attributes: {
          "db.system": "redis",
          "klagg.seq": snap.seq,
          "klagg.snapshot_bytes": snap.bytes.length,
        },
      },
      contextOf(traceparent),
    );
    try {
      if (this.client.status !== "ready") throw new Error(`redis not connected (${this.client.status})`);
      const res = await this.client
        .multi()
        .set(this.key, Buffer.from(snap.bytes.buffer, snap.bytes.byteOffset, snap.bytes.byteLength))
        .publish(
          this.channel,
          Buffer.from(snap.updateBytes.buffer, snap.updateBytes.byteOffset, snap.updateBytes.byteLength),
        )
        .exec();
      const failed = res?.find(([err]) => err !== null);
      if (res === null || failed !== undefined) throw failed?.[0] ?? new Error("redis MULTI was discarded");
    } catch (err) {
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: err instanceof Error ? err.message : String(err),
      });
      throw err;
    } finally {
      span.end();
    }
  }

  protected override onSuccess(snap: GatewaySnapshot): void {
    this.metrics.redisPublished.inc();
    if (this.failing) {
      this.failing = false;
      this.log.info("redis publishing recovered", { seq: snap.seq });
    }
  }

  protected onFailure(err: unknown, snap: GatewaySnapshot): void {
    this.metrics.redisPublishFailures.inc();
    if (!this.failing) {
      this.failing = true;
      this.log.error("redis publish failed; the tick goes on, the newest snapshot is published on recovery", {
        err,
        seq: snap.seq,
      });
    } else {
      this.errors.warn("redis_publish", "redis publish still failing", { err, seq: snap.seq });
    }
  }

  protected override async close(): Promise<void> {
    this.client.disconnect();
  }
}
