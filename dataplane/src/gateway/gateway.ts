/**
 * The gateway core: the tick loop over ports (no gRPC, Redis or Kafka here).
 *
 * Each tick: pull every worker concurrently, each under its own strict
 * deadline; apply the answers to the flat global state; encode the tick's
 * immutable snapshot; hand closed and changed klines to the Kafka queue;
 * publish the snapshot; then ack, in the next pull, the versions that are
 * now applied and handed off (`createGateway` wraps the pullers so that, with
 * Kafka, only what Kafka confirmed is acked: see durable-ack.ts). A worker
 * that failed keeps its last data in the state (nothing of it changes this
 * tick) and its ack does not move, so the next successful pull brings
 * everything it missed.
 *
 * Ownership: a full answer (new worker epoch) overwrites the slots it
 * carries. Slots of symbols a worker no longer owns keep their last kline
 * until the new owner writes them; no worker is responsible for them in between.
 */
import { context, trace } from "@opentelemetry/api";
import type { GatewayConfig, WorkerEndpoint } from "../config/gateway.js";
import { RateLimitedLog, type Logger } from "../obs/log.js";
import { endSpanAfter } from "../obs/spans.js";
import { ApplyScratch, applyResults, closedCount, klineCount } from "./apply-results.js";
import { GlobalState, StateLayout } from "./global-state.js";
import type { KafkaHandoff } from "./kafka-handoff.js";
import type { GatewayMetrics } from "./metrics.js";
import type { GatewaySnapshot, PullResult, SnapshotPublisher, WorkerPuller } from "./ports.js";
import { SnapshotBuilder } from "./snapshot-builder.js";
import { formatTraceparent } from "./trace-context.js";
import { WorkerHealth, PullDeadlineError, classifyPullError } from "./worker-health.js";

/** The gateway's collaborators. */
export interface GatewayPorts {
  readonly workers: readonly { readonly endpoint: WorkerEndpoint; readonly puller: WorkerPuller }[];
  readonly publishers: readonly SnapshotPublisher[];
  /** Absent when no Kafka is configured (klines then only reach snapshot readers). */
  readonly kafka?: KafkaHandoff;
  readonly log: Logger;
  readonly metrics: GatewayMetrics;
  /** Wall clock (snapshot times, gateway epoch); defaults to Date.now. */
  readonly now?: () => number;
}

/** Pull-protocol view of one worker. */
export interface WorkerStatus {
  readonly name: string;
  readonly address: string;
  readonly epoch: number;
  readonly ackVersion: number;
  readonly consecutiveFailures: number;
  readonly degraded: boolean;
  readonly sourceDone: boolean;
}

/** What one tick did (for `klagg local`, tests and logs). */
export interface TickReport {
  readonly snapshot: GatewaySnapshot;
  readonly durationMs: number;
  readonly failedWorkers: readonly string[];
}

interface WorkerSlot {
  readonly endpoint: WorkerEndpoint;
  readonly puller: WorkerPuller;
  readonly health: WorkerHealth;
  epoch: number;
  ackVersion: number;
  sourceDone: boolean;
}

const tracer = trace.getTracer("klagg-gateway");

/** The gateway tick loop. */
export class Gateway {
  readonly gatewayEpoch: number;
  private readonly state: GlobalState;
  private readonly builder: SnapshotBuilder;
  private readonly workers: WorkerSlot[];
  private readonly scratch: ApplyScratch;
  private readonly accept: Uint8Array;
  private readonly forward: Uint8Array;
  private readonly rejects: RateLimitedLog;
  private readonly now: () => number;
  private readonly listeners = new Set<(r: TickReport) => void>();
  private seq = 0;
  private latest: GatewaySnapshot | undefined;
  private loop: Promise<void> | undefined;
  private stopped = false;
  private wakeSleep: (() => void) | undefined;

  constructor(
    private readonly config: GatewayConfig,
    private readonly ports: GatewayPorts,
  ) {
    this.now = ports.now ?? Date.now;
    this.gatewayEpoch = this.now();
    this.state = new GlobalState(new StateLayout(config.symbols, config.intervals));
    this.scratch = new ApplyScratch(this.state.layout);
    this.builder = new SnapshotBuilder(this.state, config.name, this.gatewayEpoch);
    this.workers = ports.workers.map(({ endpoint, puller }) => ({
      endpoint,
      puller,
      health: new WorkerHealth(
        endpoint.name,
        config.timeoutAlertThreshold,
        ports.log,
        ports.metrics,
        this.now,
      ),
      epoch: 0,
      ackVersion: 0,
      sourceDone: false,
    }));
    this.accept = new Uint8Array(this.workers.length);
    this.forward = new Uint8Array(this.workers.length);
    this.rejects = new RateLimitedLog(ports.log, 5000, this.now);
  }

  /** Starts ticking every `tickMs`; `signal` aborting stops the gateway like `stop()`. */
  start(signal?: AbortSignal): void {
    if (this.loop !== undefined) return;
    signal?.addEventListener("abort", () => void this.stop(), { once: true });
    this.ports.kafka?.start();
    this.ports.log.info("gateway started", {
      name: this.config.name,
      workers: this.workers.map((w) => `${w.endpoint.name}=${w.endpoint.address}`),
      tick_ms: this.config.tickMs,
      pull_deadline_ms: this.config.pullDeadlineMs,
      slots: this.state.layout.slotCount,
      gateway_epoch: this.gatewayEpoch,
    });
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    await this.connectWorkers();
    let next = performance.now();
    while (!this.stopped) {
      await this.tickOnce().catch((err: unknown) => this.ports.log.error("gateway tick failed", { err }));
      next += this.config.tickMs;
      const now = performance.now();
      if (next < now) {
        this.ports.metrics.tickOverruns.inc();
        next = now;
      }
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, next - now);
        this.wakeSleep = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeSleep = undefined;
    }
  }

  /**
   * Waits (bounded) until every worker's connection is up, so the first ticks do not miss their
   * deadlines on connection setup (and raise alerts at startup). A worker that is not reachable yet
   * is only noted: the tick loop's timeouts and alerts take over from there.
   */
  private async connectWorkers(): Promise<void> {
    const bound = Math.max(1000, 10 * this.config.tickMs);
    await Promise.all(
      this.workers.map(async (w) => {
        if (w.puller.connect === undefined) return;
        try {
          await w.puller.connect(bound);
        } catch (err) {
          this.ports.log.warn("worker not reachable before the first tick; pulling anyway", {
            worker: w.endpoint.name,
            address: w.endpoint.address,
            waited_ms: bound,
            err,
          });
        }
      }),
    );
  }

  /**
   * Stops ticking after the current tick, then lets every publisher publish
   * the newest snapshot and flushes the Kafka queue (bounded by the shutdown flush time).
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wakeSleep?.();
    await this.loop;
    const bound = this.config.shutdownFlushMs;
    await Promise.all([
      ...this.ports.publishers.map((p) => p.stop(bound)),
      this.ports.kafka?.stop(bound) ?? Promise.resolve(),
    ]);
    await Promise.all(this.workers.map(async (w) => w.puller.close?.()));
    this.ports.log.info("gateway stopped", { last_seq: this.seq });
  }

  /** Registers a listener called after every tick; returns its removal. */
  onTick(listener: (r: TickReport) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The newest snapshot, if any tick ran; its bytes stay valid until the next tick unless `retain()`ed. */
  latestSnapshot(): GatewaySnapshot | undefined {
    return this.latest;
  }

  /** How the snapshot bytes were produced so far (bench, tests; see `SnapshotBuilder`). */
  snapshotStats(): {
    inPlace: number;
    relayouts: number;
    regroups: number;
    fullCopies: number;
    buffersAllocated: number;
    updateBuffersAllocated: number;
  } {
    const b = this.builder;
    return {
      inPlace: b.inPlace,
      relayouts: b.relayouts,
      regroups: b.regroups,
      fullCopies: b.fullCopies,
      buffersAllocated: b.buffersAllocated,
      updateBuffersAllocated: b.updateBuffersAllocated,
    };
  }

  /** The pull-protocol state of every worker. */
  workerStatus(): WorkerStatus[] {
    return this.workers.map((w) => ({
      name: w.endpoint.name,
      address: w.endpoint.address,
      epoch: w.epoch,
      ackVersion: w.ackVersion,
      consecutiveFailures: w.health.consecutive,
      degraded: w.health.degraded,
      sourceDone: w.sourceDone,
    }));
  }

  /** True when every worker reported its source done and the Kafka queue is empty. */
  drained(): boolean {
    const q = this.ports.kafka?.depth() ?? { closed: 0, open: 0 };
    return this.workers.every((w) => w.sourceDone) && q.closed === 0 && q.open === 0;
  }

  /** Runs one tick (the loop calls this; tests may call it directly without `start`). */
  async tickOnce(): Promise<TickReport> {
    const t0 = performance.now();
    const span = tracer.startSpan("gateway.tick", { root: true });
    const ctx = trace.setSpan(context.active(), span);
    return endSpanAfter(span, async () => {
      const results = await context.with(ctx, () => Promise.all(this.workers.map((w) => this.pull(w))));
      return context.with(ctx, () => this.finishTick(results, t0, formatTraceparent(span.spanContext())));
    });
  }

  private finishTick(results: (PullResult | undefined)[], t0: number, traceparent: string): TickReport {
    const kafka = this.ports.kafka;
    let room = kafka === undefined ? Infinity : kafka.closedRoom();
    const failed: string[] = [];
    for (let w = 0; w < this.workers.length; w++) {
      const r = results[w];
      const ws = this.workers[w]!;
      this.accept[w] = 0;
      this.forward[w] = 0;
      if (r === undefined) {
        failed.push(ws.endpoint.name);
        continue;
      }
      if (r.epoch !== ws.epoch && !r.full) {
        // Protocol violation: resync from scratch; nothing of this answer is applied or acked.
        this.ports.log.error("worker answered a foreign epoch without a full state; forcing a full resync", {
          worker: ws.endpoint.name,
          known_epoch: ws.epoch,
          answer_epoch: r.epoch,
        });
        ws.epoch = 0;
        ws.ackVersion = 0;
        continue;
      }
      this.accept[w] = 1;
      const closed = closedCount(r);
      // The limit bounds the backlog, not one answer: an empty queue takes any answer, so a
      // worker with more unacked closed klines than the limit is never refused forever.
      if (
        closed > room &&
        !(kafka !== undefined && kafka.depth().closed === 0 && room === kafka.closedRoom())
      ) {
        this.ports.metrics.kafkaClosedOverflow.inc(closed);
        this.ports.log.error(
          "kafka hand-off queue full of closed klines: worker answer not handed off, not acked",
          {
            worker: ws.endpoint.name,
            closed,
            room,
            limit: this.config.kafkaQueueLimit,
          },
        );
        continue;
      }
      room -= closed;
      this.forward[w] = 1;
    }
    const names = this.workers.map((w) => w.endpoint.name);
    const extraCount = applyResults(
      this.state,
      results,
      this.accept,
      this.forward,
      names,
      this.scratch,
      this.rejects,
      this.ports.metrics,
    );
    const seq = ++this.seq;
    const built = this.builder.build(seq, this.now(), this.scratch.extras, extraCount, this.forward);
    this.state.endTick();
    if (kafka !== undefined) kafka.offer(seq, traceparent, built.entries);
    else built.entries.release();
    // Applied and handed off: these versions may be acked with the next pull (with Kafka, `DurableAckPuller`
    // holds the ack until Kafka confirmed this tick: it relies on `offer` coming before this update).
    for (let w = 0; w < this.workers.length; w++) {
      const r = results[w];
      if (r === undefined || this.forward[w] !== 1) continue;
      const ws = this.workers[w]!;
      if (r.full) {
        this.ports.log.info("worker full state applied", {
          worker: ws.endpoint.name,
          reported_name: r.worker,
          epoch: r.epoch,
          previous_epoch: ws.epoch,
          klines: klineCount(r),
          symbols: r.symbols.length,
        });
      }
      ws.epoch = r.epoch;
      ws.ackVersion = r.version;
      ws.sourceDone = r.sourceDone;
    }
    const snap = built.snapshot;
    this.latest = snap;
    for (const p of this.ports.publishers) p.publish(snap, traceparent);
    const durationMs = performance.now() - t0;
    this.ports.metrics.tickDuration.observe(durationMs / 1000);
    this.ports.metrics.snapshotSeq.set(seq);
    const report: TickReport = { snapshot: snap, durationMs, failedWorkers: failed };
    for (const l of this.listeners) {
      try {
        l(report);
      } catch (err) {
        this.ports.log.warn("tick listener threw", { err });
      }
    }
    return report;
  }

  /** One pull under the strict deadline; undefined when it failed (already logged and counted). */
  private async pull(w: WorkerSlot): Promise<PullResult | undefined> {
    const deadlineMs = this.config.pullDeadlineMs;
    const ac = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // Reject before aborting, so the race reports the deadline and not the abort it causes.
        reject(new PullDeadlineError(w.endpoint.name, deadlineMs));
        ac.abort();
      }, deadlineMs);
    });
    const t0 = performance.now();
    try {
      const req = { epoch: w.epoch, ackVersion: w.ackVersion };
      const r = await Promise.race([w.puller.pull(req, deadlineMs, ac.signal), deadline]);
      w.health.success();
      this.ports.metrics.pullDuration.observe({ worker: w.endpoint.name }, (performance.now() - t0) / 1000);
      return r;
    } catch (err) {
      ac.abort();
      w.health.failure(classifyPullError(err), err);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}
