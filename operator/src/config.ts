/**
 * The operator's own configuration, parsed from a flat map (the process
 * environment) with the same ConfigReader every klagg binary uses.
 */
import { hostname } from "node:os";
import { ConfigReader, freeze, type ConfigSource } from "@klagg/dataplane/config/parse";

/** Operator settings. */
export interface OperatorConfig {
  /** Namespace to watch; undefined = every namespace. */
  watchNamespace: string | undefined;
  leaseNamespace: string;
  leaseName: string;
  identity: string;
  metricsPort: number;
  logLevel: "debug" | "info" | "warn" | "error";
  resyncMs: number;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  otlpEndpoint: string | undefined;
  traceSampleRatio: number;
}

/** Parses the operator's configuration; throws ConfigError naming key and value. */
export function parseOperatorConfig(src: ConfigSource, pid = process.pid): Readonly<OperatorConfig> {
  const r = new ConfigReader(src);
  const cfg: OperatorConfig = {
    watchNamespace: r.optionalString("KLAGG_WATCH_NAMESPACE"),
    leaseNamespace: r.string("KLAGG_LEASE_NAMESPACE", r.optionalString("POD_NAMESPACE") ?? "default"),
    leaseName: r.string("KLAGG_LEASE_NAME", "klagg-operator-leader"),
    identity: r.string("KLAGG_OPERATOR_IDENTITY", r.optionalString("POD_NAME") ?? `${hostname()}_${pid}`),
    metricsPort: r.int("KLAGG_METRICS_PORT", 8080, 0, 65535),
    logLevel: r.oneOf("KLAGG_LOG_LEVEL", ["debug", "info", "warn", "error"] as const, "info"),
    resyncMs: r.durationMs("KLAGG_RESYNC", 5 * 60_000, 1000),
    leaseDurationMs: r.durationMs("KLAGG_LEASE_DURATION", 15_000, 1000),
    renewDeadlineMs: r.durationMs("KLAGG_RENEW_DEADLINE", 10_000, 500),
    retryPeriodMs: r.durationMs("KLAGG_RETRY_PERIOD", 2_000, 100),
    otlpEndpoint: r.optionalString("OTEL_EXPORTER_OTLP_ENDPOINT"),
    traceSampleRatio: r.number("KLAGG_TRACE_SAMPLE_RATIO", 1, 0, 1),
  };
  if (cfg.renewDeadlineMs >= cfg.leaseDurationMs) {
    throw new Error(
      `invalid config KLAGG_RENEW_DEADLINE=${cfg.renewDeadlineMs}ms: must be shorter than KLAGG_LEASE_DURATION=${cfg.leaseDurationMs}ms`,
    );
  }
  return freeze(cfg);
}
