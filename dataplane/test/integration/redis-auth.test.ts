/**
 * The Redis password path (KLAGG_REDIS_PASSWORD, rendered by the operator from
 * a Secret) against a real password-protected Redis: the gateway built by
 * `createGateway` from the parsed config publishes with AUTH, a reader with
 * the password in its URL reads the snapshot, and the server really refuses
 * clients without it. The shared local Redis runs without a password, so this
 * test starts its own `redis-server` (the binary `deploy/local/klagg-infra`
 * uses) on a free loopback port and stops it at the end.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { parseGatewayConfig } from "../../src/config/gateway.js";
import { createGateway } from "../../src/gateway/create.js";
import { FakeWorker } from "../../src/gateway/fakes.test-helper.js";
import { RedisSnapshotBus } from "../../src/scheduler/redis-bus.js";
import { createLogger } from "../../src/obs/log.js";
import { delay } from "../support/snapshot-fixtures.js";

const PASSWORD = "klagg-test-password";

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(100);
  }
}

test("a gateway configured with KLAGG_REDIS_PASSWORD publishes to a password-protected Redis", async () => {
  const port = await freePort();
  const server = spawn(
    "redis-server",
    [
      "--bind",
      "127.0.0.1",
      "--port",
      String(port),
      "--requirepass",
      PASSWORD,
      "--save",
      "",
      "--appendonly",
      "no",
    ],
    { stdio: "ignore" },
  );
  const url = `redis://127.0.0.1:${port}`;
  const log = createLogger("redis-auth-test", { level: "error" });
  try {
    const anonymous = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    anonymous.on("error", () => undefined); // refusals are what this client is for
    try {
      const refusal = await until("redis-server to answer", async () => {
        await anonymous.connect().catch(() => undefined);
        return anonymous.get("x").then(
          () => "answered without a password",
          (e: Error) => (/NOAUTH/.test(e.message) ? e.message : undefined),
        );
      });
      assert.match(refusal, /NOAUTH/, "the test server must require the password");
    } finally {
      anonymous.disconnect();
    }

    const config = parseGatewayConfig({
      KLAGG_NAME: "auth",
      KLAGG_WORKERS: "w0=127.0.0.1:1",
      KLAGG_SYMBOLS: "AAA",
      KLAGG_INTERVALS: "1m",
      KLAGG_REDIS_URL: url,
      KLAGG_REDIS_PASSWORD: PASSWORD,
    });
    const worker = new FakeWorker("w0", ["AAA"]);
    worker.set("AAA", "1m", 1_700_000_040_000, "42.5");
    const gateway = createGateway(config, { log, registry: new Registry(), pullerFor: () => worker });
    await gateway.start();
    const reader = new RedisSnapshotBus({ url: `redis://:${PASSWORD}@127.0.0.1:${port}`, name: "auth", log });
    try {
      const snap = await until("a snapshot in the protected Redis", () => reader.getLatest());
      assert.ok(snap.seq > 0n);
      const aaa = snap.klines.filter((k) => k.symbol === "AAA" && k.interval === "1m");
      assert.deepEqual(
        aaa.map((k) => k.close),
        ["42.5"],
      );
    } finally {
      await gateway.stop();
      await reader.close();
    }
  } finally {
    server.kill("SIGTERM");
  }
});
