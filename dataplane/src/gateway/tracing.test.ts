import { after, test } from "node:test";
import assert from "node:assert/strict";
import { SpanKind } from "@opentelemetry/api";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import { startTracing } from "../obs/tracing.js";
import { parseGatewayConfig } from "../config/gateway.js";
import { Gateway } from "./gateway.js";
import { StateLayout } from "./global-state.js";
import { KafkaHandoff } from "./kafka-handoff.js";
import { parseTraceparent } from "./trace-context.js";
import { FakeProducer, FakeWorker, captureLog, testMetrics } from "./fakes.test-helper.js";

const exported: ReadableSpan[] = [];
const exporter: SpanExporter = {
  export: (spans, done) => {
    exported.push(...spans);
    done({ code: 0 });
  },
  shutdown: () => Promise.resolve(),
};
const shutdown = startTracing({ serviceName: "klagg-gateway", sampleRatio: 1, exporter });
after(() => shutdown());

test("each tick is a root span; the Kafka produce span is its child and the record carries its traceparent", async () => {
  const config = parseGatewayConfig({
    KLAGG_WORKERS: "w0=127.0.0.1:1",
    KLAGG_SYMBOLS: "AAA",
    KLAGG_INTERVALS: "1m",
  });
  const w0 = new FakeWorker("w0", ["AAA"]);
  const { log, lines } = captureLog();
  const { metrics } = testMetrics();
  const producer = new FakeProducer();
  const kafka = new KafkaHandoff(
    producer,
    new StateLayout(config.symbols, config.intervals),
    { aggregator: "local", limit: 100 },
    log,
    metrics,
  );
  const gw = new Gateway(config, {
    workers: [{ endpoint: config.workers[0]!, puller: w0 }],
    publishers: [],
    kafka,
    log,
    metrics,
  });
  kafka.start();
  w0.set("AAA", "1m", 1_700_000_040_000, "1.0");
  w0.mode = "fail";
  await gw.tickOnce();
  w0.mode = "ok";
  await gw.tickOnce();
  await kafka.stop(500);
  await shutdown();
  const ticks = exported.filter((s) => s.name === "gateway.tick");
  assert.equal(ticks.length, 2);
  assert.ok(
    ticks.every((t) => t.parentSpanContext === undefined),
    "ticks are roots",
  );
  assert.notEqual(ticks[0]!.spanContext().traceId, ticks[1]!.spanContext().traceId);
  const produce = exported.find((s) => s.name === "kafka.produce");
  assert.ok(produce);
  assert.equal(produce.kind, SpanKind.PRODUCER);
  assert.equal(produce.spanContext().traceId, ticks[1]!.spanContext().traceId);
  assert.equal(produce.parentSpanContext?.spanId, ticks[1]!.spanContext().spanId);
  const header = parseTraceparent(producer.records[0]!.headers.traceparent ?? "");
  assert.equal(header?.traceId, ticks[1]!.spanContext().traceId);
  assert.equal(header?.spanId, ticks[1]!.spanContext().spanId);
  // The failed pull's ERROR line is inside the tick span, so it carries the trace id.
  const err = lines.find((l) => l.level === "error" && l.worker === "w0");
  assert.equal(err?.trace_id, ticks[0]!.spanContext().traceId);
});
