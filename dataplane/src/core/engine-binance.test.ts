/**
 * THE correctness test: the captured Binance @trade messages, aggregated by the
 * engine, reproduce every official kline they fully cover, on all fields, byte
 * for byte in Binance's dump format.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { createEngine } from "./engine.js";
import { formatKlineCsvRow, type Market } from "./kline-csv.js";
import type { Interval, KlineRecord, RawTrade } from "./types.js";

/** dataplane/dist/src/core -> repository root -> its sibling shared/. */
const DATA = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..", "../shared/data/binance");

function dataFile(rel: string): string {
  const p = join(DATA, rel);
  if (!existsSync(p))
    throw new Error(`Binance test data missing: ${p} (expected ../shared/data/binance next to the repo)`);
  return p;
}

/** The @trade messages of a capture (`<ns> <json>` lines), as RawTrades. */
function captureTrades(rel: string): RawTrade[] {
  const out: RawTrade[] = [];
  for (const line of gunzipSync(readFileSync(dataFile(rel)))
    .toString("utf8")
    .split("\n")) {
    const sp = line.indexOf(" ");
    if (sp < 0 || !line.includes('"trade"')) continue;
    const msg = JSON.parse(line.slice(sp + 1)) as { data: Record<string, unknown> };
    const d = msg.data;
    if (d.e !== "trade") continue;
    const id = d.t as number;
    out.push({
      symbol: d.s as string,
      firstId: id,
      lastId: id,
      price: d.p as string,
      qty: d.q as string,
      time: d.T as number,
      buyerMaker: d.m as boolean,
    });
  }
  return out;
}

/** Official rows by open time (header skipped). */
function officialRows(rel: string): Map<number, string> {
  const rows = new Map<number, string>();
  for (const line of readFileSync(dataFile(rel), "utf8").split("\n")) {
    if (!/^\d/.test(line)) continue;
    rows.set(Number(line.slice(0, line.indexOf(","))), line.trim());
  }
  return rows;
}

function aggregate(files: string[], intervals: Interval[]): KlineRecord[] {
  const engine = createEngine({
    symbols: ["BTCUSDT"],
    intervals,
    epoch: 1,
    emptyKlines: true,
    graceMs: 0,
    utcOffsetMinutes: 0,
  });
  for (const f of files) {
    for (const t of captureTrades(f)) assert.equal(engine.ingest(t), undefined);
  }
  engine.closeAll();
  assert.deepEqual(engine.stats().rejected, {});
  assert.equal(engine.stats().gaps, 0);
  return [...engine.pull(0, 0).klines];
}

function check(
  market: Market,
  klines: KlineRecord[],
  interval: Interval,
  csv: string,
  opens: string[],
): void {
  const official = officialRows(`klines/${csv}`);
  for (const iso of opens) {
    const open = Date.parse(iso);
    const ours = klines.find((k) => k.interval === interval && k.openTime === open);
    assert.ok(ours, `no ${interval} kline at ${iso}`);
    const expected = official.get(open);
    assert.ok(expected, `no official ${interval} row at ${iso}`);
    assert.equal(formatKlineCsvRow(ours, market), expected, `${market} ${interval} ${iso}`);
  }
}

test("USD-M captured trades reproduce the official 1m and 3m klines they cover exactly", () => {
  const klines = aggregate(["ws-captures/usdm-btcusdt-20240808.gz"], ["1m", "3m"]);
  const minutes = ["23:55", "23:56", "23:57", "23:58", "23:59"].map((m) => `2024-08-08T${m}:00Z`);
  check("usdm", klines, "1m", "usdm-BTCUSDT-1m-2024-08-08T2330-0030.csv", minutes);
  check("usdm", klines, "3m", "usdm-BTCUSDT-3m-2024-08-08T2330-0030.csv", ["2024-08-08T23:57:00Z"]);
});

test("spot captured trades across two files reproduce the official 5m klines they cover exactly", () => {
  const files = ["ws-captures/spot-btcusdt-20240808.gz", "ws-captures/spot-btcusdt-20240809.gz"];
  const klines = aggregate(files, ["5m"]);
  const opens = ["2024-08-08T23:55:00Z", "2024-08-09T00:00:00Z"];
  check("spot", klines, "5m", "spot-BTCUSDT-5m-2024-08-08T2330-0030.csv", opens);
  // The rounding mode of spot quote volumes is not observable in this data: all modes agree.
  for (const k of klines) {
    const row = formatKlineCsvRow(k, "spot", "truncate");
    assert.equal(formatKlineCsvRow(k, "spot", "half_up"), row);
    assert.equal(formatKlineCsvRow(k, "spot", "half_even"), row);
  }
});

test("summing spot price times quantity in float64 misses the official quote volume that exact sums hit", () => {
  const files = ["ws-captures/spot-btcusdt-20240808.gz", "ws-captures/spot-btcusdt-20240809.gz"];
  const official = officialRows("klines/spot-BTCUSDT-5m-2024-08-08T2330-0030.csv");
  let mismatches = 0;
  for (const open of [Date.parse("2024-08-08T23:55:00Z"), Date.parse("2024-08-09T00:00:00Z")]) {
    let sum = 0;
    for (const files1 of files) {
      for (const t of captureTrades(files1)) {
        if (t.time >= open && t.time < open + 300_000) sum += Number(t.price) * Number(t.qty);
      }
    }
    const quote = official.get(open)!.split(",")[7];
    if (sum.toFixed(8) !== quote) mismatches++;
  }
  assert.ok(mismatches > 0, "float64 unexpectedly reproduced every quote volume");
});
