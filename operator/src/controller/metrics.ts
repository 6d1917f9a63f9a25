/**
 * Prometheus metrics of the operator (its own registry, so tests and several
 * operators in one process do not collide).
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** The operator's metrics. */
export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({
    name: "klagg_operator_reconcile_total",
    help: "Reconciles by result (success, error).",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  readonly reconcileSeconds = new Histogram({
    name: "klagg_operator_reconcile_duration_seconds",
    help: "Duration of one reconcile.",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly childWrites = new Counter({
    name: "klagg_operator_child_writes_total",
    help: "Children applied or deleted, by action.",
    labelNames: ["action"] as const,
    registers: [this.registry],
  });
  readonly apiRequests = new Counter({
    name: "klagg_operator_api_requests_total",
    help: "Requests to the Kubernetes API by verb and HTTP status code.",
    labelNames: ["verb", "code"] as const,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: "klagg_operator_queue_depth",
    help: "Resource keys waiting in the work queue.",
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: "klagg_operator_leader",
    help: "1 while this instance holds the leader lease.",
    registers: [this.registry],
  });
}
