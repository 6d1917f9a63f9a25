/**
 * Starts the OpenTelemetry SDK for the operator binary (library code only
 * uses @opentelemetry/api). Off when no OTLP endpoint is configured.
 */
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";

/** Starts tracing; returns the shutdown function (flushes spans). */
export function startTracing(endpoint: string | undefined, ratio: number): () => Promise<void> {
  if (!endpoint) return async () => {};
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": "klagg-operator" }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, "")}/v1/traces` })),
    ],
  });
  provider.register();
  return () => provider.shutdown();
}
