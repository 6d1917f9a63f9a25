/**
 * End to end through real processes and services: `klagg local` replays the
 * real Binance captures with two worker processes, publishing to a real Redis
 * and a real Kafka (REDIS_URL, KAFKA_BROKERS), and exits by itself
 * (--exit-when-done). The closed klines that reached Redis (the final
 * snapshot, and every update on the channel) and Kafka (newest version per
 * kline) must equal Binance's official klines for every kline the capture
 * covers.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fromBinary } from "@bufbuild/protobuf";
import { Redis } from "ioredis";
import { Kafka, logLevel } from "kafkajs";
import { createTestTopics, deleteTestTopics } from "./kafka-topics.js";
import { formatKlineCsvRow, type Market } from "../../src/core/kline-csv.js";
import { KlineBatchSchema, type Kline } from "../../src/gen/klagg/v1/kline_pb.js";
import { SnapshotUpdateSchema } from "../../src/gen/klagg/v1/snapshot_pb.js";
import { fromProtoKline } from "../../src/grpc/kline-proto.js";
import { createLogger } from "../../src/obs/log.js";
import { RedisSnapshotBus } from "../../src/scheduler/redis-bus.js";
import { updatesChannel } from "../../src/scheduler/snapshot-bus.js";
import { compareDecimals } from "../../src/scheduler/snapshot-format.js";
import { binanceData } from "../support/shared-data.js";
import { leftoverProcesses } from "../support/local-processes.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
let REDIS_URL = "";
let KAFKA_BROKERS = "";

before(() => {
  for (const k of ["REDIS_URL", "KAFKA_BROKERS"]) {
    if (!process.env[k])
      throw new Error(`${k} is not set: run under \`deploy/local/klagg-infra with-infra -- ...\``);
  }
  REDIS_URL = process.env.REDIS_URL!;
  KAFKA_BROKERS = process.env.KAFKA_BROKERS!;
});

const MIN = 60_000;
const T2355 = Date.UTC(2024, 7, 8, 23, 55);

/** Official rows by open time (first 11 columns; the 12th, "ignore", is always 0). */
function official(file: string): Map<number, string> {
  const m = new Map<number, string>();
  for (const line of readFileSync(binanceData(`klines/${file}`), "utf8").split("\n")) {
    if (!/^\d/.test(line)) continue; // header or blank
    const cols = line.trim().split(",");
    m.set(Number(cols[0]), cols.slice(0, 11).join(","));
  }
  return m;
}

function csv11(k: Kline, market: Market): string {
  return formatKlineCsvRow(fromProtoKline(k), market).split(",").slice(0, 11).join(",");
}

interface Case {
  readonly title: string;
  readonly files: readonly string[];
  readonly market: Market;
  /** interval -> official file and the covered open times. */
  readonly covered: Readonly<Record<string, { file: string; opens: number[] }>>;
}

const CASES: Case[] = [
  {
    title: "USD-M capture",
    files: ["ws-captures/usdm-btcusdt-20240808.gz"],
    market: "usdm",
    covered: {
      "1m": {
        file: "usdm-BTCUSDT-1m-2024-08-08T2330-0030.csv",
        opens: [0, 1, 2, 3, 4].map((i) => T2355 + i * MIN),
      },
      "3m": { file: "usdm-BTCUSDT-3m-2024-08-08T2330-0030.csv", opens: [T2355 + 2 * MIN] },
    },
  },
  {
    title: "spot captures of two days",
    files: ["ws-captures/spot-btcusdt-20240808.gz", "ws-captures/spot-btcusdt-20240809.gz"],
    market: "spot",
    covered: {
      "5m": { file: "spot-BTCUSDT-5m-2024-08-08T2330-0030.csv", opens: [T2355, T2355 + 5 * MIN] },
    },
  },
];

/**
 * Runs `klagg local` named `marker` with two workers replaying as fast as possible until done (plus `args`);
 * resolves with its exit code and stderr.
 */
function runLocal(
  args: string[],
  marker: string,
  timeoutMs: number,
  extraEnv: Record<string, string> = {},
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const common = ["--workers", "2", "--speed", "0", "--name", marker, "--exit-when-done", "--view", "none"];
    const p = spawn(process.execPath, [CLI, "local", ...args, ...common, "--log-level", "info"], {
      env: { ...process.env, ...extraEnv, KLAGG_TEST_MARKER: marker },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    p.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => {
      p.kill("SIGKILL");
      reject(
        new Error(`klagg local did not finish within ${timeoutMs}ms; stderr tail:\n${stderr.slice(-3000)}`),
      );
    }, timeoutMs);
    p.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/** Runs a klagg command and returns its stdout (fails on a non-zero exit). */
function runCli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`klagg ${args[0]} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

async function consumeAll(topic: string): Promise<Kline[]> {
  const kafka = new Kafka({
    clientId: "e2e-test",
    brokers: KAFKA_BROKERS.split(","),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map(ends.filter((e) => Number(e.high) > 0).map((e) => [e.partition, Number(e.high)]));
  const out: Kline[] = [];
  if (remaining.size === 0) return out;
  const consumer = kafka.consumer({ groupId: `e2e-${topic}`, sessionTimeout: 10_000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`Kafka consume timed out; left: ${[...remaining]}`)),
      30_000,
    );
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        if (message.value !== null) out.push(...fromBinary(KlineBatchSchema, message.value).klines);
        const high = remaining.get(partition);
        if (high !== undefined && Number(message.offset) + 1 >= high) remaining.delete(partition);
        if (remaining.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return out;
}

/** The topics the tests created, deleted when the file is done. */
const topics: string[] = [];
after(() => deleteTestTopics(KAFKA_BROKERS, topics));

for (const c of CASES) {
  test(`klagg local replaying the ${c.title} with 2 workers yields Redis and Kafka klines equal to Binance's`, async () => {
    const name = `e2e-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const topic = `klagg.e2e.${name}`;
    topics.push(topic);
    await createTestTopics(KAFKA_BROKERS, [{ topic, numPartitions: 2 }]);

    // Every update on the channel: closed klines of a tick also travel in the update, even superseded ones.
    const sub = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    sub.on("error", () => undefined);
    const fromUpdates: Kline[] = [];
    sub.on("messageBuffer", (_ch: Buffer, msg: Buffer) => {
      fromUpdates.push(...fromBinary(SnapshotUpdateSchema, msg).klines);
    });
    await sub.subscribe(updatesChannel(name));

    const intervals = Object.keys(c.covered).join(",");
    const { code, stderr } = await runLocal(
      [
        "--source",
        `replay:${c.files.map((f) => binanceData(f)).join(",")}`,
        "--market",
        c.market,
        // Two symbols so both shards own one: the second worker replays the same files and finds no trades of its own.
        "--symbols",
        "BTCUSDT,ETHUSDT",
        "--intervals",
        intervals,
        "--redis",
        REDIS_URL,
        "--kafka",
        KAFKA_BROKERS,
        "--kafka-topic",
        topic,
      ],
      name,
      90_000,
    );
    sub.disconnect();
    assert.equal(code, 0, `klagg local failed; stderr tail:\n${stderr.slice(-3000)}`);
    assert.match(stderr, /"msg":"local run ending","reason":"done"/);
    assert.deepEqual(await leftoverProcesses(name), [], "worker processes left behind");

    const bus = new RedisSnapshotBus({ url: REDIS_URL, name, log: createLogger("e2e", { level: "error" }) });
    const snap = await bus.getLatest();
    await bus.close();
    assert.ok(snap, "no snapshot in Redis");
    const kafkaKlines = await consumeAll(topic);

    const newestClosed = (ks: Kline[]): Map<string, Kline> => {
      const m = new Map<string, Kline>();
      for (const k of ks) {
        if (!k.closed || k.symbol !== "BTCUSDT") continue;
        const key = `${k.interval} ${k.openTime}`;
        const prev = m.get(key);
        if (prev === undefined || prev.version < k.version) m.set(key, k);
      }
      return m;
    };
    const inKafka = newestClosed(kafkaKlines);
    const inUpdates = newestClosed(fromUpdates);
    const inSnapshot = newestClosed(snap.klines);
    let snapshotMatches = 0;
    for (const [interval, cov] of Object.entries(c.covered)) {
      const want = official(cov.file);
      for (const open of cov.opens) {
        const key = `${interval} ${open}`;
        const expected = want.get(open);
        assert.ok(expected, `official ${interval} kline ${open} missing from ${cov.file}`);
        const k = inKafka.get(key);
        assert.ok(k, `closed ${key} never reached Kafka`);
        assert.equal(csv11(k, c.market), expected, `Kafka ${key}`);
        const u = inUpdates.get(key);
        assert.ok(u, `closed ${key} never appeared on the Redis updates channel`);
        assert.equal(csv11(u, c.market), expected, `Redis update ${key}`);
        const s = inSnapshot.get(key);
        if (s !== undefined) {
          assert.equal(csv11(s, c.market), expected, `Redis snapshot ${key}`);
          snapshotMatches++;
        }
      }
    }
    if (c.market === "usdm") {
      // `klagg snapshot` prints the same final 1m kline in Binance's columns (after symbol, interval).
      const out = await runCli([
        "snapshot",
        "--redis",
        REDIS_URL,
        "--name",
        name,
        "--interval",
        "1m",
        "--symbol",
        "BTCUSDT",
        "--format",
        "csv",
        "--market",
        "usdm",
      ]);
      const rows = out.trimEnd().split("\n");
      assert.equal(rows.length, 2, out);
      const last = T2355 + 4 * MIN;
      assert.equal(rows[1], `BTCUSDT,1m,${official(c.covered["1m"]!.file).get(last)},0,true`);
    }
    // The final snapshot holds the newest kline per interval: covered for the USD-M capture (it ends at 23:59:59).
    if (c.market === "usdm") assert.equal(snapshotMatches, 2, "final snapshot: 1m 23:59 and 3m 23:57");
    // Every kline in the final snapshot is closed once the replay is done.
    assert.ok(snap.klines.length > 0 && snap.klines.every((k) => k.closed));
  });
}

test("with --clickhouse, the writer stores the covered official klines before klagg local exits", async () => {
  const chUrl = process.env.CLICKHOUSE_URL;
  if (!chUrl)
    throw new Error("CLICKHOUSE_URL is not set: run under `deploy/local/klagg-infra with-infra -- ...`");
  const name = `e2ew-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const db = `klagg_${name.replace(/-/g, "_")}`;
  const query = async (sql: string): Promise<string> => {
    const res = await fetch(chUrl, { method: "POST", body: sql });
    const text = await res.text();
    if (!res.ok) throw new Error(`ClickHouse: ${text}`);
    return text;
  };
  topics.push(`klagg.e2e.${name}`);
  await createTestTopics(KAFKA_BROKERS, [{ topic: `klagg.e2e.${name}`, numPartitions: 2 }]);
  try {
    const { code, stderr } = await runLocal(
      [
        "--source",
        `replay:${binanceData("ws-captures/usdm-btcusdt-20240808.gz")}`,
        "--market",
        "usdm",
        "--symbols",
        "BTCUSDT,ETHUSDT",
        "--intervals",
        "1m",
        "--kafka",
        KAFKA_BROKERS,
        "--kafka-topic",
        `klagg.e2e.${name}`,
        "--clickhouse",
        chUrl,
      ],
      name,
      90_000,
      { KLAGG_CLICKHOUSE_DATABASE: db, KLAGG_WRITER_GROUP: `klagg-writer-${name}` },
    );
    assert.equal(code, 0, `klagg local failed; stderr tail:\n${stderr.slice(-3000)}`);
    assert.deepEqual(await leftoverProcesses(name), []);
    // Queried right after the exit: the run only ends once the writer has flushed.
    const tsv = await query(
      `SELECT toUnixTimestamp(open_time) * 1000, toString(open), toString(high), toString(low), toString(close),
         toString(volume), close_time, toString(quote_volume), trades, toString(taker_buy_volume),
         toString(taker_buy_quote_volume)
       FROM ${db}.klines FINAL WHERE symbol = 'BTCUSDT' AND \`interval\` = '1m' AND closed = 1 FORMAT TabSeparated`,
    );
    const stored = new Map(
      tsv
        .trim()
        .split("\n")
        .map((l) => l.split("\t"))
        .map((cols) => [Number(cols[0]), cols] as const),
    );
    const want = official("usdm-BTCUSDT-1m-2024-08-08T2330-0030.csv");
    for (const open of [0, 1, 2, 3, 4].map((i) => T2355 + i * MIN)) {
      const got = stored.get(open);
      assert.ok(got, `1m ${open} not in ClickHouse`);
      const exp = want.get(open)!.split(",");
      exp.forEach((v, i) =>
        assert.equal(compareDecimals(got[i]!, v), 0, `1m ${open} column ${i}: ClickHouse ${got[i]} vs ${v}`),
      );
    }
  } finally {
    await query(`DROP DATABASE IF EXISTS ${db}`).catch(() => undefined);
  }
});
