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
import { Command, Redis } from "ioredis";
import { SpanKind, trace } from "@opentelemetry/api";
import { RateLimitedLog, type Logger } from "../obs/log.js";
import { endSpanAfter } from "../obs/spans.js";
// The key and channel names are defined once, next to their readers.
import { snapshotKey, updatesChannel } from "../scheduler/snapshot-bus.js";
import { CoalescingPublisher } from "./coalescing-publisher.js";
import type { GatewayMetrics } from "./metrics.js";
import type { GatewaySnapshot } from "./ports.js";
import { contextOf } from "./trace-context.js";

/** Settings of the Redis publisher. */
export interface RedisPublisherOptions {
  readonly url: string;
  /** AUTH password kept out of the URL (KLAGG_REDIS_PASSWORD, from a Secret in Kubernetes). */
  readonly password?: string;
  /** The aggregator name (`klagg:<name>:...`). */
  readonly name: string;
  /** A MULTI that takes longer fails (and is retried with the next snapshot). */
  readonly commandTimeoutMs?: number;
}

const tracer = trace.getTracer("klagg-gateway");

/**
 * A `SET key value` / `PUBLISH channel message` whose value goes to the socket as it is. ioredis
 * otherwise copies all Buffer arguments of a command into one new buffer (and a pipelined MULTI
 * copies the whole pipeline once more): two fresh 16 MB buffers per tick, which cost page faults
 * and, as external memory, bring V8's full GCs closer. Only valid outside a pipeline: ioredis then
 * writes what `toWritable` returns to the same socket right after, so the order is kept.
 */
class PayloadCommand extends Command {
  constructor(
    name: "set" | "publish",
    private readonly target: string,
    private readonly payload: Buffer,
  ) {
    super(name, [target, payload], { replyEncoding: "utf8" });
  }

  override toWritable(socket: object): string {
    const sock = socket as { write(chunk: string | Buffer): unknown };
    sock.write(
      `*3\r\n$${this.name.length}\r\n${this.name}\r\n` +
        `$${Buffer.byteLength(this.target)}\r\n${this.target}\r\n$${this.payload.length}\r\n`,
    );
    sock.write(this.payload);
    return "\r\n";
  }
}

/** A Buffer over the same bytes (no copy). */
const bufferOf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

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
    this.key = snapshotKey(opts.name);
    this.channel = updatesChannel(opts.name);
    this.errors = new RateLimitedLog(log, 5000);
    this.client = new Redis(opts.url, {
      ...(opts.password === undefined ? {} : { password: opts.password }),
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
    await endSpanAfter(span, async () => {
      if (this.client.status !== "ready") throw new Error(`redis not connected (${this.client.status})`);
      // MULTI as separate commands (not a pipeline), so the large values are written without copies.
      const c = this.client;
      const [, , , res] = await Promise.all([
        c.multi({ pipeline: false }),
        c.sendCommand(new PayloadCommand("set", this.key, bufferOf(snap.bytes))),
        c.sendCommand(new PayloadCommand("publish", this.channel, bufferOf(snap.updateBytes))),
        c.exec(),
      ]);
      // Outside a pipeline EXEC answers the raw replies: OK for SET, the receiver count for PUBLISH.
      if (!Array.isArray(res) || res.length !== 2 || res.some((r) => r instanceof Error)) {
        throw new Error(`redis MULTI failed: ${String(res)}`);
      }
    });
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
