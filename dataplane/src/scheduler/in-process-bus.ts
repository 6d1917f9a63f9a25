/**
 * In-process snapshot bus: the gateway publishes into it and readers in the
 * same process subscribe, with the same semantics as the Redis adapter (the
 * latest snapshot is stored, every update is fanned out). Used by `klagg local`
 * when no Redis is configured, and by unit tests.
 */
import type { Snapshot, SnapshotUpdate } from "../gen/klagg/v1/snapshot_pb.js";
import type { SnapshotBus, SnapshotBusListener, SnapshotSubscription } from "./snapshot-bus.js";

/** Both ends of an in-memory bus; `publish` mirrors the Redis MULTI (store + publish). */
export class InProcessSnapshotBus implements SnapshotBus {
  readonly description = "in-process";
  private latest: Snapshot | undefined;
  private readonly listeners = new Set<SnapshotBusListener>();
  private closed = false;

  /**
   * Stores `snapshot` as the latest and delivers `update` to every listener.
   * Delivery is deferred to a microtask so a slow or throwing listener never runs
   * inside the publisher's tick; the order of updates is preserved.
   */
  async publish(snapshot: Snapshot, update: SnapshotUpdate): Promise<void> {
    if (this.closed) throw new Error("in-process snapshot bus is closed");
    this.latest = snapshot;
    const targets = [...this.listeners];
    await Promise.resolve();
    for (const l of targets) {
      try {
        l.onUpdate(update);
      } catch {
        // A listener's failure is its own business; the publisher must not be affected.
      }
    }
  }

  async getLatest(): Promise<Snapshot | undefined> {
    return this.latest;
  }

  async subscribe(listener: SnapshotBusListener): Promise<SnapshotSubscription> {
    if (this.closed) throw new Error("in-process snapshot bus is closed");
    this.listeners.add(listener);
    return {
      close: async () => {
        this.listeners.delete(listener);
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
  }
}
