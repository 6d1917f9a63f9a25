/**
 * The headline acceptance test: the BUILT `klagg aggregate` CLI, run
 * as a subprocess on the real Binance ws-captures, reproduces every official
 * kline the captures fully cover, byte for byte in Binance's dump format.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { binanceData } from "../support/shared-data.js";

/** dataplane/dist/test/integration -> the repository root. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
const CLI = join(ROOT, "dataplane/dist/src/cli/main.js");

/** Rows of a kline CSV by open time (a header row, if any, skipped). */
function rows(path: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (/^\d/.test(line)) out.set(Number(line.slice(0, line.indexOf(","))), line.trim());
  }
  return out;
}

async function aggregate(args: string[]): Promise<{ dir: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), "klagg-aggregate-"));
  const { stderr } = await promisify(execFile)(
    process.execPath,
    [CLI, "aggregate", ...args, "--out-dir", dir],
    {
      cwd: ROOT,
    },
  );
  return { dir, stderr };
}

const at = (iso: string): number => Date.parse(iso);

function assertCovered(produced: Map<number, string>, official: Map<number, string>, opens: string[]): void {
  for (const iso of opens) {
    const t = at(iso);
    const want = official.get(t);
    assert.ok(want, `official file lacks the ${iso} kline`);
    assert.equal(produced.get(t), want, `kline ${iso} differs`);
  }
}

test("usdm capture: 1m klines 23:55-23:59 and the 3m kline 23:57 equal the official ones", async () => {
  const { dir, stderr } = await aggregate([
    "--input",
    binanceData("ws-captures/usdm-btcusdt-20240808.gz"),
    "--intervals",
    "1m,3m,5m,1h,1d",
  ]);
  try {
    assert.match(stderr, /market usdm/, "the market is guessed from the file");
    assert.match(stderr, /trades: +21313 aggregated/);
    assert.match(stderr, /rejected: 0/);
    const m1 = rows(join(dir, "BTCUSDT-1m.csv"));
    assertCovered(m1, rows(binanceData("klines/usdm-BTCUSDT-1m-2024-08-08T2330-0030.csv")), [
      "2024-08-08T23:55:00Z",
      "2024-08-08T23:56:00Z",
      "2024-08-08T23:57:00Z",
      "2024-08-08T23:58:00Z",
      "2024-08-08T23:59:00Z",
    ]);
    assertCovered(
      rows(join(dir, "BTCUSDT-3m.csv")),
      rows(binanceData("klines/usdm-BTCUSDT-3m-2024-08-08T2330-0030.csv")),
      ["2024-08-08T23:57:00Z"],
    );
    // The partly covered first minute must NOT match: the comparison is not vacuous.
    const partial = at("2024-08-08T23:54:00Z");
    assert.ok(m1.has(partial));
    assert.notEqual(
      m1.get(partial),
      rows(binanceData("klines/usdm-BTCUSDT-1m-2024-08-08T2330-0030.csv")).get(partial),
    );
    for (const iv of ["5m", "1h", "1d"])
      assert.ok(existsSync(join(dir, `BTCUSDT-${iv}.csv`)), `${iv} file written`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("spot captures of two days: the 5m klines 23:55 and 00:00 equal the official ones", async () => {
  const { dir, stderr } = await aggregate([
    "--input",
    binanceData("ws-captures/spot-btcusdt-20240808.gz"),
    "--input",
    binanceData("ws-captures/spot-btcusdt-20240809.gz"),
    "--intervals",
    "1m,3m,5m,1h,1d",
  ]);
  try {
    assert.match(stderr, /market spot/);
    assert.match(stderr, /trades: +19904 aggregated/);
    const produced = rows(join(dir, "BTCUSDT-5m.csv"));
    assertCovered(produced, rows(binanceData("klines/spot-BTCUSDT-5m-2024-08-08T2330-0030.csv")), [
      "2024-08-08T23:55:00Z",
      "2024-08-09T00:00:00Z",
    ]);
    // Spot rows use Binance's 8-decimal format throughout.
    assert.match(produced.get(at("2024-08-08T23:55:00Z")) ?? "", /^\d+,\d+\.\d{8},/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bad usage exits 2 with a message naming the problem", async () => {
  await assert.rejects(
    promisify(execFile)(process.execPath, [
      CLI,
      "aggregate",
      "--input",
      "x.gz",
      "--out-dir",
      "/tmp/x",
      "--intervals",
      "7m",
    ]),
    (e: { code?: number; stderr?: string }) => e.code === 2 && /--intervals="7m"/.test(e.stderr ?? ""),
  );
  await assert.rejects(
    promisify(execFile)(process.execPath, [CLI, "aggregate", "--out-dir", "/tmp/x"]),
    (e: { code?: number; stderr?: string }) => e.code === 2 && /--input is required/.test(e.stderr ?? ""),
  );
});

test("a missing input file exits 1 naming the file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "klagg-aggregate-"));
  try {
    await assert.rejects(
      promisify(execFile)(process.execPath, [
        CLI,
        "aggregate",
        "--input",
        join(dir, "nope.gz"),
        "--out-dir",
        dir,
      ]),
      (e: { code?: number; stderr?: string }) => e.code === 1 && /nope\.gz/.test(e.stderr ?? ""),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
