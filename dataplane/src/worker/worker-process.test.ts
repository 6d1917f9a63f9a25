import { test } from "node:test";
import assert from "node:assert/strict";
import type { RawTrade } from "../core/types.js";
import { parseWorkerConfig } from "../config/worker.js";
import { WorkerClient } from "../grpc/worker-client.js";
import { createLogger } from "../obs/log.js";
import type { TradeSink, TradeSource } from "../sources/trade-source.js";
import { WorkerProcess } from "./worker-process.js";

const T0 = Date.UTC(2024, 7, 8, 23, 55);

function config(extra: Record<string, string> = {}) {
  return parseWorkerConfig({
    KLAGG_SYMBOLS: "BTCUSDT,ETHUSDT",
    KLAGG_INTERVALS: "1m,5m",
    KLAGG_SOURCE: "synthetic",
    KLAGG_GRPC_HOST: "127.0.0.1",
    KLAGG_GRPC_PORT: "0",
    KLAGG_METRICS_HOST: "127.0.0.1",
    KLAGG_METRICS_PORT: "0",
    KLAGG_DRAIN: "300ms",
    ...extra,
  });
}

const trade = (symbol: string, id: number, time: number, price = "100.5"): RawTrade => ({
  symbol,
  firstId: id,
  lastId: id,
  price,
  qty: "0.010",
  time,
  buyerMaker: false,
});

/** A source that plays a fixed script, then ends, fails or waits for the abort. */
class ScriptSource implements TradeSource {
  readonly name = "script";
  constructor(
    private readonly script: (sink: TradeSink) => void,
    private readonly end: "finish" | "fail" | "wait",
  ) {}
  async run(sink: TradeSink, signal: AbortSignal): Promise<void> {
    this.script(sink);
    if (this.end === "fail") throw new Error("feed exploded");
    if (this.end === "wait") await new Promise((r) => signal.addEventListener("abort", r, { once: true }));
  }
}

const quiet = createLogger("worker", { level: "error", sink: () => {} });

test("a finished source closes every kline, reports source_done and exposes its counters", async () => {
  const source = new ScriptSource((sink) => {
    sink.onTrade(trade("BTCUSDT", 1, T0 + 1000));
    sink.onTrade(trade("BTCUSDT", 2, T0 + 61_000, "101.0"));
    sink.onTrade(trade("DOGEUSDT", 1, T0 + 2000));
    sink.onTrade(trade("ETHUSDT", 7, T0 + 3000, "-1"));
    sink.onReject("malformed_json", "{oops");
  }, "finish");
  const w = new WorkerProcess({
    config: config(),
    source,
    log: quiet,
    clock: "trades",
    closeAllOnEnd: true,
  });
  await w.start();
  const client = new WorkerClient(`127.0.0.1:${w.grpcPort}`);
  try {
    let r = await client.pull({ epoch: 0, ackVersion: 0 }, 2000);
    for (let i = 0; i < 50 && !r.sourceDone; i++) {
      await new Promise((res) => setTimeout(res, 10));
      r = await client.pull({ epoch: 0, ackVersion: 0 }, 2000);
    }
    assert.equal(r.sourceDone, true);
    assert.ok(r.klines.length >= 3 && r.klines.every((k) => k.closed && k.symbol === "BTCUSDT"));
    const text = await (await fetch(`http://127.0.0.1:${w.metricsPort}/metrics`)).text();
    assert.match(text, /klagg_worker_trades_total\{service="klagg-worker"\} 4/);
    assert.match(
      text,
      /klagg_worker_rejected_trades_total\{reason="unknown_symbol",stage="engine",service="klagg-worker"\} 1/,
    );
    assert.match(
      text,
      /klagg_worker_rejected_trades_total\{reason="malformed_json",stage="source",service="klagg-worker"\} 1/,
    );
    assert.match(
      text,
      /klagg_worker_rejected_trades_total\{reason="(bad_price|out_of_range)",stage="engine"/,
    );
    assert.match(text, /klagg_worker_pull_duration_seconds_count\{[^}]*full="true"[^}]*\} [1-9]/);
    assert.equal((await fetch(`http://127.0.0.1:${w.metricsPort}/healthz`)).status, 200);
    // Acking the final version lets the stop finish without waiting out the drain.
    await client.pull({ epoch: r.epoch, ackVersion: r.version }, 2000);
    const t = Date.now();
    await w.stop();
    assert.ok(Date.now() - t < 250, "stop did not wait for the drain period");
  } finally {
    client.close();
    await w.stop();
  }
});

test("without an ack, stop keeps serving pulls for the drain period, NOT_SERVING, then stops", async () => {
  const source = new ScriptSource((sink) => sink.onTrade(trade("ETHUSDT", 1, T0)), "wait");
  const w = new WorkerProcess({ config: config(), source, log: quiet, clock: "trades" });
  await w.start();
  const client = new WorkerClient(`127.0.0.1:${w.grpcPort}`);
  try {
    const t = Date.now();
    const stopped = w.stop();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await client.checkHealth(), "NOT_SERVING");
    const r = await client.pull({ epoch: 0, ackVersion: 0 }, 2000);
    assert.equal(r.klines.length, 2, "pulls are still answered while draining");
    assert.equal(r.sourceDone, false, "an aborted live source is not done");
    await stopped;
    assert.ok(Date.now() - t >= 280, "the drain period was honoured");
    await assert.rejects(client.pull({ epoch: r.epoch, ackVersion: r.version }, 500));
  } finally {
    client.close();
  }
});

test("a failing source stops the worker and marks it failed", async () => {
  const w = new WorkerProcess({
    config: config({ KLAGG_DRAIN: "0" }),
    source: new ScriptSource(() => {}, "fail"),
    log: quiet,
    noMetricsServer: true,
  });
  await w.start();
  await w.done;
  assert.equal(w.failed, true);
});

test("an aborted start signal stops the worker gracefully", async () => {
  const ac = new AbortController();
  const w = new WorkerProcess({
    config: config({ KLAGG_DRAIN: "0" }),
    source: new ScriptSource(() => {}, "wait"),
    log: quiet,
    noMetricsServer: true,
  });
  await w.start(ac.signal);
  ac.abort();
  await w.done;
  assert.equal(w.failed, false);
});

test("start fails cleanly when the gRPC port is taken", async () => {
  const a = new WorkerProcess({
    config: config(),
    source: new ScriptSource(() => {}, "wait"),
    log: quiet,
    noMetricsServer: true,
  });
  await a.start();
  try {
    const b = new WorkerProcess({
      config: config({ KLAGG_GRPC_PORT: String(a.grpcPort) }),
      source: new ScriptSource(() => {}, "wait"),
      log: quiet,
      noMetricsServer: true,
    });
    await assert.rejects(b.start(), /cannot bind gRPC server/);
    await b.done;
  } finally {
    await a.stop();
  }
});

test("on the trades clock, newer trades of one symbol close another symbol's quiet klines", async () => {
  let push: ((t: RawTrade) => void) | undefined;
  const source: TradeSource = {
    name: "manual",
    run: (sink, signal) =>
      new Promise((resolve) => {
        push = (t) => sink.onTrade(t);
        signal.addEventListener("abort", () => resolve(), { once: true });
      }),
  };
  const w = new WorkerProcess({ config: config({ KLAGG_DRAIN: "0" }), source, log: quiet, clock: "trades" });
  await w.start();
  const client = new WorkerClient(`127.0.0.1:${w.grpcPort}`);
  try {
    push!(trade("BTCUSDT", 1, T0 + 1000));
    await new Promise((r) => setTimeout(r, 300));
    const before = await client.pull({ epoch: 0, ackVersion: 0 }, 2000);
    assert.ok(
      before.klines.every((k) => !k.closed),
      "no newer time yet: nothing closes",
    );
    push!(trade("ETHUSDT", 1, T0 + 10 * 60_000));
    await new Promise((r) => setTimeout(r, 400)); // at least one clock tick
    const after = await client.pull({ epoch: before.epoch, ackVersion: before.version }, 2000);
    const btc1m = after.klines.find(
      (k) => k.symbol === "BTCUSDT" && k.interval === "1m" && Number(k.openTime) === T0,
    );
    assert.equal(btc1m?.closed, true, "BTCUSDT's 23:55 1m kline closed by ETHUSDT's later trade time");
  } finally {
    client.close();
    await w.stop();
  }
});

test("a worker past its retention bound drops the oldest unacknowledged closed klines with an ERROR and a metric", async () => {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger("worker", {
    level: "error",
    sink: (l) => lines.push(JSON.parse(l) as Record<string, unknown>),
  });
  // 1,300 seconds of trades close 1,299 1s klines: beyond the bound of 1,000, as nothing is acked.
  const source = new ScriptSource((sink) => {
    for (let i = 0; i < 1300; i++) sink.onTrade(trade("BTCUSDT", i + 1, T0 + i * 1000));
  }, "wait");
  const w = new WorkerProcess({
    config: config({ KLAGG_INTERVALS: "1s", KLAGG_MAX_RETAINED_CLOSED: "1000" }),
    source,
    log,
    clock: "trades",
  });
  await w.start();
  try {
    for (let i = 0; i < 100 && !lines.some((l) => l.alert === "KLAGG_WORKER_RETENTION_FULL"); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const alert = lines.find((l) => l.alert === "KLAGG_WORKER_RETENTION_FULL");
    assert.ok(alert, "an ERROR with the alert code");
    assert.equal(alert.level, "error");
    assert.deepEqual([alert.dropped, alert.bound], [299, 1000]);
    const text = await (await fetch(`http://127.0.0.1:${w.metricsPort}/metrics`)).text();
    assert.match(text, /klagg_worker_closed_klines_dropped_total\{service="klagg-worker"\} 299/);
    assert.match(text, /klagg_worker_retained_closed_klines\{service="klagg-worker"\} 1000/);
  } finally {
    await w.stop();
  }
});
