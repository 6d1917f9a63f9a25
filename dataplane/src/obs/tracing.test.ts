import { test } from "node:test";
import assert from "node:assert/strict";
import { context, propagation, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import { startTracing } from "./tracing.js";

test("an invalid sample ratio is refused", () => {
  assert.throws(
    () => startTracing({ serviceName: "klagg-worker", sampleRatio: 1.5 }),
    /sampleRatio must be in 0\.\.1/,
  );
  assert.throws(() => startTracing({ serviceName: "klagg-worker", sampleRatio: Number.NaN }), /sampleRatio/);
});

test("ratio 0 drops new traces but follows a sampled caller; W3C headers round-trip; shutdown flushes", async () => {
  const exported: ReadableSpan[] = [];
  const exporter: SpanExporter = {
    export: (spans, done) => {
      exported.push(...spans);
      done({ code: 0 });
    },
    shutdown: () => Promise.resolve(),
  };
  const shutdown = startTracing({ serviceName: "klagg-writer", sampleRatio: 0, exporter });
  const tracer = trace.getTracer("test");
  tracer.startSpan("unsampled-root").end();

  // A caller's sampled trace arrives as a traceparent header.
  const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  const parent = propagation.extract(ROOT_CONTEXT, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
  const child = tracer.startSpan("continued", {}, parent);
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), child), carrier);
  child.end();
  assert.match(carrier.traceparent ?? "", new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));

  await shutdown();
  await shutdown(); // idempotent
  assert.deepEqual(
    exported.map((s) => s.name),
    ["continued"],
  );
  assert.equal(exported[0]!.spanContext().traceId, traceId);
  assert.equal(exported[0]!.resource.attributes["service.name"], "klagg-writer");
});
