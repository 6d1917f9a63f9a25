/**
 * The read scheduler: keeps a current copy of the gateway's snapshot from a
 * `SnapshotBus` and feeds it to registered handlers (analytics, the web view,
 * the demo's table).
 *
 * - Resync: the full snapshot is (re-)read on start, on a gap in `seq`, on a
 *   new gateway epoch, on a resubscription (e.g. Redis reconnect) and every
 *   `resyncEveryMs` as a safety net; updates arriving meanwhile are buffered
 *   and applied on top.
 * - Delivery: handlers run one at a time (never concurrently), round-robin,
 *   each always receiving the newest snapshot at the moment it is called. A slow
 *   handler therefore skips intermediate snapshots (latest-wins), never builds
 *   a backlog. A throwing handler is logged with its name and the error; the
 *   others keep running.
 */
import type { Snapshot, SnapshotUpdate } from "../gen/klagg/v1/snapshot_pb.js";
import { createLogger, type Logger } from "../obs/log.js";
import type { SnapshotBus, SnapshotSubscription } from "./snapshot-bus.js";
import { SnapshotState } from "./snapshot-state.js";
import { abortableSleep } from "../async/sleep.js";

/** A snapshot consumer. The snapshot is shared between handlers: do not mutate it. */
export type SnapshotHandler = (snapshot: Snapshot, signal: AbortSignal) => void | Promise<void>;

/** Tuning of a read scheduler. */
export interface ReadSchedulerOptions {
  readonly log?: Logger;
  /** Delay before retrying a failed snapshot read (doubles up to 5 s). Default 200 ms. */
  readonly retryMs?: number;
  /** Periodic full re-read; 0 disables. Default 60 s. */
  readonly resyncEveryMs?: number;
  /** Updates buffered during a resync beyond this are dropped (another resync follows). Default 10,000. */
  readonly maxBufferedUpdates?: number;
}

/** Counters of a read scheduler. */
export interface ReadSchedulerStats {
  updatesApplied: number;
  resyncs: number;
  resyncFailures: number;
  gaps: number;
  deliveries: number;
  /** Snapshots a handler never saw because a newer one was ready when it was called. */
  skipped: number;
  handlerErrors: number;
}

interface HandlerEntry {
  readonly name: string;
  readonly fn: SnapshotHandler;
  last: Snapshot | undefined;
}

/** See the module comment. */
export class ReadScheduler {
  private readonly log: Logger;
  private readonly retryMs: number;
  private readonly resyncEveryMs: number;
  private readonly maxBuffered: number;
  private readonly state = new SnapshotState();
  private readonly handlers: HandlerEntry[] = [];
  private nextHandler = 0;
  private readonly pending: SnapshotUpdate[] = [];
  private readonly retried = new WeakSet<SnapshotUpdate>();
  private resyncWanted = false;
  private resyncLoop: Promise<void> | undefined;
  private deliveryLoop: Promise<void> | undefined;
  private subscription: SnapshotSubscription | undefined;
  private periodic: NodeJS.Timeout | undefined;
  private ac = new AbortController();
  private started = false;
  private readonly counters: ReadSchedulerStats = {
    updatesApplied: 0,
    resyncs: 0,
    resyncFailures: 0,
    gaps: 0,
    deliveries: 0,
    skipped: 0,
    handlerErrors: 0,
  };

  constructor(
    private readonly bus: SnapshotBus,
    opts: ReadSchedulerOptions = {},
  ) {
    this.log = opts.log ?? createLogger("scheduler");
    this.retryMs = opts.retryMs ?? 200;
    this.resyncEveryMs = opts.resyncEveryMs ?? 60_000;
    this.maxBuffered = opts.maxBufferedUpdates ?? 10_000;
  }

  /** Adds a handler; it is called with the current snapshot soon. Returns an unregister function. */
  register(name: string, fn: SnapshotHandler): () => void {
    const entry: HandlerEntry = { name, fn, last: undefined };
    this.handlers.push(entry);
    this.kick();
    return () => {
      const i = this.handlers.indexOf(entry);
      if (i >= 0) this.handlers.splice(i, 1);
    };
  }

  /** The newest snapshot, or undefined before the first read. */
  current(): Snapshot | undefined {
    return this.state.snapshot();
  }

  stats(): Readonly<ReadSchedulerStats> {
    return { ...this.counters };
  }

  /**
   * Subscribes, then reads the full snapshot. Resolves once subscribed (the
   * first read may still be retrying while the bus is unreachable). `signal`
   * aborting is the same as `stop()`.
   */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.started) throw new Error("read scheduler already started");
    this.started = true;
    this.ac = new AbortController();
    signal?.addEventListener("abort", () => void this.stop(), { once: true });
    this.subscription = await this.bus.subscribe({
      onUpdate: (u) => this.onUpdate(u),
      onResubscribed: () => this.requestResync("resubscribed"),
    });
    if (this.resyncEveryMs > 0) {
      this.periodic = setInterval(() => this.requestResync("periodic"), this.resyncEveryMs);
      this.periodic.unref();
    }
    this.requestResync("start");
  }

  /** Stops reading and delivering; waits for a running handler to return. */
  async stop(): Promise<void> {
    if (!this.started || this.ac.signal.aborted) return;
    this.ac.abort();
    if (this.periodic) clearInterval(this.periodic);
    const sub = this.subscription;
    this.subscription = undefined;
    await sub?.close().catch((err: unknown) => this.log.warn("closing the subscription failed", { err }));
    await this.deliveryLoop;
    await this.resyncLoop;
  }

  /**
   * Resolves with the first delivered snapshot satisfying `pred`, or rejects when
   * `signal` aborts or the scheduler stops. Registered as a handler meanwhile.
   */
  waitFor(pred: (s: Snapshot) => boolean, signal?: AbortSignal): Promise<Snapshot> {
    return new Promise<Snapshot>((resolve, reject) => {
      const cur = this.current();
      if (cur && pred(cur)) return resolve(cur);
      const onAbort = (): void => {
        unregister();
        reject(new Error("aborted while waiting for a snapshot"));
      };
      const unregister = this.register(`waitFor#${this.handlers.length}`, (s) => {
        if (!pred(s)) return;
        unregister();
        signal?.removeEventListener("abort", onAbort);
        this.ac.signal.removeEventListener("abort", onAbort);
        resolve(s);
      });
      signal?.addEventListener("abort", onAbort, { once: true });
      this.ac.signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  private onUpdate(u: SnapshotUpdate): void {
    if (this.ac.signal.aborted) return;
    if (this.resyncLoop !== undefined) {
      this.buffer(u);
      return;
    }
    const r = this.state.apply(u);
    if (r === "applied") {
      this.counters.updatesApplied++;
      this.kick();
    } else if (r !== "stale") {
      if (r === "gap") this.counters.gaps++;
      this.buffer(u);
      this.requestResync(r === "gap" ? `seq gap (have ${this.state.seq}, got ${u.seq})` : r);
    }
  }

  private buffer(u: SnapshotUpdate): void {
    if (this.pending.length >= this.maxBuffered) {
      // Too far behind: forget the backlog, the next read of the key covers it.
      this.pending.length = 0;
      this.resyncWanted = true;
    }
    this.pending.push(u);
  }

  private requestResync(reason: string): void {
    if (this.ac.signal.aborted) return;
    this.resyncWanted = true;
    if (this.resyncLoop !== undefined) return;
    if (reason !== "periodic" && reason !== "start") this.log.info("re-reading the snapshot", { reason });
    this.resyncLoop = this.runResync().finally(() => {
      this.resyncLoop = undefined;
      // Updates may have arrived between the loop's last drain and now.
      if (this.pending.length > 0 && !this.ac.signal.aborted) {
        this.drainPending();
        if (this.resyncWanted) this.requestResync("buffered update needs a re-read");
      }
    });
  }

  private async runResync(): Promise<void> {
    let delay = this.retryMs;
    while (this.resyncWanted && !this.ac.signal.aborted) {
      this.resyncWanted = false;
      let snap: Snapshot | undefined;
      try {
        snap = await this.bus.getLatest();
      } catch (err) {
        this.counters.resyncFailures++;
        this.log.warn("reading the snapshot failed; retrying", {
          bus: this.bus.description,
          err,
          delay_ms: delay,
        });
        this.resyncWanted = true;
        await abortableSleep(delay, this.ac.signal);
        delay = Math.min(delay * 2, 5000);
        continue;
      }
      delay = this.retryMs;
      this.counters.resyncs++;
      if (snap !== undefined) this.adopt(snap);
      this.drainPending();
    }
  }

  /** Takes a freshly read snapshot unless the state already is newer in the same epoch. */
  private adopt(snap: Snapshot): void {
    const seq = this.state.seq;
    if (snap.gatewayEpoch === this.state.epoch && seq !== undefined && snap.seq <= seq) return;
    this.state.reset(snap);
    this.kick();
  }

  /**
   * Applies buffered updates on top of a fresh read. The key is written in the
   * same MULTI as an update is published, so a read issued after receiving an
   * update covers it; an update that still does not fit was received while the
   * read was in flight: it gets one more read, then is dropped (logged).
   */
  private drainPending(): void {
    const updates = this.pending.splice(0);
    for (const u of updates) {
      const r = this.state.apply(u);
      if (r === "applied") {
        this.counters.updatesApplied++;
        this.kick();
        continue;
      }
      if (r === "stale") continue;
      if (r === "gap") this.counters.gaps++;
      if (this.retried.has(u)) {
        this.log.warn("dropping an update that does not fit the stored snapshot", {
          result: r,
          update_seq: u.seq,
          update_epoch: u.gatewayEpoch,
          state_seq: this.state.seq,
          state_epoch: this.state.epoch,
        });
        continue;
      }
      this.retried.add(u);
      this.pending.push(u);
      this.resyncWanted = true;
    }
  }

  private kick(): void {
    if (this.deliveryLoop !== undefined || this.ac.signal.aborted || !this.started) return;
    if (this.state.snapshot() === undefined || this.handlers.length === 0) return;
    this.deliveryLoop = this.deliver().finally(() => {
      this.deliveryLoop = undefined;
      // A change may have raced with the loop's exit.
      if (this.handlers.some((h) => h.last !== this.state.snapshot())) this.kick();
    });
  }

  private async deliver(): Promise<void> {
    while (!this.ac.signal.aborted) {
      const snap = this.state.snapshot();
      if (snap === undefined) return;
      const h = this.pickHandler(snap);
      if (h === undefined) return;
      const prev = h.last;
      if (prev !== undefined && prev.gatewayEpoch === snap.gatewayEpoch && snap.seq > prev.seq + 1n) {
        this.counters.skipped += Number(snap.seq - prev.seq - 1n);
      }
      h.last = snap;
      this.counters.deliveries++;
      try {
        await h.fn(snap, this.ac.signal);
      } catch (err) {
        this.counters.handlerErrors++;
        this.log.error("snapshot handler failed", { handler: h.name, err, seq: snap.seq });
      }
      // Let publishers and the bus run between handlers, so the next one gets the newest snapshot.
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  /** The next handler (round-robin) that has not seen `snap`. */
  private pickHandler(snap: Snapshot): HandlerEntry | undefined {
    const n = this.handlers.length;
    for (let i = 0; i < n; i++) {
      const idx = (this.nextHandler + i) % n;
      const h = this.handlers[idx];
      if (h !== undefined && h.last !== snap) {
        this.nextHandler = (idx + 1) % n;
        return h;
      }
    }
    return undefined;
  }
}
