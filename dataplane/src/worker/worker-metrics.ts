/**
 * The worker's Prometheus metrics. Engine counters are read from
 * `engine.stats()` at scrape time (no cost on the trade path); source-level
 * rejections and pull latencies are recorded as they happen.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { EngineStats } from "../core/engine-api.js";
import type { RejectReason } from "../core/types.js";
import type { PullInfo } from "../grpc/worker-server.js";

/** Where rejected trades were caught: by the source (parsing) or by the engine (semantics). */
export type RejectStage = "source" | "engine";

/** The worker's metric handles. */
export interface WorkerMetrics {
  sourceReject(reason: RejectReason): void;
  observePull(info: PullInfo): void;
}

/** Registers the worker metrics on `registry`; `stats` is read on every scrape. */
export function createWorkerMetrics(registry: Registry, stats: () => EngineStats): WorkerMetrics {
  const registers = [registry];
  const sourceRejects = new Map<RejectReason, number>();
  new Counter({
    name: "klagg_worker_trades_total",
    help: "Trades handed to the engine (accepted or rejected by it).",
    registers,
    collect() {
      this.reset();
      this.inc(stats().tradesIn);
    },
  });
  new Counter({
    name: "klagg_worker_rejected_trades_total",
    help: "Rejected trades by reason and stage (source = unparseable input, engine = invalid or late trade).",
    labelNames: ["reason", "stage"],
    registers,
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(stats().rejected))
        this.inc({ reason, stage: "engine" }, n ?? 0);
      for (const [reason, n] of sourceRejects) this.inc({ reason, stage: "source" }, n);
    },
  });
  const fromStats = (name: string, help: string, key: keyof EngineStats, counter: boolean): void => {
    const read = (): number => stats()[key] as number;
    if (counter) {
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    } else {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    }
  };
  fromStats(
    "klagg_worker_late_trades_total",
    "Late trades accepted within the grace period.",
    "lateAccepted",
    true,
  );
  // Gaps can be filled by late trades, so these two go down too: gauges, not counters.
  fromStats("klagg_worker_trade_id_gaps", "Open gaps in the symbols' trade ids.", "gaps", false);
  fromStats(
    "klagg_worker_missing_trade_ids",
    "Trade ids currently missing in those gaps.",
    "missingTradeIds",
    false,
  );
  fromStats("klagg_worker_open_klines", "Klines currently open.", "openKlines", false);
  fromStats(
    "klagg_worker_retained_closed_klines",
    "Closed klines held until a pull acks them.",
    "retainedClosed",
    false,
  );
  fromStats(
    "klagg_worker_closed_klines_dropped_total",
    "Closed klines forgotten unacknowledged at the retention bound (KLAGG_MAX_RETAINED_CLOSED).",
    "closedDropped",
    true,
  );
  const pullSeconds = new Histogram({
    name: "klagg_worker_pull_duration_seconds",
    help: "Time to answer one Pull (engine pull, conversion, writing every chunk).",
    labelNames: ["full"],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const pullKlines = new Histogram({
    name: "klagg_worker_pull_klines",
    help: "Klines per Pull answer.",
    labelNames: ["full"],
    buckets: [0, 10, 100, 1000, 5000, 20000, 100000],
    registers,
  });
  const pullsIncomplete = new Counter({
    name: "klagg_worker_pulls_incomplete_total",
    help: "Pulls whose caller went away (deadline, cancel) before the last chunk.",
    registers,
  });
  return {
    sourceReject(reason) {
      sourceRejects.set(reason, (sourceRejects.get(reason) ?? 0) + 1);
    },
    observePull(info) {
      const labels = { full: String(info.full) };
      pullSeconds.observe(labels, info.seconds);
      pullKlines.observe(labels, info.klines);
      if (!info.completed) pullsIncomplete.inc();
    },
  };
}
