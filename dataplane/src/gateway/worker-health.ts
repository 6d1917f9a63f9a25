/**
 * Per-worker pull health: the consecutive-failure counter, the degraded alert
 * raised once when it reaches the threshold, and the recovery logged once.
 *
 * Every failed pull is an ERROR line naming the worker and the cause. While a
 * worker stays degraded, further failure lines are limited to one per
 * `repeatMs` (with the number suppressed), so a dead worker cannot flood the
 * log at the tick rate; the counter and the gauges keep counting every pull.
 */
import type { Logger } from "../obs/log.js";
import type { GatewayMetrics } from "./metrics.js";

/** Stable alert codes (log field `alert`), for log-based alerting. */
export const ALERT_WORKER_DEGRADED = "KLAGG_GATEWAY_WORKER_DEGRADED";
export const ALERT_WORKER_RECOVERED = "KLAGG_GATEWAY_WORKER_RECOVERED";

/** Why a pull failed: `deadline` (missed its deadline) or `error` (anything else). */
export type PullFailureCause = "deadline" | "error";

/** Classifies a pull rejection: gRPC DEADLINE_EXCEEDED (code 4) and timeout-named errors are deadlines. */
export function classifyPullError(err: unknown): PullFailureCause {
  if (err instanceof PullDeadlineError) return "deadline";
  if (typeof err === "object" && err !== null) {
    const e = err as { name?: unknown; code?: unknown; cause?: unknown };
    if (e.code === 4 || e.code === "DEADLINE_EXCEEDED") return "deadline";
    if (typeof e.name === "string" && /deadline|timeout/i.test(e.name)) return "deadline";
  }
  return "error";
}

/** Raised by the gateway's own deadline timer when a pull did not settle in time. */
export class PullDeadlineError extends Error {
  constructor(worker: string, deadlineMs: number) {
    super(`pull of worker ${worker} missed its ${deadlineMs}ms deadline`);
    this.name = "PullDeadlineError";
  }
}

/** Health bookkeeping of one worker. */
export class WorkerHealth {
  consecutive = 0;
  degraded = false;
  private lastLogAt = -Infinity;
  private suppressed = 0;

  constructor(
    readonly worker: string,
    private readonly threshold: number,
    private readonly log: Logger,
    private readonly metrics: GatewayMetrics,
    private readonly now: () => number,
    private readonly repeatMs = 5000,
  ) {
    metrics.consecutiveTimeouts.set({ worker }, 0);
    metrics.degraded.set({ worker }, 0);
  }

  /** Records a failed pull; returns true when this failure raised the alert. */
  failure(cause: PullFailureCause, err: unknown): boolean {
    this.consecutive++;
    this.metrics.pullFailures.inc({ worker: this.worker, cause });
    this.metrics.consecutiveTimeouts.set({ worker: this.worker }, this.consecutive);
    const t = this.now();
    if (!this.degraded || t - this.lastLogAt >= this.repeatMs) {
      this.log.error("worker pull failed; reusing its last data for this tick", {
        worker: this.worker,
        cause,
        err,
        consecutive_failures: this.consecutive,
        suppressed_since_last: this.suppressed,
      });
      this.lastLogAt = t;
      this.suppressed = 0;
    } else {
      this.suppressed++;
    }
    if (!this.degraded && this.consecutive >= this.threshold) {
      this.degraded = true;
      this.metrics.degraded.set({ worker: this.worker }, 1);
      this.log.error("worker degraded: consecutive pull failures reached the alert threshold", {
        alert: ALERT_WORKER_DEGRADED,
        severity: "critical",
        worker: this.worker,
        consecutive_failures: this.consecutive,
        threshold: this.threshold,
        cause,
      });
      return true;
    }
    return false;
  }

  /** Records a successful pull; returns true when it ended a degraded period. */
  success(): boolean {
    const wasDegraded = this.degraded;
    const failures = this.consecutive;
    this.consecutive = 0;
    this.suppressed = 0;
    this.metrics.consecutiveTimeouts.set({ worker: this.worker }, 0);
    if (!wasDegraded) return false;
    this.degraded = false;
    this.metrics.degraded.set({ worker: this.worker }, 0);
    this.log.warn("worker recovered", {
      alert: ALERT_WORKER_RECOVERED,
      severity: "info",
      worker: this.worker,
      failed_pulls: failures,
    });
    return true;
  }
}
