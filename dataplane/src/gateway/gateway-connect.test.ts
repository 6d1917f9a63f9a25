import { test } from "node:test";
import assert from "node:assert/strict";
import { parseGatewayConfig } from "../config/gateway.js";
import { Gateway } from "./gateway.js";
import type { PullRequestArgs, PullResult, WorkerPuller } from "./ports.js";
import { FakeWorker, captureLog, testMetrics } from "./fakes.test-helper.js";

/** A worker whose connection takes `connectMs` to come up (or never does), recording the order of events. */
class SlowConnect implements WorkerPuller {
  readonly events: string[] = [];
  constructor(
    private readonly inner: FakeWorker,
    private readonly connectMs: number,
    private readonly fails = false,
  ) {}
  async connect(timeoutMs: number): Promise<void> {
    this.events.push(`connect ${timeoutMs}`);
    await new Promise((r) => setTimeout(r, this.connectMs));
    if (this.fails) throw new Error("connection refused");
    this.events.push("connected");
  }
  pull(req: PullRequestArgs, deadlineMs: number, signal?: AbortSignal): Promise<PullResult> {
    this.events.push("pull");
    return this.inner.pull(req, deadlineMs, signal);
  }
}

function setup(w0: SlowConnect, w1: SlowConnect) {
  const config = parseGatewayConfig({
    KLAGG_WORKERS: "w0=127.0.0.1:1,w1=127.0.0.1:2",
    KLAGG_SYMBOLS: "AAA,BBB",
    KLAGG_INTERVALS: "1m",
    KLAGG_TICK: "100ms",
    KLAGG_PULL_DEADLINE: "20ms",
  });
  const { log, lines } = captureLog();
  const gw = new Gateway(config, {
    workers: [
      { endpoint: config.workers[0]!, puller: w0 },
      { endpoint: config.workers[1]!, puller: w1 },
    ],
    publishers: [],
    log,
    metrics: testMetrics().metrics,
  });
  return { gw, lines };
}

test("the first tick waits for the worker connections, so connecting never costs a pull deadline", async () => {
  const w0 = new SlowConnect(new FakeWorker("w0", ["AAA"]), 60);
  const w1 = new SlowConnect(new FakeWorker("w1", ["BBB"]), 5);
  const { gw, lines } = setup(w0, w1);
  const first = new Promise<string[]>((resolve) => gw.onTick((r) => resolve([...r.failedWorkers])));
  gw.start();
  assert.deepEqual(await first, [], "no worker failed the first tick");
  await gw.stop();
  assert.deepEqual(w0.events.slice(0, 3), ["connect 1000", "connected", "pull"]);
  assert.deepEqual(w1.events.slice(0, 3), ["connect 1000", "connected", "pull"]);
  assert.ok(!lines.some((l) => l.level === "error"), "no deadline errors at startup");
});

test("a worker that cannot be reached before the first tick is logged once and the ticks go on", async () => {
  const w0 = new SlowConnect(new FakeWorker("w0", ["AAA"]), 1, true);
  const w1 = new SlowConnect(new FakeWorker("w1", ["BBB"]), 1);
  const { gw, lines } = setup(w0, w1);
  const first = new Promise<void>((resolve) => gw.onTick(() => resolve()));
  gw.start();
  await first;
  await gw.stop();
  const warn = lines.filter((l) => l.msg === "worker not reachable before the first tick; pulling anyway");
  assert.equal(warn.length, 1);
  assert.equal(warn[0]!.worker, "w0");
  assert.ok(w0.events.includes("pull"), "the unreachable worker is still pulled");
});
