/**
 * Gateway crash on real processes and services: `klagg worker` subprocesses
 * (a pace-limited replay of the USD-M BTCUSDT capture and a synthetic
 * market), a gateway process with the real wiring (gRPC, kafkajs, durable
 * acks) sending to the shared Kafka, then SIGKILLed while closed klines are
 * queued for Kafka (its sends hang from a moment on: the broker itself is
 * never stopped), and a new gateway. Every closed kline must reach Kafka,
 * equal to Binance's official klines: the workers were acked only up to
 * what Kafka had confirmed, so they still held the queued ones and sent them
 * to the new gateway in their full answers.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createTestTopics } from "./kafka-topics.js";
import {
  COVERED_MINUTES,
  GatewayRun,
  ROOT,
  infraEnv,
  officialOneMinute,
  replayWorker,
  syntheticWorker,
  waitFor,
} from "./gateway-harness.js";

/** Replay pace: the capture's ~6 minutes take ~12 s. */
const SPEED = 30;
const CHILD = join(ROOT, "dataplane/dist/test/integration/gateway-crash-child.js");
const SYMBOLS = "BTCUSDT,SYNAUSDT,SYNBUSDT";

interface ChildStatus {
  readonly seq: number;
  readonly held: boolean;
  readonly records_confirmed: number;
  readonly closed_queued: number;
  readonly workers: readonly { name: string; epoch: number; handed: number }[];
}

async function createTopic(topic: string): Promise<void> {
  await createTestTopics(infraEnv("KAFKA_BROKERS"), [{ topic, numPartitions: 2 }]);
}

test("a gateway SIGKILLed with closed klines queued for Kafka loses none: the next gateway delivers them", async (t) => {
  const replay = await replayWorker("replay-0", SPEED).start();
  const synth = await syntheticWorker("synth-0").start();
  const workers = [
    { name: "replay-0", port: replay.port },
    { name: "synth-0", port: synth.port },
  ];
  const run = new GatewayRun();
  const statuses: ChildStatus[] = [];
  const errors: string[] = [];
  let child: ReturnType<typeof spawn> | undefined;
  try {
    await createTopic(run.topic);
    child = spawn(process.execPath, [CHILD], {
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        PATH: process.env.PATH,
        KLAGG_NAME: run.name,
        KLAGG_WORKERS: workers.map((w) => `${w.name}=127.0.0.1:${w.port}`).join(","),
        KLAGG_SYMBOLS: SYMBOLS,
        KLAGG_INTERVALS: "1s,1m,3m",
        KLAGG_TICK: "100ms",
        KLAGG_PULL_DEADLINE: "50ms",
        KLAGG_KAFKA_BROKERS: infraEnv("KAFKA_BROKERS"),
        KLAGG_KAFKA_TOPIC: run.topic,
      },
    });
    const exited = new Promise<void>((r) => child!.on("exit", () => r()));
    let buf = "";
    child.stdout!.setEncoding("utf8").on("data", (s: string) => {
      buf += s;
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        statuses.push(JSON.parse(buf.slice(0, i)) as ChildStatus);
        buf = buf.slice(i + 1);
      }
    });
    child.stderr!.setEncoding("utf8").on("data", (s: string) => errors.push(s));
    const last = (): ChildStatus | undefined => statuses.at(-1);

    // Kafka confirms the first gateway's klines for a while (its acks advance) ...
    await waitFor(
      () => statuses.length >= 20 && (last()?.records_confirmed ?? 0) > 0 && last()!.workers[0]!.handed > 0,
      20_000,
      "the first gateway to run with Kafka confirming",
    );
    // ... then its sends hang, and closed klines pile up in its queue (~2 s at 30x: a minute of replay, so a
    // closed 1m kline is among them).
    child.kill("SIGUSR2");
    const atKill = await waitFor(
      () => {
        const s = last();
        return s !== undefined && s.held && s.closed_queued >= 60 ? s : undefined;
      },
      15_000,
      "closed klines queued while Kafka does not answer",
    );
    child.kill("SIGKILL");
    await exited;
    t.diagnostic(
      `first gateway SIGKILLed at tick ${atKill.seq} with ${atKill.closed_queued} closed klines queued`,
    );

    // A new gateway: its first pulls carry no epoch and the workers answer in full.
    await run.start(workers, SYMBOLS);
    await waitFor(() => run.gateway.workerStatus()[0]!.sourceDone, 60_000, "the replay to finish");
    // Wait until everything is in Kafka: the covered 1m klines, and a contiguous run of closed 1s klines
    // (empty ones included) once the closed queue is empty (the synthetic worker never finishes).
    let secs: number[] = [];
    let gaps: string[] = [];
    for (let end = Date.now() + 20_000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
      if ((await run.metric("klagg_gateway_kafka_queue_depth", { kind: "closed" })) !== 0) continue;
      secs = [...run.closedInKafka("BTCUSDT", "1s").keys()].sort((a, b) => a - b);
      gaps = secs.filter((s, i) => i > 0 && s - secs[i - 1]! !== 1000).map((s) => new Date(s).toISOString());
      const minutes = run.closedInKafka("BTCUSDT", "1m");
      if (secs.length > 300 && gaps.length === 0 && COVERED_MINUTES.every((m) => minutes.has(m))) break;
    }
    const missing = secs.length === 0 ? 0 : (secs.at(-1)! - secs[0]!) / 1000 + 1 - secs.length;
    const closed1s = run.kafkaKlines.filter((k) => k.closed && k.symbol === "BTCUSDT" && k.interval === "1s");
    t.diagnostic(
      `BTCUSDT closed 1s klines in Kafka: ${secs.length} distinct, ${missing} missing, ` +
        `${closed1s.length - secs.length} duplicates`,
    );
    const official = officialOneMinute();
    const got = run.closedInKafka("BTCUSDT", "1m");
    for (const m of COVERED_MINUTES) {
      assert.equal(got.get(m)?.csv, official.get(m), `1m kline ${new Date(m).toISOString()}`);
    }
    assert.ok(secs.length > 300, `closed 1s klines: ${secs.length}`);
    assert.deepEqual(gaps, [], "no closed 1s kline is missing");
    // Both gateways wrote: the first one's confirmed klines and the second one's.
    assert.ok(atKill.records_confirmed > 0);
  } finally {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    t.diagnostic(`first gateway, last statuses: ${JSON.stringify(statuses.slice(-3))}`);
    if (errors.length > 0) t.diagnostic(`first gateway stderr: ${errors.join("").slice(0, 2000)}`);
    // Bounded: a stuck consumer disconnect must not hold the test run.
    await Promise.race([run.stop(), new Promise((r) => setTimeout(r, 15_000).unref())]);
    await replay.kill();
    await synth.kill();
  }
});
