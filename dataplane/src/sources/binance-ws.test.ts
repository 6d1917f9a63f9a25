import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createLogger } from "../obs/log.js";
import { binanceData } from "../../test/support/shared-data.js";
import { captureLog, CollectingSink } from "../../test/support/collecting-sink.js";
import {
  loadCapture,
  waitFor,
  WsReplayServer,
  type ReplayServerOptions,
} from "../../test/support/ws-replay-server.js";
import { BinanceWsSource, planStreams, streamUrl, type BinanceWsOptions } from "./binance-ws.js";
import type { GapEvent } from "./seq-tracker.js";

const quiet = createLogger("test", { sink: () => {} });

/** The spot capture's first 12,000 messages: trades among depth and bookTicker. */
let messages: string[] = [];
/** Index in `messages` of every @trade message. */
let tradeIdx: number[] = [];

before(async () => {
  messages = await loadCapture(binanceData("ws-captures/spot-btcusdt-20240808.gz"), 12_000);
  tradeIdx = messages.flatMap((m, i) => (m.includes('"stream":"btcusdt@trade"') ? [i] : []));
});

const servers: WsReplayServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

interface Run {
  server: WsReplayServer;
  source: BinanceWsSource;
  sink: CollectingSink;
  gaps: GapEvent[];
  stop: () => Promise<void>;
}

async function startRun(
  server: Partial<ReplayServerOptions>,
  client: Partial<BinanceWsOptions> = {},
): Promise<Run> {
  const srv = await WsReplayServer.start({ messages, ...server });
  servers.push(srv);
  const gaps: GapEvent[] = [];
  const source = new BinanceWsSource({
    symbols: ["BTCUSDT"],
    baseUrl: srv.baseUrl,
    backoffInitialMs: 20,
    backoffMaxMs: 100,
    log: quiet,
    onGap: (g) => gaps.push(g),
    ...client,
  });
  const sink = new CollectingSink();
  const ac = new AbortController();
  const done = source.run(sink, ac.signal);
  return {
    server: srv,
    source,
    sink,
    gaps,
    stop: async () => {
      ac.abort();
      await done;
    },
  };
}

function assertContiguous(sink: CollectingSink): void {
  for (let i = 1; i < sink.trades.length; i++) {
    assert.equal(
      sink.trades[i]?.firstId,
      (sink.trades[i - 1]?.firstId ?? 0) + 1,
      `trade ${i} follows ${i - 1}`,
    );
  }
}

describe("stream planning", () => {
  it("splits symbols into connections of at most the configured number of streams", () => {
    const syms = Array.from({ length: 450 }, (_, i) => `S${i}USDT`);
    const plan = planStreams(syms, "trade", 200);
    assert.deepEqual(
      plan.map((p) => p.length),
      [200, 200, 50],
    );
    assert.equal(plan[0]?.[0], "s0usdt@trade");
    assert.equal(
      streamUrl("wss://fstream.binance.com/", ["btcusdt@aggTrade", "ethusdt@aggTrade"]),
      "wss://fstream.binance.com/stream?streams=btcusdt@aggTrade/ethusdt@aggTrade",
    );
  });

  it("uses the market's default base URL and refuses bad settings", () => {
    const spot = new BinanceWsSource({ symbols: ["btcusdt", "ETHUSDT"], log: quiet });
    assert.deepEqual(spot.urls(), [
      "wss://stream.binance.com:9443/stream?streams=btcusdt@trade/ethusdt@trade",
    ]);
    const usdm = new BinanceWsSource({
      symbols: ["BTCUSDT"],
      market: "usdm",
      stream: "aggTrade",
      log: quiet,
    });
    assert.deepEqual(usdm.urls(), ["wss://fstream.binance.com/stream?streams=btcusdt@aggTrade"]);
    assert.throws(() => new BinanceWsSource({ symbols: [], log: quiet }), /at least one symbol/);
    assert.throws(() => new BinanceWsSource({ symbols: ["BTC USDT"], log: quiet }), /invalid symbol/);
    assert.throws(
      () => new BinanceWsSource({ symbols: ["A"], maxStreamsPerConnection: 1025, log: quiet }),
      /1\.\.1024/,
    );
  });
});

describe("BinanceWsSource against a local replay server", () => {
  it("delivers every captured trade once, in order, ignoring depth and bookTicker", async () => {
    const r = await startRun({});
    await waitFor(() => r.sink.trades.length === tradeIdx.length, "all trades");
    await r.stop();
    assertContiguous(r.sink);
    assert.equal(r.sink.rejects.length, 0);
    const st = r.source.stats();
    assert.equal(st.trades, tradeIdx.length);
    assert.equal(st.ignored, messages.length - tradeIdx.length);
    assert.equal(st.gaps, 0);
    assert.equal(r.sink.trades[0]?.price, "61837.63000000");
  });

  it("reconnects after the server drops the connection and reports the gap with its size", async () => {
    const dropAt = 3000;
    const skip = 500;
    const r = await startRun({ plan: (n) => (n === 0 ? { dropAfter: dropAt } : { skip }) });
    const missing = tradeIdx.filter((i) => i >= dropAt && i < dropAt + skip).length;
    const expected = tradeIdx.length - missing;
    await waitFor(() => r.sink.trades.length === expected, "trades after the gap");
    await r.stop();
    assert.equal(r.server.connections.length, 2);
    assert.equal(r.source.stats().reconnects, 1);
    assert.equal(r.gaps.length, 1);
    assert.equal(r.gaps[0]?.missing, missing);
    assert.equal(r.source.stats().missingIds, missing);
    assert.ok(missing > 0);
  });

  it("reports no gap when the server resumes where it left off", async () => {
    const r = await startRun({ plan: (n) => (n === 0 ? { dropAfter: 2500 } : {}) });
    await waitFor(() => r.sink.trades.length === tradeIdx.length, "all trades");
    await r.stop();
    assert.equal(r.server.connections.length, 2);
    assert.equal(r.gaps.length, 0);
    assertContiguous(r.sink);
  });

  it("drops trades replayed twice after a reconnect as duplicates", async () => {
    const r = await startRun({ plan: (n) => (n === 0 ? { dropAfter: 2500 } : { rewind: 400 }) });
    await waitFor(() => r.sink.trades.length === tradeIdx.length, "all trades");
    await r.stop();
    assertContiguous(r.sink);
    assert.equal(r.source.stats().duplicates, tradeIdx.filter((i) => i >= 2100 && i < 2500).length);
  });

  it("terminates a silent connection after the liveness timeout and reconnects", async () => {
    const log = captureLog();
    const r = await startRun(
      { plan: (n) => (n === 0 ? { stallAfter: 1000 } : {}) },
      { livenessTimeoutMs: 300, pingIntervalMs: 50, log: createLogger("t", { sink: log.sink }) },
    );
    await waitFor(() => r.sink.trades.length === tradeIdx.length, "all trades after the stall");
    await r.stop();
    const st = r.source.stats();
    assert.equal(st.livenessTimeouts, 1);
    assert.equal(st.reconnects, 1);
    assert.ok((r.server.connections[0]?.pingsReceived ?? 0) >= 3, "client pinged the silent server");
    assert.ok(
      log.lines.some(
        (l) => l.msg === "websocket closed; reconnecting" && String(l.why).startsWith("liveness"),
      ),
    );
    assertContiguous(r.sink);
  });

  it("keeps a connection alive through quiet periods when the server answers pings", async () => {
    const r = await startRun(
      { messages: messages.slice(0, 50) },
      { livenessTimeoutMs: 150, pingIntervalMs: 30 },
    );
    await new Promise((res) => setTimeout(res, 450));
    await r.stop();
    assert.equal(r.source.stats().livenessTimeouts, 0);
    assert.equal(r.server.connections.length, 1);
  });

  it("rotates connections make-before-break without losing or duplicating trades", async () => {
    const part = messages.slice(0, 6000);
    const r = await startRun(
      { messages: part, batch: 40, intervalMs: 4, plan: (n) => (n === 0 ? {} : { rewind: 100 }) },
      { maxConnectionAgeMs: 200, overlapMs: 60 },
    );
    const expected = tradeIdx.filter((i) => i < part.length).length;
    await waitFor(() => r.sink.trades.length === expected, "all trades", 10_000);
    await r.stop();
    const st = r.source.stats();
    assert.ok(st.rotations >= 1, `rotations ${st.rotations}`);
    assert.ok(st.duplicates > 0, "the overlap delivered duplicates that were dropped");
    assert.equal(st.gaps, 0);
    assert.equal(st.reconnects, 0);
    assertContiguous(r.sink);
  });

  it("switches to the new connection at once when the old one dies during a rotation", async () => {
    const log = captureLog();
    const part = messages.slice(0, 6000);
    const r = await startRun(
      {
        messages: part,
        batch: 40,
        intervalMs: 4,
        plan: (n) => (n === 0 ? { dropWhenNewerSent: 200 } : { rewind: 100 }),
      },
      { maxConnectionAgeMs: 150, overlapMs: 60_000, log: createLogger("t", { sink: log.sink }) },
    );
    const expected = tradeIdx.filter((i) => i < part.length).length;
    await waitFor(() => r.sink.trades.length === expected, "all trades", 10_000);
    await r.stop();
    const st = r.source.stats();
    assert.ok(st.rotations >= 1);
    assert.equal(st.reconnects, 0);
    assert.equal(st.gaps, 0);
    assert.ok(log.lines.some((l) => l.msg === "connection closed during rotation; switching to the new one"));
    assertContiguous(r.sink);
  });

  it("opens one connection per group of streams", async () => {
    const r = await startRun(
      { filterByStreams: true },
      { symbols: ["BTCUSDT", "ETHUSDT", "BNBUSDT"], maxStreamsPerConnection: 2, connectStaggerMs: 10 },
    );
    await waitFor(
      () => r.server.connections.length === 2 && r.sink.trades.length === tradeIdx.length,
      "two connections",
    );
    await r.stop();
    assert.deepEqual(r.server.connections.map((c) => c.url).sort(), [
      "/stream?streams=bnbusdt@trade",
      "/stream?streams=btcusdt@trade/ethusdt@trade",
    ]);
    assert.equal(r.source.stats().ignored, 0);
  });

  it("rejects bad messages and trades of unknown symbols without dropping the connection", async () => {
    const trade = messages[tradeIdx[0] ?? 0] ?? "";
    const bad = [
      "not json",
      trade.replace('"s":"BTCUSDT"', '"s":"XRPUSDT"'),
      trade.replace(/"p":"[^"]*"/, '"p":"NaN"'),
      trade.replace(/"q":"[^"]*"/, '"q":"0"'),
      trade.replace(/"T":\d+/, '"T":1'),
      `{"stream":"x","data":{"e":"trade","pad":"${"x".repeat(70_000)}"}}`,
      trade,
    ];
    const r = await startRun({ messages: bad });
    await waitFor(() => r.sink.trades.length === 1, "the good trade");
    await r.stop();
    assert.deepEqual(r.sink.reasons(), [
      "malformed_json",
      "unknown_symbol",
      "bad_price",
      "non_positive_quantity",
      "absurd_timestamp",
      "line_too_long",
    ]);
    assert.equal(r.server.connections.length, 1);
  });

  it("keeps retrying with backoff while the server is unreachable, and stops on abort", async () => {
    const srv = await WsReplayServer.start({ messages });
    const url = srv.baseUrl;
    await srv.close();
    const log = captureLog();
    const source = new BinanceWsSource({
      symbols: ["BTCUSDT"],
      baseUrl: url,
      backoffInitialMs: 10,
      backoffMaxMs: 40,
      log: createLogger("t", { sink: log.sink }),
    });
    const ac = new AbortController();
    const done = source.run(new CollectingSink(), ac.signal);
    await waitFor(() => source.stats().reconnects >= 4, "several reconnect attempts");
    ac.abort();
    await done;
    const delays = log.lines
      .filter((l) => l.msg === "websocket closed; reconnecting")
      .map((l) => Number(l.delay_ms));
    assert.ok(delays.every((d) => d <= 40));
    assert.equal(source.stats().connectionsOpened, 0);
  });
});
