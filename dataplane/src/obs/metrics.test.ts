import { test } from "node:test";
import assert from "node:assert/strict";
import { Counter } from "prom-client";
import { createRegistry, MetricsServer } from "./metrics.js";

test("serves /metrics in Prometheus format and /healthz following the health callback", async () => {
  const registry = createRegistry("klagg-test", false);
  const c = new Counter({ name: "klagg_test_total", help: "test", registers: [registry] });
  c.inc(3);
  let healthy = true;
  const server = new MetricsServer({ registry, host: "127.0.0.1", port: 0, healthy: () => healthy });
  const port = await server.start();
  try {
    const m = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(m.status, 200);
    assert.match(m.headers.get("content-type") ?? "", /text\/plain/);
    assert.match(await m.text(), /^klagg_test_total\{service="klagg-test"\} 3$/m);
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    healthy = false;
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 503);
    assert.equal((await fetch(`http://127.0.0.1:${port}/nope`)).status, 404);
  } finally {
    await server.stop();
  }
  await assert.rejects(fetch(`http://127.0.0.1:${port}/metrics`), "the port is closed after stop");
});

test("the default registry carries Node process metrics", async () => {
  const text = await createRegistry("klagg-test").metrics();
  assert.match(text, /process_cpu_user_seconds_total\{service="klagg-test"\}/);
});

test("start fails with a clear error when the port is taken", async () => {
  const a = new MetricsServer({ registry: createRegistry("a", false), host: "127.0.0.1", port: 0 });
  const port = await a.start();
  const b = new MetricsServer({ registry: createRegistry("b", false), host: "127.0.0.1", port });
  try {
    await assert.rejects(b.start(), /EADDRINUSE/);
  } finally {
    await a.stop();
  }
});
