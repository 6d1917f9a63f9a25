/**
 * The BUILT `klagg worker` CLI as a subprocess, replaying the USD-M capture:
 * a real gRPC client pulls it like the gateway does until `source_done`; the
 * covered 1m klines equal Binance's official ones; on SIGTERM the worker turns
 * NOT_SERVING, keeps answering pulls until the final version is acked, then
 * exits 0 well before its drain period ends.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { formatKlineCsvRow } from "../../src/core/kline-csv.js";
import { fromProtoKline } from "../../src/grpc/kline-proto.js";
import { WorkerClient, type PullResult } from "../../src/grpc/worker-client.js";
import { binanceData } from "../support/shared-data.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
const CLI = join(ROOT, "dataplane/dist/src/cli/main.js");

test("a replaying worker serves the official klines over gRPC and drains on SIGTERM", async () => {
  const child = spawn(
    process.execPath,
    [
      CLI,
      "worker",
      "--name=replay-0",
      "--symbols",
      "BTCUSDT",
      "--intervals",
      "1m,3m",
      "--market",
      "usdm",
      "--source",
      `replay:${binanceData("ws-captures/usdm-btcusdt-20240808.gz")}`,
      "--replay-speed",
      "0",
      "--grpc-host",
      "127.0.0.1",
      "--grpc-port",
      "0",
      "--metrics-host",
      "127.0.0.1",
      "--metrics-port",
      "0",
      "--drain",
      "20s",
    ],
    { stdio: ["ignore", "ignore", "pipe"], env: { PATH: process.env.PATH } },
  );
  const logs: Array<Record<string, unknown>> = [];
  let buf = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => {
    buf += s;
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      logs.push(JSON.parse(buf.slice(0, i)) as Record<string, unknown>);
      buf = buf.slice(i + 1);
    }
  });
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const waitLog = async (msg: string): Promise<Record<string, unknown>> => {
    for (let i = 0; i < 500; i++) {
      const l = logs.find((x) => x.msg === msg);
      if (l) return l;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no "${msg}" log line; got ${JSON.stringify(logs)}`);
  };
  let client: WorkerClient | undefined;
  try {
    const started = await waitLog("worker started");
    client = new WorkerClient(`127.0.0.1:${String(started.grpc_port)}`, { name: "replay-0" });
    assert.equal(await client.checkHealth(), "SERVING");

    // Pull like the gateway: keep the highest version of every kline, ack what was applied.
    const state = new Map<string, ReturnType<typeof fromProtoKline>>();
    let epoch = 0;
    let ack = 0;
    let last: PullResult | undefined;
    for (let i = 0; i < 1000 && !last?.sourceDone; i++) {
      last = await client.pull({ epoch, ackVersion: ack }, 2000);
      if (last.full) state.clear();
      for (const k of last.klines) {
        const r = fromProtoKline(k);
        state.set(`${r.interval}|${r.openTime}`, r);
      }
      epoch = last.epoch;
      ack = last.version;
      if (!last.sourceDone) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(last?.sourceDone, true, "the worker reports its finished replay");
    assert.equal(last?.worker, "replay-0");
    assert.ok(
      [...state.values()].every((k) => k.closed),
      "a finished replay closes every kline",
    );

    const official = new Map<number, string>();
    for (const line of readFileSync(
      binanceData("klines/usdm-BTCUSDT-1m-2024-08-08T2330-0030.csv"),
      "utf8",
    ).split("\n")) {
      if (/^\d/.test(line)) official.set(Number(line.slice(0, line.indexOf(","))), line.trim());
    }
    for (let t = Date.parse("2024-08-08T23:55:00Z"); t <= Date.parse("2024-08-08T23:59:00Z"); t += 60_000) {
      const k = state.get(`1m|${t}`);
      assert.ok(k, `kline ${new Date(t).toISOString()} was delivered`);
      assert.equal(formatKlineCsvRow(k, "usdm"), official.get(t));
    }

    // Stop without having acked the final answer: the worker must wait for that ack.
    child.kill("SIGTERM");
    await waitLog("worker stopping");
    let health = "SERVING";
    for (let i = 0; i < 100 && health === "SERVING"; i++) {
      health = await client.checkHealth();
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(health, "NOT_SERVING", "health turns NOT_SERVING during the drain");
    const t = Date.now();
    const final = await client.pull({ epoch, ackVersion: ack }, 2000);
    assert.equal(final.klines.length, 0, "nothing new after source_done");
    assert.equal(await exited, 0);
    assert.ok(Date.now() - t < 5000, "the worker exits once acked, not at the end of its 20s drain");
    const drained = logs.find((l) => l.msg === "drain finished");
    assert.equal(drained?.all_acked, true);
  } finally {
    client?.close();
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});

test("the worker CLI rejects an invalid config with exit code 2 and names the key", async () => {
  const child = spawn(
    process.execPath,
    [CLI, "worker", "--symbols", "BTCUSDT", "--shard-count", "2", "--shard-index", "5"],
    {
      stdio: ["ignore", "ignore", "pipe"],
      env: { PATH: process.env.PATH },
    },
  );
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => (err += s));
  const code = await new Promise<number | null>((r) => child.on("exit", r));
  assert.equal(code, 2);
  assert.match(err, /KLAGG_SHARD_INDEX="5": must be below KLAGG_SHARD_COUNT \(2\)/);
});
