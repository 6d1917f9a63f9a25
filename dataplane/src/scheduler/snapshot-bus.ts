/**
 * The snapshot bus port: how snapshot consumers (the read scheduler, `klagg
 * snapshot`, the demo's live table) reach what the gateway publishes.
 *
 * Adapters: Redis (`redis-bus.ts`: the `klagg:<name>:snapshot` key and the
 * `klagg:<name>:updates` channel) and in-process (`in-process-bus.ts`, for
 * `klagg local` without Redis).
 */
import type { Snapshot, SnapshotUpdate } from "../gen/klagg/v1/snapshot_pb.js";

/** Receives what a bus subscription delivers. */
export interface SnapshotBusListener {
  /** One published update, in publication order as far as the transport guarantees it. */
  onUpdate(update: SnapshotUpdate): void;
  /**
   * The subscription was re-established after a loss (e.g. a Redis reconnect):
   * updates may have been missed in between, so the reader must re-read the snapshot.
   */
  onResubscribed(): void;
}

/** A live subscription; `close` stops delivery. */
export interface SnapshotSubscription {
  close(): Promise<void>;
}

/** Read side of the place the gateway publishes to. */
export interface SnapshotBus {
  /** Human-readable description for logs (never contains credentials). */
  readonly description: string;
  /** The newest stored snapshot, or undefined when none has been published yet. */
  getLatest(): Promise<Snapshot | undefined>;
  /** Starts delivering updates to `listener`; resolves once the subscription is active. */
  subscribe(listener: SnapshotBusListener): Promise<SnapshotSubscription>;
  /** Releases connections; subscriptions end. */
  close(): Promise<void>;
}

/** Redis key holding the newest `Snapshot` of aggregator `name` (the gateway's publisher writes it). */
export function snapshotKey(name: string): string {
  return `klagg:${name}:snapshot`;
}

/** Redis channel carrying the `SnapshotUpdate`s of aggregator `name`. */
export function updatesChannel(name: string): string {
  return `klagg:${name}:updates`;
}
