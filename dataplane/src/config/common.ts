/**
 * Configuration keys every klagg binary shares (logging, tracing, metrics).
 * Each binary's config embeds `CommonConfig` parsed from the same source.
 */
import type { LogLevel } from "../obs/log.js";
import { ConfigError, ConfigReader, freeze, type ConfigSource } from "./parse.js";

/** Settings shared by worker, gateway, writer and operator. */
export interface CommonConfig {
  /** KLAGG_LOG_LEVEL: debug | info | warn | error (default info). */
  readonly logLevel: LogLevel;
  /** OTEL_EXPORTER_OTLP_ENDPOINT: OTLP/HTTP base URL (e.g. http://jaeger:4318); unset = no span export. */
  readonly otlpEndpoint: string | undefined;
  /** KLAGG_TRACE_SAMPLE_RATIO: fraction of new traces sampled, 0..1 (default 1). */
  readonly traceSampleRatio: number;
  /** KLAGG_METRICS_HOST: interface of the /metrics + /healthz server (default 0.0.0.0). */
  readonly metricsHost: string;
  /** KLAGG_METRICS_PORT: port of the /metrics + /healthz server (default 9464; 0 = any free port). */
  readonly metricsPort: number;
}

export const DEFAULT_METRICS_PORT = 9464;

/** Parses the common keys; errors name the key and the value. */
export function parseCommonConfig(src: ConfigSource): Readonly<CommonConfig> {
  const r = new ConfigReader(src);
  const otlpEndpoint = r.optionalString("OTEL_EXPORTER_OTLP_ENDPOINT");
  if (otlpEndpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(otlpEndpoint)) {
    throw new ConfigError("OTEL_EXPORTER_OTLP_ENDPOINT", otlpEndpoint, "must be an http(s) URL");
  }
  return freeze({
    logLevel: r.oneOf<LogLevel>("KLAGG_LOG_LEVEL", ["debug", "info", "warn", "error"], "info"),
    otlpEndpoint,
    traceSampleRatio: r.number("KLAGG_TRACE_SAMPLE_RATIO", 1, 0, 1),
    metricsHost: r.string("KLAGG_METRICS_HOST", "0.0.0.0"),
    metricsPort: r.int("KLAGG_METRICS_PORT", DEFAULT_METRICS_PORT, 0, 65535),
  });
}
