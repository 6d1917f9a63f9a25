/**
 * End to end on the real services: `klagg local --source replay:<capture> --workers 2 --redis --kafka
 * --clickhouse --exit-when-done` (the built CLI), then `klagg.klines FINAL` must equal Binance's official klines
 * in ../shared/data/binance/klines for every kline the captures cover, on all fields. One run per market
 * (USD-M; spot over its two consecutive files), each into its own database and topic.
 * Reads REDIS_URL, KAFKA_BROKERS and CLICKHOUSE_URL.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { toFixedDecimals } from "../../src/core/decimal.js";
import { ClickHouseSink } from "../../src/writer/clickhouse-adapter.js";
import { binanceData } from "../support/shared-data.js";
import { CLI, exited, requireEnv } from "./writer-harness.js";
import { Kafka, logLevel } from "kafkajs";

const REDIS_URL = requireEnv("REDIS_URL");
const KAFKA_BROKERS = requireEnv("KAFKA_BROKERS");
const CLICKHOUSE_URL = requireEnv("CLICKHOUSE_URL");
const id = `${process.pid}_${Date.now()}`;
const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup) await c().catch(() => undefined);
});

/** Official rows by open time of one kline file (header row skipped). */
function official(file: string): Map<number, string[]> {
  const rows = readFileSync(binanceData(`klines/${file}`), "utf8").split("\n");
  const out = new Map<number, string[]>();
  for (const line of rows) {
    if (!/^\d/.test(line)) continue;
    const cols = line.trim().split(",");
    out.set(Number(cols[0]), cols);
  }
  return out;
}

/** Runs klagg local on `captures` into database `db`; returns the run's stderr on failure. */
async function runLocal(market: string, captures: string[], db: string, topic: string): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      "local",
      "--source",
      `replay:${captures.map((c) => binanceData(`ws-captures/${c}`)).join(",")}`,
      "--market",
      market,
      "--symbols",
      "BTCUSDT",
      "--workers",
      "2",
      "--speed",
      "0",
      "--name",
      `e2e-${market}-${id.replace(/_/g, "-")}`,
      "--redis",
      REDIS_URL,
      "--kafka",
      KAFKA_BROKERS,
      "--kafka-topic",
      topic,
      "--clickhouse",
      CLICKHOUSE_URL,
      "--exit-when-done",
      "--view",
      "none",
    ],
    {
      stdio: ["ignore", "ignore", "pipe"],
      env: {
        PATH: process.env.PATH ?? "",
        KLAGG_CLICKHOUSE_DATABASE: db,
        KLAGG_WRITER_GROUP: `e2e-${market}-${id}`,
      },
    },
  );
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  const code = await exited(child);
  clearTimeout(timer);
  assert.equal(code, 0, `klagg local exited ${code}:\n${stderr.slice(-4000)}`);
}

/**
 * Compares the table's rows of `interval` with the official file on the covered open times: every official column
 * equals the stored exact value cut to the official file's decimals (see core/kline-csv.ts on rounding).
 */
async function compare(ch: ClickHouseSink, db: string, interval: string, file: string, covered: number[]) {
  const text = await ch.queryText(
    `SELECT toUInt64(open_time) * 1000, open, high, low, close, volume, close_time, quote_volume, trades, ` +
      `taker_buy_volume, taker_buy_quote_volume, closed FROM ${db}.klines FINAL ` +
      `WHERE symbol = 'BTCUSDT' AND \`interval\` = '${interval}' ORDER BY open_time FORMAT TabSeparated`,
  );
  const stored = new Map(
    text
      .split("\n")
      .filter((l) => l.length > 0)
      .map((l) => l.split("\t"))
      .map((c) => [Number(c[0]), c] as const),
  );
  const want = official(file);
  for (const openTime of covered) {
    const o = want.get(openTime);
    const s = stored.get(openTime);
    assert.ok(o, `official ${file} has ${openTime}`);
    assert.ok(s, `klagg.klines has ${interval} ${new Date(openTime).toISOString()}`);
    assert.equal(s[11], "1", `${interval} ${openTime} is closed`);
    const got = [
      s[0],
      ...[1, 2, 3, 4, 5].map((i) => toFixedDecimals(s[i]!, decimals(o[i]!), "truncate")),
      s[6],
      toFixedDecimals(s[7]!, decimals(o[7]!), "truncate"),
      s[8],
      toFixedDecimals(s[9]!, decimals(o[9]!), "truncate"),
      toFixedDecimals(s[10]!, decimals(o[10]!), "truncate"),
    ];
    assert.deepEqual(got, o.slice(0, 11), `${interval} ${new Date(openTime).toISOString()}`);
  }
}

function decimals(v: string): number {
  const i = v.indexOf(".");
  return i < 0 ? 0 : v.length - i - 1;
}

async function prepareCleanup(db: string, topic: string): Promise<ClickHouseSink> {
  const ch = new ClickHouseSink({ url: CLICKHOUSE_URL, database: db, requestTimeoutMs: 10_000 });
  cleanup.push(async () => {
    await ch.command(`DROP DATABASE IF EXISTS ${db}`).catch(() => undefined);
    await ch.close();
    const admin = new Kafka({
      clientId: "e2e",
      brokers: KAFKA_BROKERS.split(","),
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => undefined);
    await admin.disconnect();
  });
  return ch;
}

const min = (hhmm: string): number => Date.parse(`2024-08-08T${hhmm}:00Z`);

test("USD-M replay through workers, gateway, Kafka and the writer: ClickHouse holds the official 1m and 3m klines", async () => {
  const db = `klagg_e2e_usdm_${id}`;
  const topic = `klagg-e2e-usdm-${id}`;
  const ch = await prepareCleanup(db, topic);
  await runLocal("usdm", ["usdm-btcusdt-20240808.gz"], db, topic);
  const oneMin = ["23:55", "23:56", "23:57", "23:58", "23:59"].map(min);
  await compare(ch, db, "1m", "usdm-BTCUSDT-1m-2024-08-08T2330-0030.csv", oneMin);
  await compare(ch, db, "3m", "usdm-BTCUSDT-3m-2024-08-08T2330-0030.csv", [min("23:57")]);
});

test("spot replay over two consecutive captures: ClickHouse holds the official 5m klines", async () => {
  const db = `klagg_e2e_spot_${id}`;
  const topic = `klagg-e2e-spot-${id}`;
  const ch = await prepareCleanup(db, topic);
  await runLocal("spot", ["spot-btcusdt-20240808.gz", "spot-btcusdt-20240809.gz"], db, topic);
  await compare(ch, db, "5m", "spot-BTCUSDT-5m-2024-08-08T2330-0030.csv", [
    min("23:55"),
    Date.parse("2024-08-09T00:00:00Z"),
  ]);
});
