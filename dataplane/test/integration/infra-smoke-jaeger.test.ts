/**
 * Smoke test of the local Jaeger v2: a span exported with the OpenTelemetry SDK over OTLP/HTTP
 * (OTEL_EXPORTER_OTLP_ENDPOINT) is read back from the query API (JAEGER_QUERY_URL).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";

function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run under \`deploy/local/klagg-infra with-infra -- ...\``);
  return v;
}

interface JaegerTrace {
  traceID: string;
  spans: { operationName: string; spanID: string; tags: { key: string; value: unknown }[] }[];
}

test("a span exported over OTLP/HTTP is found by the Jaeger query API", async () => {
  const otlp = requireEnv("OTEL_EXPORTER_OTLP_ENDPOINT");
  const query = requireEnv("JAEGER_QUERY_URL");
  const service = `klagg-smoke-${process.pid}`;
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": service }),
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${otlp}/v1/traces` }))],
  });
  const span = provider
    .getTracer("smoke")
    .startSpan("smoke-op", { attributes: { "klagg.symbol": "BTCUSDT" } });
  const { traceId, spanId } = span.spanContext();
  span.end();
  await provider.forceFlush();
  await provider.shutdown();

  let trace: JaegerTrace | undefined;
  const deadline = Date.now() + 15_000;
  while (!trace && Date.now() < deadline) {
    const res = await fetch(`${query}/api/traces/${traceId}`);
    if (res.ok) trace = ((await res.json()) as { data: JaegerTrace[] }).data[0];
    else await new Promise((r) => setTimeout(r, 250));
  }
  assert.ok(trace, `trace ${traceId} not found at ${query} within 15s`);
  const got = trace.spans.find((s) => s.spanID === spanId);
  assert.equal(got?.operationName, "smoke-op");
  assert.ok(got.tags.some((t) => t.key === "klagg.symbol" && t.value === "BTCUSDT"));

  const services = (await (await fetch(`${query}/api/services`)).json()) as { data: string[] };
  assert.ok(services.data.includes(service), `service ${service} listed`);
});
