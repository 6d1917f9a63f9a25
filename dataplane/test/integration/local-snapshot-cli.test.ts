/**
 * `klagg snapshot` as a process against a real Redis (REDIS_URL): the three
 * formats, an absent key, an unreachable Redis and bad usage.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { toBinary } from "@bufbuild/protobuf";
import { Redis } from "ioredis";
import { SnapshotSchema } from "../../src/gen/klagg/v1/snapshot_pb.js";
import { snapshotKey } from "../../src/scheduler/snapshot-bus.js";
import { FakePublisher, kline } from "../support/snapshot-fixtures.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const T0 = Date.UTC(2024, 7, 8, 23, 55);
let REDIS_URL = "";
let redis: Redis;
const name = `itest-snapcli-${process.pid}`;

function cli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, "snapshot", ...args],
      { timeout: 20_000, env: { PATH: process.env.PATH, ...env } },
      (error, out, err) => resolve({ code: error ? Number(error.code ?? 1) : 0, out, err }),
    );
  });
}

before(async () => {
  if (!process.env.REDIS_URL)
    throw new Error("REDIS_URL is not set: run under `deploy/local/klagg-infra with-infra -- ...`");
  REDIS_URL = process.env.REDIS_URL;
  redis = new Redis(REDIS_URL);
  const snap = new FakePublisher(name).tick([
    kline("BTCUSDT", "1m", T0, "61837.63", { closed: true }),
    kline("ETHUSDT", "5m", T0, "2600.1", { durationMs: 300_000 }),
  ]).snapshot;
  await redis.set(snapshotKey(name), Buffer.from(toBinary(SnapshotSchema, snap)), "EX", 300);
});

after(async () => {
  await redis.del(snapshotKey(name));
  await redis.quit();
});

test("prints the stored snapshot as a table, as CSV in Binance's column order and as JSON", async () => {
  const table = await cli(["--redis", REDIS_URL, "--name", name]);
  assert.equal(table.code, 0, table.err);
  assert.match(table.out, /seq 1/);
  assert.match(table.out, /BTCUSDT\s+1m\s+2024-08-08 23:55:00\s+61837\.63.*closed/);
  const csv = await cli(["--redis", REDIS_URL, "--name", name, "--format", "csv", "--symbol", "ethusdt"]);
  assert.equal(csv.code, 0, csv.err);
  assert.deepEqual(csv.out.trimEnd().split("\n").slice(1), [
    `ETHUSDT,5m,${T0},2600.1,2600.1,2600.1,2600.1,1.000,${T0 + 299_999},100.000,1,0.500,50.000,0,false`,
  ]);
  const json = await cli(["--redis", REDIS_URL, "--name", name, "--format", "json", "--interval", "1m"]);
  assert.equal(json.code, 0, json.err);
  const parsed = JSON.parse(json.out);
  assert.equal(parsed.aggregator, name);
  assert.deepEqual(
    parsed.klines.map((k: { symbol: string }) => k.symbol),
    ["BTCUSDT"],
  );
});

test("an absent snapshot key exits 1 and names the key", async () => {
  const r = await cli(["--redis", REDIS_URL, "--name", `${name}-absent`]);
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`no snapshot at klagg:${name}-absent:snapshot`));
});

test("an unreachable Redis exits 1 with the connection error", async () => {
  const r = await cli(["--redis", "redis://127.0.0.1:1"]);
  assert.equal(r.code, 1);
  assert.match(r.err, /cannot read klagg:local:snapshot from redis:\/\/127\.0\.0\.1:1\/?: .*ECONNREFUSED/);
});

test("bad usage exits 2 and names the problem", async () => {
  const noUrl = await cli([]);
  assert.equal(noUrl.code, 2);
  assert.match(noUrl.err, /--redis URL is required/);
  const badFormat = await cli(["--redis", REDIS_URL, "--format", "xml"]);
  assert.equal(badFormat.code, 2);
  assert.match(badFormat.err, /--format "xml"/);
  const badFlag = await cli(["--redis", REDIS_URL, "--colour"]);
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.err, /unknown flag --colour/);
});
