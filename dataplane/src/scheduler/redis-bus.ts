/**
 * Redis adapter of the snapshot bus: reads the `klagg:<name>:snapshot` key and
 * subscribes to the `klagg:<name>:updates` channel (both written by the
 * gateway in one MULTI).
 *
 * Two connections, as Redis requires: a command connection for GET and a
 * subscriber connection. ioredis reconnects both on its own; the subscriber's
 * resubscription is done here (not by ioredis' autoResubscribe) so that the
 * listener hears `onResubscribed` only once the channel is really subscribed
 * again, and re-reads the key after that point, not before.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { Redis, type RedisOptions } from "ioredis";
import { SnapshotSchema, SnapshotUpdateSchema, type Snapshot } from "../gen/klagg/v1/snapshot_pb.js";
import { createLogger, RateLimitedLog, type Logger } from "../obs/log.js";
import type { SnapshotBus, SnapshotBusListener, SnapshotSubscription } from "./snapshot-bus.js";
import { snapshotKey, updatesChannel } from "./snapshot-bus.js";

/** Settings of the Redis snapshot bus. */
export interface RedisSnapshotBusOptions {
  /** redis://[user:password@]host:port[/db] */
  readonly url: string;
  /** Aggregator name: selects the key and channel. */
  readonly name: string;
  readonly log?: Logger;
  /** Longest wait between reconnect attempts. Default 1 s. */
  readonly maxReconnectDelayMs?: number;
}

/** Strips credentials from a Redis URL for logs. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "redis (unparseable url)";
  }
}

/** See the module comment. */
export class RedisSnapshotBus implements SnapshotBus {
  readonly description: string;
  private readonly log: Logger;
  private readonly badMessages: RateLimitedLog;
  private readonly key: string;
  private readonly channel: string;
  private readonly cmd: Redis;
  private readonly subs = new Set<Redis>();
  /** The command connection's latest error: ioredis reports a failed connect only as "Connection is closed". */
  private lastCmdError: Error | undefined;
  /** Updates that could not be decoded; counted for tests and metrics. */
  rejectedMessages = 0;

  constructor(private readonly opts: RedisSnapshotBusOptions) {
    this.description = `redis ${redactRedisUrl(opts.url)} ${snapshotKey(opts.name)}`;
    this.log = (opts.log ?? createLogger("snapshot-bus")).child({ bus: this.description });
    this.badMessages = new RateLimitedLog(this.log);
    this.key = snapshotKey(opts.name);
    this.channel = updatesChannel(opts.name);
    this.cmd = new Redis(opts.url, { ...this.clientOptions(), maxRetriesPerRequest: 1, lazyConnect: true });
    this.cmd.on("error", (err: Error) => {
      this.lastCmdError = err;
      this.log.debug("redis command connection error", { err });
    });
  }

  private clientOptions(): RedisOptions {
    const maxDelay = this.opts.maxReconnectDelayMs ?? 1000;
    return {
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), maxDelay),
      enableOfflineQueue: true,
      connectTimeout: 2000,
    };
  }

  async getLatest(): Promise<Snapshot | undefined> {
    let buf: Buffer | null;
    try {
      if (this.cmd.status === "wait") await this.cmd.connect();
      buf = await this.cmd.getBuffer(this.key);
    } catch (err) {
      const cause = this.lastCmdError;
      if (cause !== undefined && err instanceof Error && cause.message !== err.message) {
        throw new Error(`${err.message} (${cause.message})`, { cause: err });
      }
      throw err;
    }
    if (buf === null) return undefined;
    const snap = fromBinary(SnapshotSchema, buf);
    // The gateway's padding (fixed-slot layout) means nothing; its decoded value is a view that would keep
    // the whole received buffer alive.
    snap.padding = new Uint8Array(0);
    return snap;
  }

  async subscribe(listener: SnapshotBusListener): Promise<SnapshotSubscription> {
    const sub = new Redis(this.opts.url, {
      ...this.clientOptions(),
      autoResubscribe: false,
      // Commands on a subscriber wait for the connection instead of failing fast.
      maxRetriesPerRequest: null,
      lazyConnect: true,
    });
    this.subs.add(sub);
    let subscribedOnce = false;
    let closed = false;
    sub.on("error", (err: Error) => this.log.debug("redis subscriber connection error", { err }));
    sub.on("close", () => {
      if (subscribedOnce && !closed) this.log.warn("redis subscriber connection lost; reconnecting");
    });
    sub.on("messageBuffer", (ch: Buffer, msg: Buffer) => {
      if (ch.toString() !== this.channel) return;
      let update;
      try {
        update = fromBinary(SnapshotUpdateSchema, msg);
      } catch (err) {
        this.rejectedMessages++;
        this.badMessages.warn("bad_update", "undecodable snapshot update ignored", {
          err,
          bytes: msg.length,
        });
        // A lost update shows up as a gap at the next one; re-read right away anyway.
        listener.onResubscribed();
        return;
      }
      listener.onUpdate(update);
    });
    // After a reconnect: subscribe again, then tell the listener to re-read.
    sub.on("ready", () => {
      if (!subscribedOnce || closed) return;
      sub.subscribe(this.channel).then(
        () => {
          this.log.info("redis subscriber reconnected; re-reading the snapshot");
          listener.onResubscribed();
        },
        (err: unknown) => this.log.warn("resubscribing failed", { err }),
      );
    });
    try {
      await sub.connect();
      await sub.subscribe(this.channel);
    } catch (err) {
      // Do not leave a client reconnecting in the background of a failed start.
      closed = true;
      this.subs.delete(sub);
      sub.disconnect();
      throw new Error(
        `cannot subscribe to ${this.description}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    subscribedOnce = true;
    return {
      close: async () => {
        closed = true;
        this.subs.delete(sub);
        await quit(sub);
      },
    };
  }

  async close(): Promise<void> {
    const all = [...this.subs];
    this.subs.clear();
    await Promise.all([...all.map(quit), quit(this.cmd)]);
  }
}

/** QUIT when connected, otherwise just drop the connection (QUIT would wait for a reconnect). */
async function quit(c: Redis): Promise<void> {
  if (c.status === "ready") {
    await c.quit().catch(() => c.disconnect());
  } else {
    c.disconnect();
  }
}
