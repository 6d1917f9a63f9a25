/**
 * Traces reach Jaeger: the BUILT `klagg worker` exports its Pull server span
 * over OTLP/HTTP, as a child of the caller's span propagated in gRPC metadata.
 * Needs OTEL_EXPORTER_OTLP_ENDPOINT and JAEGER_QUERY_URL (`deploy/local/klagg-infra env`).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { trace } from "@opentelemetry/api";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import { WorkerClient } from "../../src/grpc/worker-client.js";
import { startTracing } from "../../src/obs/tracing.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
const CLI = join(ROOT, "dataplane/dist/src/cli/main.js");

function env(name: string): string {
  const v = process.env[name];
  if (!v)
    throw new Error(`${name} is not set: run under deploy/local/klagg-infra with-infra (or eval its env)`);
  return v;
}

interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  processID: string;
  references: Array<{ refType: string; spanID: string }>;
}
interface JaegerTrace {
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

test("the worker's Pull span shows up in Jaeger under the caller's trace", async () => {
  const otlp = env("OTEL_EXPORTER_OTLP_ENDPOINT");
  const jaeger = env("JAEGER_QUERY_URL");
  // The test plays the gateway: it only needs propagation, so its own spans stay in memory.
  const discard: SpanExporter = {
    export: (_s, done) => done({ code: 0 }),
    shutdown: () => Promise.resolve(),
  };
  const shutdownTracing = startTracing({ serviceName: "klagg-gateway", sampleRatio: 1, exporter: discard });
  const name = `trace-test-${process.pid}`;
  const child = spawn(
    process.execPath,
    [
      CLI,
      "worker",
      "--name",
      name,
      "--symbols",
      "BTCUSDT",
      "--source",
      "synthetic",
      "--grpc-host",
      "127.0.0.1",
    ],
    {
      stdio: ["ignore", "ignore", "pipe"],
      env: {
        PATH: process.env.PATH,
        KLAGG_GRPC_PORT: "0",
        KLAGG_METRICS_HOST: "127.0.0.1",
        KLAGG_METRICS_PORT: "0",
        KLAGG_DRAIN: "0",
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp,
      },
    },
  );
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => (err += s));
  const exited = new Promise<number | null>((r) => child.on("exit", r));
  let client: WorkerClient | undefined;
  try {
    let port: number | undefined;
    for (let i = 0; i < 250 && port === undefined; i++) {
      const m = /"msg":"worker started".*"grpc_port":(\d+)/.exec(err);
      if (m) port = Number(m[1]);
      else await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(port, `worker did not start: ${err}`);
    client = new WorkerClient(`127.0.0.1:${port}`);
    const c = client;
    const { traceId, spanId } = await trace.getTracer("test").startActiveSpan("test.tick", async (span) => {
      await c.pull({ epoch: 0, ackVersion: 0 }, 2000);
      span.end();
      return span.spanContext();
    });
    child.kill("SIGTERM"); // the worker flushes its spans on shutdown
    assert.equal(await exited, 0);

    let found: { span: JaegerSpan; service: string } | undefined;
    for (let i = 0; i < 50 && !found; i++) {
      const res = await fetch(`${jaeger}/api/traces/${traceId}`);
      if (res.ok) {
        const body = (await res.json()) as { data?: JaegerTrace[] };
        for (const t of body.data ?? []) {
          const span = t.spans.find((s) => s.operationName === "klagg.v1.WorkerService/Pull");
          if (span) found = { span, service: t.processes[span.processID]?.serviceName ?? "" };
        }
      }
      if (!found) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(found, `trace ${traceId} with the worker's Pull span not found in Jaeger at ${jaeger}`);
    assert.equal(found.service, "klagg-worker");
    // The worker's span is a child of the client span, itself a child of the test's span.
    const parent = found.span.references.find((r) => r.refType === "CHILD_OF");
    assert.ok(
      parent && parent.spanID !== spanId,
      "the server span's parent is the client span, not the tick span",
    );
  } finally {
    client?.close();
    if (child.exitCode === null) child.kill("SIGKILL");
    await shutdownTracing();
  }
});
