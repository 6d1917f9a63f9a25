import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { SpanKind, trace } from "@opentelemetry/api";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import { startTracing, type TracingShutdown } from "../obs/tracing.js";
import { FakeEngine } from "./fake-engine.test-helper.js";
import { WorkerClient } from "./worker-client.js";
import { WorkerGrpcServer } from "./worker-server.js";

/** Collects exported spans; survives shutdown (unlike InMemorySpanExporter, which clears). */
const exported: ReadableSpan[] = [];
const exporter: SpanExporter = {
  export: (spans, done) => {
    exported.push(...spans);
    done({ code: 0 });
  },
  shutdown: () => Promise.resolve(),
};

let shutdown: TracingShutdown;
const server = new WorkerGrpcServer({
  host: "127.0.0.1",
  port: 0,
  workerName: "t",
  engine: new FakeEngine(7),
  symbols: ["BTCUSDT"],
});
let client: WorkerClient;

before(async () => {
  shutdown = startTracing({ serviceName: "klagg-gateway", sampleRatio: 1, exporter });
  client = new WorkerClient(`127.0.0.1:${await server.start()}`, { name: "t" });
});
after(async () => {
  client.close();
  await server.stop(200);
});

test("the worker's server span continues the gateway's trace through gRPC metadata", async () => {
  const tracer = trace.getTracer("test");
  await tracer.startActiveSpan("gateway.tick", async (tick) => {
    await client.pull({ epoch: 0, ackVersion: 0 }, 2000);
    tick.end();
  });
  await shutdown();
  const byKind = (k: SpanKind): ReadableSpan => {
    const s = exported.find((x) => x.kind === k && x.name === "klagg.v1.WorkerService/Pull");
    assert.ok(s, `no ${SpanKind[k]} span exported`);
    return s;
  };
  const tick = exported.find((s) => s.name === "gateway.tick");
  assert.ok(tick);
  const clientSpan = byKind(SpanKind.CLIENT);
  const serverSpan = byKind(SpanKind.SERVER);
  const traceId = tick.spanContext().traceId;
  assert.equal(clientSpan.spanContext().traceId, traceId);
  assert.equal(serverSpan.spanContext().traceId, traceId);
  assert.equal(clientSpan.parentSpanContext?.spanId, tick.spanContext().spanId);
  assert.equal(serverSpan.parentSpanContext?.spanId, clientSpan.spanContext().spanId);
  assert.equal(serverSpan.attributes["klagg.full"], true);
  assert.equal(clientSpan.attributes["klagg.worker"], "t");
  assert.equal(serverSpan.resource.attributes["service.name"], "klagg-gateway");
});
