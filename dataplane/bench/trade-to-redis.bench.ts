/**
 * Trade-to-Redis latency through real processes: a local WebSocket server
 * plays Binance (combined `@trade` streams), `klagg local` runs 2 worker
 * processes on it (KLAGG_BINANCE_WS_URL) and its gateway publishes to a real
 * Redis (REDIS_URL). For every trade, latency = time the SnapshotUpdate whose
 * 1s kline first includes its id (lastTradeId) arrived on the Redis channel,
 * minus the time the server sent the trade. Covers the WS hop, ingestion,
 * the wait for the next pull (up to one tick), the gateway tick, the Redis
 * MULTI and pub/sub delivery.
 *
 * Reference in the same run: the tick. Goal: p99 < tick + 20 ms.
 * Skipped (with the reason printed) when REDIS_URL is not set.
 * Run: node dataplane/dist/bench/trade-to-redis.bench.js
 */
import { spawn } from "node:child_process";
import type { AddressInfo } from "node:net";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { fromBinary } from "@bufbuild/protobuf";
import { Redis } from "ioredis";
import { WebSocketServer, type WebSocket } from "ws";
import { SnapshotUpdateSchema } from "../src/gen/klagg/v1/snapshot_pb.js";
import { updatesChannel } from "../src/scheduler/snapshot-bus.js";

const TICK_MS = 100;
const SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "DOGEUSDT"];
const TRADES_PER_SECOND = 300;
const MEASURE_MS = 8000;
const CLI = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function main(): Promise<void> {
  const redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    console.log(
      "trade-to-redis: SKIPPED: REDIS_URL is not set (run under `deploy/local/klagg-infra with-infra -- ...`)",
    );
    return;
  }
  const name = `bench-${process.pid}`;
  // The fake exchange: remembers every client's streams; trades are pushed to the clients that asked for them.
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  const clients: { ws: WebSocket; streams: Set<string> }[] = [];
  wss.on("connection", (ws, req) => {
    const streams = new URL(req.url ?? "/", "ws://x").searchParams.get("streams") ?? "";
    const c = { ws, streams: new Set(streams.split("/")) };
    clients.push(c);
    ws.on("close", () => clients.splice(clients.indexOf(c), 1));
  });
  const port = (wss.address() as AddressInfo).port;

  const sentAt = new Map<string, number[]>(SYMBOLS.map((s) => [s, [0]])); // index = trade id
  const measured = new Map<string, number>(SYMBOLS.map((s) => [s, 0])); // highest id measured
  const latencies: number[] = [];
  let measuring = false;
  let measureFrom = Infinity; // only trades sent after this are measured

  const sub = new Redis(redisUrl, { maxRetriesPerRequest: null });
  sub.on("error", () => undefined);
  await sub.subscribe(updatesChannel(name));
  let updates = 0;
  sub.on("messageBuffer", (_ch: Buffer, msg: Buffer) => {
    const now = performance.now();
    updates++;
    const u = fromBinary(SnapshotUpdateSchema, msg);
    const last = new Map<string, number>();
    for (const k of u.klines) {
      if (k.interval !== "1s") continue;
      last.set(k.symbol, Math.max(last.get(k.symbol) ?? 0, Number(k.lastTradeId)));
    }
    for (const [sym, id] of last) {
      const sent = sentAt.get(sym);
      const from = measured.get(sym) ?? 0;
      if (sent === undefined || id <= from) continue;
      for (let i = from + 1; i <= id && i < sent.length; i++) {
        if (measuring && sent[i]! >= measureFrom) latencies.push(now - sent[i]!);
      }
      measured.set(sym, Math.min(id, sent.length - 1));
    }
  });

  const local = spawn(
    process.execPath,
    [
      CLI,
      "local",
      "--source",
      "binance",
      "--market",
      "spot",
      "--symbols",
      SYMBOLS.join(","),
      "--intervals",
      "1s,1m,5m,1h",
      "--workers",
      "2",
      "--tick",
      `${TICK_MS}ms`,
      "--redis",
      redisUrl,
      "--name",
      name,
      "--view",
      "none",
    ],
    {
      env: { ...process.env, KLAGG_BINANCE_WS_URL: `ws://127.0.0.1:${port}` },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  local.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((r) => local.on("exit", (code) => r(code)));

  let nextSym = 0;
  const send = (): void => {
    const sym = SYMBOLS[nextSym++ % SYMBOLS.length]!;
    const ids = sentAt.get(sym)!;
    const id = ids.length;
    const t = Date.now();
    const stream = `${sym.toLowerCase()}@trade`;
    const msg = JSON.stringify({
      stream,
      data: { e: "trade", E: t, s: sym, t: id, p: "100.00", q: "0.001", T: t, m: id % 2 === 0, M: true },
    });
    ids.push(performance.now());
    for (const c of clients) if (c.streams.has(stream)) c.ws.send(msg);
  };

  try {
    // Wait until both workers are connected and updates flow.
    const ready = Date.now() + 30_000;
    while (clients.length < 2 || updates < 3) {
      if (Date.now() > ready) throw new Error(`klagg local did not come up; stderr:\n${stderr.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
      send();
    }
    await new Promise((r) => setTimeout(r, 1000));
    measuring = true;
    measureFrom = performance.now();
    const every = 1000 / TRADES_PER_SECOND;
    const start = performance.now();
    let sent = 0;
    while (performance.now() - start < MEASURE_MS) {
      const due = Math.floor((performance.now() - start) / every);
      while (sent < due) {
        send();
        sent++;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 3 * TICK_MS + 200));
    measuring = false;
    const sorted = [...latencies].sort((a, b) => a - b);
    const p50 = pct(sorted, 50);
    const p99 = pct(sorted, 99);
    console.log(
      `trade-to-redis: ${sent} trades sent over ${MEASURE_MS / 1000}s, ${sorted.length} measured ` +
        `(2 workers, ${SYMBOLS.length} symbols; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores)`,
    );
    console.log(
      `  latency ms: p50 ${p50.toFixed(1)}  p90 ${pct(sorted, 90).toFixed(1)}  p99 ${p99.toFixed(1)}  max ${(sorted.at(-1) ?? NaN).toFixed(1)}`,
    );
    console.log(
      `  vs tick ${TICK_MS} ms: p50 = ${(p50 / TICK_MS).toFixed(2)} x tick, p99 = tick + ${(p99 - TICK_MS).toFixed(1)} ms ` +
        `(goal: tick + 20 ms) -> ${p99 < TICK_MS + 20 ? "MET" : "NOT MET"}`,
    );
  } finally {
    local.kill("SIGTERM");
    const code = await exited;
    if (code !== 0) console.log(`  (klagg local exited with ${code})`);
    sub.disconnect();
    for (const c of clients) c.ws.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
