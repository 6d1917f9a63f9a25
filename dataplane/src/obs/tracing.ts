/**
 * OpenTelemetry tracing SDK setup, called once by each binary's main (library
 * code only imports `@opentelemetry/api`). Spans go to an OTLP/HTTP collector
 * (Jaeger accepts OTLP directly) through a batching processor; without an
 * endpoint the SDK still runs (trace ids in logs, context propagation over
 * gRPC) but exports nothing.
 */
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type SpanExporter,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";

/** The service names of klagg's binaries, as they appear in Jaeger. */
export type ServiceName = "klagg-worker" | "klagg-gateway" | "klagg-writer" | "klagg-operator";

/** Settings of the tracing SDK. */
export interface TracingOptions {
  readonly serviceName: ServiceName;
  /**
   * OTLP/HTTP base endpoint (OTEL_EXPORTER_OTLP_ENDPOINT, e.g. "http://jaeger:4318");
   * spans are posted to `<endpoint>/v1/traces`. Unset: no exporter.
   */
  readonly endpoint?: string;
  /** Fraction of new traces sampled (0..1); continued traces follow the caller's decision. */
  readonly sampleRatio: number;
  /** Extra resource attributes (e.g. `service.instance.id` = pod name). */
  readonly attributes?: Readonly<Record<string, string>>;
  /** Replaces the OTLP exporter (tests use an in-memory one). */
  readonly exporter?: SpanExporter;
}

/** Flushes pending spans and shuts the SDK down. */
export type TracingShutdown = () => Promise<void>;

/** Registers the global tracer provider, W3C propagator and AsyncLocalStorage context manager. */
export function startTracing(opts: TracingOptions): TracingShutdown {
  if (!(opts.sampleRatio >= 0 && opts.sampleRatio <= 1)) {
    throw new RangeError(`sampleRatio must be in 0..1, got ${opts.sampleRatio}`);
  }
  const exporter =
    opts.exporter ??
    (opts.endpoint
      ? new OTLPTraceExporter({ url: `${opts.endpoint.replace(/\/+$/, "")}/v1/traces` })
      : undefined);
  const spanProcessors: SpanProcessor[] = exporter
    ? [new BatchSpanProcessor(exporter, { maxQueueSize: 4096, scheduledDelayMillis: 1000 })]
    : [];
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: opts.serviceName, ...opts.attributes }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(opts.sampleRatio) }),
    spanProcessors,
  });
  // The default context manager of NodeTracerProvider is AsyncLocalStorage-based.
  provider.register({ propagator: new W3CTraceContextPropagator() });
  let done: Promise<void> | undefined;
  return () => (done ??= provider.shutdown());
}
