/**
 * One worker: config -> trade source -> engine -> gRPC pull service, plus
 * metrics and health.
 *
 * Lifecycle: `start()` binds the gRPC and metrics servers (health SERVING)
 * and starts the source. A finished replay closes every kline and reports
 * `source_done` to pullers, then keeps serving until stopped. `stop()` (or the
 * start signal aborting) stops the source, turns health NOT_SERVING, keeps
 * answering pulls for up to KLAGG_DRAIN until a pull acked everything, then
 * closes the servers. `done` resolves when all of that finished.
 */
import type { Registry } from "prom-client";
import type { KlineEngine } from "../core/engine-api.js";
import { createEngine } from "../core/engine.js";
import type { RejectReason } from "../core/types.js";
import type { WorkerConfig } from "../config/worker.js";
import { WorkerGrpcServer, type PullInfo } from "../grpc/worker-server.js";
import { createLogger, RateLimitedLog, type Logger } from "../obs/log.js";
import { createRegistry, MetricsServer } from "../obs/metrics.js";
import { createTradeSource } from "../sources/factory.js";
import type { TradeSink, TradeSource } from "../sources/trade-source.js";
import { createWorkerMetrics, type WorkerMetrics } from "./worker-metrics.js";

/** How often quiet symbols' klines are closed from the wall clock (live sources only). */
const ADVANCE_INTERVAL_MS = 250;
const DROPPED_LOG_INTERVAL_MS = 5000;
/** Stable alert code (log field `alert`): the worker forgets unacknowledged closed klines (the gateway cannot ack). */
export const ALERT_RETENTION_FULL = "KLAGG_WORKER_RETENTION_FULL";
/** How often the drain checks whether a pull acked everything. */
const DRAIN_POLL_MS = 20;

/** Settings of a worker process; everything but `config` has a default. */
export interface WorkerProcessOptions {
  readonly config: WorkerConfig;
  readonly log?: Logger;
  /** Wall clock (epoch and advanceTime). */
  readonly now?: () => number;
  /** Replaces the configured source (tests, benchmarks). */
  readonly source?: TradeSource;
  /** Metrics registry; a fresh one by default. */
  readonly registry?: Registry;
  /** Do not start the /metrics HTTP server (embedding, tests). */
  readonly noMetricsServer?: boolean;
  /**
   * The clock that closes quiet klines: "wall" (Date.now, live sources) or
   * "trades" (the newest trade time seen, for replays, whose historical times
   * the wall clock would close and reject). Default: "trades" for replays.
   */
  readonly clock?: "wall" | "trades";
  /** Close every kline when the source ends by itself. Default: when the source is a replay. */
  readonly closeAllOnEnd?: boolean;
}

type State = "new" | "running" | "draining" | "stopped";

/** A running worker. */
export class WorkerProcess {
  readonly engine: KlineEngine;
  readonly registry: Registry;
  private readonly log: Logger;
  private readonly rejectLog: RateLimitedLog;
  private readonly now: () => number;
  private readonly server: WorkerGrpcServer;
  private readonly metricsServer: MetricsServer | undefined;
  private readonly metrics: WorkerMetrics;
  private readonly source: TradeSource;
  private readonly sourceAbort = new AbortController();
  private readonly clock: "wall" | "trades";
  private maxTradeTime = 0;
  /** Closed klines dropped at the retention bound, as last reported. */
  private droppedReported = 0;
  private droppedReportedAt = 0;
  private readonly closeAllOnEnd: boolean;
  private state: State = "new";
  private sourceEnded = false;
  private sourceFailed = false;
  private lastAck = -1;
  private advanceTimer: NodeJS.Timeout | undefined;
  private sourceRun: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  private resolveDone!: () => void;
  /** Resolves once the worker stopped completely. */
  readonly done = new Promise<void>((r) => (this.resolveDone = r));

  constructor(private readonly opts: WorkerProcessOptions) {
    const c = opts.config;
    this.now = opts.now ?? Date.now;
    this.log = (opts.log ?? createLogger("worker", { level: c.common.logLevel })).child({
      worker: c.workerName,
    });
    this.rejectLog = new RateLimitedLog(this.log);
    this.engine = createEngine({
      symbols: c.symbols,
      intervals: c.intervals,
      epoch: this.now(),
      emptyKlines: c.emptyKlines,
      graceMs: c.graceMs,
      utcOffsetMinutes: c.utcOffsetMinutes,
      maxRetainedClosed: c.maxRetainedClosed,
    });
    this.registry = opts.registry ?? createRegistry("klagg-worker");
    this.metrics = createWorkerMetrics(this.registry, () => this.engine.stats());
    this.source =
      opts.source ?? createTradeSource(c.source, { symbols: c.symbols, log: this.log, now: this.now });
    this.clock = opts.clock ?? (c.source.kind === "replay" ? "trades" : "wall");
    this.closeAllOnEnd = opts.closeAllOnEnd ?? c.source.kind === "replay";
    this.server = new WorkerGrpcServer({
      host: c.grpcHost,
      port: c.grpcPort,
      workerName: c.workerName,
      engine: this.engine,
      symbols: c.symbols,
      sourceDone: () => this.sourceEnded && !this.sourceFailed && this.engine.stats().openKlines === 0,
      onPull: (info) => this.onPull(info),
      log: this.log,
    });
    this.metricsServer = opts.noMetricsServer
      ? undefined
      : new MetricsServer({
          registry: this.registry,
          host: c.common.metricsHost,
          port: c.common.metricsPort,
          healthy: () => this.state === "running",
          log: this.log,
        });
  }

  /** The bound gRPC port (after start). */
  get grpcPort(): number {
    return this.server.port;
  }

  /** The bound metrics port (after start; 0 without a metrics server). */
  get metricsPort(): number {
    return this.metricsServer?.port ?? 0;
  }

  /** True once the source ended by itself (a finished replay). */
  get sourceFinished(): boolean {
    return this.sourceEnded;
  }

  /** Binds the servers and starts the source; `signal` aborting stops the worker gracefully. */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.state !== "new") throw new Error("worker already started");
    this.state = "running";
    const c = this.opts.config;
    try {
      await this.server.start();
      await this.metricsServer?.start();
    } catch (err) {
      this.state = "stopped";
      await this.server.stop(0);
      this.resolveDone();
      throw err;
    }
    this.log.info("worker started", {
      epoch: this.engine.epoch,
      source: this.source.name,
      symbols: c.symbols.length,
      shard: `${c.shardIndex}/${c.shardCount}`,
      intervals: c.intervals.join(","),
      grpc_port: this.grpcPort,
      metrics_port: this.metricsPort,
    });
    this.advanceTimer = setInterval(() => this.advanceClock(), ADVANCE_INTERVAL_MS);
    this.advanceTimer.unref();
    this.sourceRun = this.runSource();
    if (signal) {
      if (signal.aborted) void this.stop();
      else signal.addEventListener("abort", () => void this.stop(), { once: true });
    }
  }

  /** Stops gracefully (idempotent); resolves when stopped. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  /** Closes quiet klines up to the clock's time (nothing before the first trade on the trades clock). */
  private advanceClock(): void {
    const t = this.clock === "wall" ? this.now() : this.maxTradeTime;
    if (t > 0) this.engine.advanceTime(t);
    this.reportDropped();
  }

  /** An ERROR (at most one per 5 s) while closed klines are dropped unacknowledged at the retention bound. */
  private reportDropped(): void {
    const dropped = this.engine.stats().closedDropped;
    const now = this.now();
    if (dropped === this.droppedReported || now - this.droppedReportedAt < DROPPED_LOG_INTERVAL_MS) return;
    this.log.error("retention bound reached: dropping unacknowledged closed klines", {
      alert: ALERT_RETENTION_FULL,
      dropped: dropped - this.droppedReported,
      dropped_total: dropped,
      bound: this.opts.config.maxRetainedClosed,
    });
    this.droppedReported = dropped;
    this.droppedReportedAt = now;
  }

  private sink(): TradeSink {
    return {
      onTrade: (trade) => {
        const reason = this.engine.ingest(trade);
        if (reason === undefined && trade.time > this.maxTradeTime) this.maxTradeTime = trade.time;
        if (reason !== undefined) {
          this.rejectLog.warn(reason, "trade rejected by the engine", {
            symbol: trade.symbol,
            id: trade.firstId,
          });
        }
      },
      onReject: (reason: RejectReason, detail: string) => {
        this.metrics.sourceReject(reason);
        this.rejectLog.warn(`source:${reason}`, "input rejected by the source", { detail });
      },
    };
  }

  private async runSource(): Promise<void> {
    try {
      await this.source.run(this.sink(), this.sourceAbort.signal);
      if (this.sourceAbort.signal.aborted) return;
      this.sourceEnded = true;
      if (this.closeAllOnEnd) this.engine.closeAll();
      const s = this.engine.stats();
      this.log.info("source finished", {
        trades: s.tradesIn,
        open_klines: s.openKlines,
        version: this.engine.version,
      });
    } catch (err) {
      if (this.sourceAbort.signal.aborted) return;
      this.sourceFailed = true;
      this.log.error("source failed; stopping the worker", { err });
      void this.stop();
    }
  }

  private onPull(info: PullInfo): void {
    this.metrics.observePull(info);
    if (info.completed && info.epoch === this.engine.epoch && info.ackVersion > this.lastAck) {
      this.lastAck = info.ackVersion;
    }
  }

  /**
   * True when a pull acknowledged the current version: every change, closed
   * klines included, reached the caller. (The engine may still hold closed
   * klines inside their grace period, so retainedClosed need not be 0.)
   */
  private allAcked(): boolean {
    return this.lastAck >= this.engine.version;
  }

  private async shutdown(): Promise<void> {
    if (this.state === "new" || this.state === "stopped") {
      this.state = "stopped";
      this.resolveDone();
      return;
    }
    this.state = "draining";
    this.log.info("worker stopping");
    if (this.advanceTimer) clearInterval(this.advanceTimer);
    this.sourceAbort.abort();
    await this.sourceRun;
    this.server.setNotServing();
    const drainMs = this.opts.config.drainMs;
    const until = Date.now() + drainMs;
    while (!this.allAcked() && Date.now() < until) await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
    const acked = this.allAcked();
    const s = this.engine.stats();
    (acked ? this.log.info : this.log.warn)("drain finished", {
      all_acked: acked,
      version: this.engine.version,
      last_ack: this.lastAck,
      retained_closed: s.retainedClosed,
      drain_ms: drainMs,
    });
    await this.server.stop(1000);
    await this.metricsServer?.stop();
    this.state = "stopped";
    this.log.info("worker stopped", { trades: s.tradesIn, rejected: s.rejected });
    this.resolveDone();
  }

  /** True when the source failed (the CLI exits non-zero). */
  get failed(): boolean {
    return this.sourceFailed;
  }
}
