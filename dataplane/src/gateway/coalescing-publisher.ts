/**
 * The common behaviour of snapshot publishers: `publish` returns at once;
 * one delivery runs at a time; while it runs, only the newest snapshot waits
 * (older ones are skipped: readers see the seq gap and re-read the snapshot).
 * A failed delivery is reported to the subclass and the newest snapshot can be
 * re-delivered with `republishLatest` (e.g. when a connection comes back).
 * Every snapshot waiting or being delivered is leased, so its pooled bytes
 * stay intact. The newest one is remembered without a lease (a lease would
 * keep the gateway from patching that buffer in place next tick): when it is
 * republished it is leased again if its bytes are still intact, and otherwise
 * a newer snapshot is being published anyway.
 */
import type { GatewaySnapshot, SnapshotLease, SnapshotPublisher } from "./ports.js";

/** A snapshot held (with its own lease) until it is delivered or replaced. */
interface Pending {
  readonly snap: GatewaySnapshot;
  readonly traceparent: string;
  readonly lease: SnapshotLease;
}

/** Base class of the Redis and in-process publishers. */
export abstract class CoalescingPublisher implements SnapshotPublisher {
  abstract readonly name: string;
  private pending: Pending | undefined;
  private newest: { readonly snap: GatewaySnapshot; readonly traceparent: string } | undefined;
  private busy: Promise<void> | undefined;
  /** Seq of the newest snapshot delivered successfully (0 before the first). */
  deliveredSeq = 0;
  /** Snapshots that were replaced by a newer one before delivery. */
  skipped = 0;

  /** Delivers one snapshot; a rejection is passed to `onFailure`. */
  protected abstract deliver(snap: GatewaySnapshot, traceparent: string): Promise<void>;
  /** Called for every failed delivery (must not throw). */
  protected abstract onFailure(err: unknown, snap: GatewaySnapshot): void;
  /** Called for every successful delivery (must not throw). */
  protected onSuccess(_snap: GatewaySnapshot): void {}
  /** Releases resources after the final delivery. */
  protected async close(): Promise<void> {}
  /**
   * True when the bytes of a failed delivery may still be read by someone (e.g. a socket
   * write pending after a timeout): the buffer is then abandoned instead of recycled.
   */
  protected readonly abandonOnFailure: boolean = false;

  publish(snapshot: GatewaySnapshot, traceparent: string): void {
    if (this.pending !== undefined) {
      this.skipped++;
      this.pending.lease.release();
    }
    this.pending = { snap: snapshot, traceparent, lease: snapshot.retain() };
    this.newest = { snap: snapshot, traceparent };
    this.busy ??= this.drain();
  }

  /** Queues the newest snapshot again unless a newer one is already waiting or it was delivered. */
  republishLatest(): void {
    const n = this.newest;
    if (n === undefined || this.pending !== undefined || n.snap.seq <= this.deliveredSeq) return;
    const lease = n.snap.tryRetain();
    if (lease === undefined) return;
    this.pending = { snap: n.snap, traceparent: n.traceparent, lease };
    this.busy ??= this.drain();
  }

  private async drain(): Promise<void> {
    while (this.pending !== undefined) {
      const p = this.pending;
      this.pending = undefined;
      try {
        await this.deliver(p.snap, p.traceparent);
        p.lease.release();
        this.deliveredSeq = Math.max(this.deliveredSeq, p.snap.seq);
        this.onSuccess(p.snap);
      } catch (err) {
        if (this.abandonOnFailure) p.lease.abandon();
        else p.lease.release();
        this.onFailure(err, p.snap);
      }
    }
    this.busy = undefined;
  }

  /** Waits up to `timeoutMs` for the delivery in progress (and the one waiting), then closes. */
  async stop(timeoutMs: number): Promise<void> {
    if (this.busy !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.busy, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
    }
    this.pending?.lease.release();
    this.pending = undefined;
    this.newest = undefined;
    await this.close();
  }
}
