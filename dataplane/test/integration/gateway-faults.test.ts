/**
 * Gateway fault tests on real processes and services: `klagg worker`
 * subprocesses (a pace-limited replay of the USD-M BTCUSDT capture and a
 * synthetic market), the real gateway wiring (gRPC clients, Redis, Kafka).
 * Each fault must show the fallback, the consecutive-failure counter, the
 * alert at the threshold, the recovery, an unbroken snapshot sequence, and
 * every closed kline of the replay in Kafka, equal to Binance's official klines.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { ALERT_WORKER_DEGRADED, ALERT_WORKER_RECOVERED } from "../../src/gateway/worker-health.js";
import {
  COVERED_MINUTES,
  GatewayRun,
  INFRA,
  isUnbroken,
  officialOneMinute,
  replayWorker,
  syntheticWorker,
  waitFor,
  type WorkerProc,
} from "./gateway-harness.js";

/** Replay pace: the capture's ~6 minutes take ~12 s. */
const SPEED = 30;

async function withRun(
  body: (run: GatewayRun, replay: WorkerProc, synth: WorkerProc) => Promise<void>,
): Promise<void> {
  const replay = await replayWorker("replay-0", SPEED).start();
  const synth = await syntheticWorker("synth-0").start();
  const run = new GatewayRun();
  try {
    await run.start(
      [
        { name: "replay-0", port: replay.port },
        { name: "synth-0", port: synth.port },
      ],
      "BTCUSDT,SYNAUSDT,SYNBUSDT",
    );
    await body(run, replay, synth);
  } finally {
    await run.stop();
    await replay.kill();
    await synth.kill();
  }
}

/** Waits until the replay finished and everything was handed to Kafka, then checks the official klines arrived. */
async function assertEveryClosedKlineInKafka(run: GatewayRun): Promise<void> {
  await waitFor(() => run.gateway.workerStatus()[0]!.sourceDone, 60_000, "the replay to finish");
  const official = officialOneMinute();
  await waitFor(
    () => COVERED_MINUTES.every((t) => run.closedInKafka("BTCUSDT", "1m").has(t)),
    20_000,
    "the covered 1m klines in Kafka",
  );
  const got = run.closedInKafka("BTCUSDT", "1m");
  for (const t of COVERED_MINUTES) {
    assert.equal(got.get(t)?.csv, official.get(t), `1m kline ${new Date(t).toISOString()}`);
  }
  // 1s klines: a contiguous run of closed seconds from the first to the last (empty klines included).
  const secs = [...run.closedInKafka("BTCUSDT", "1s").keys()].sort((a, b) => a - b);
  assert.ok(secs.length > 300, `closed 1s klines: ${secs.length}`);
  const gaps = secs.filter((t, i) => i > 0 && t - secs[i - 1]! !== 1000);
  assert.deepEqual(gaps, [], "no closed 1s kline is missing");
  assert.ok(run.kafkaHeaders.every((h) => /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/.test(h)));
}

function assertAlertAndRecovery(run: GatewayRun, worker: string): void {
  const alerts = run.find((l) => l.alert === ALERT_WORKER_DEGRADED && l.worker === worker);
  assert.equal(alerts.length, 1, "one alert per degraded period");
  assert.equal(alerts[0]!.consecutive_failures, 5);
  const recoveries = run.find((l) => l.alert === ALERT_WORKER_RECOVERED && l.worker === worker);
  assert.equal(recoveries.length, 1, "recovery logged once");
  const failures = run.find((l) => l.level === "error" && l.worker === worker && l.cause !== undefined);
  assert.ok(failures.length >= 1, "failed pulls are ERROR lines naming the worker and the cause");
}

test("a worker paused past its deadline (SIGSTOP/SIGCONT) degrades, recovers, and loses nothing", async () => {
  await withRun(async (run, replay) => {
    await waitFor(() => run.ticks.length >= 10, 10_000, "ten ticks");
    replay.signal("SIGSTOP");
    const pausedAt = run.ticks.length;
    await waitFor(() => run.find((l) => l.alert === ALERT_WORKER_DEGRADED).length > 0, 5_000, "the alert");
    assert.equal(await run.metric("klagg_gateway_worker_degraded", { worker: "replay-0" }), 1);
    await new Promise((r) => setTimeout(r, 500));
    const counter = await run.metric("klagg_gateway_worker_consecutive_timeouts", { worker: "replay-0" });
    assert.ok(counter! >= 5, `consecutive timeouts ${counter}`);
    // Fallback: ticks went on; the healthy worker kept being pulled while the paused one failed.
    const during = run.ticks.slice(pausedAt);
    assert.ok(during.length >= 6);
    assert.ok(during.slice(1).every((t) => t.failed.includes("replay-0")));
    // (A loaded machine may make the healthy worker miss a deadline now and then; most of its pulls succeed.)
    const synthOk = during.filter((t) => !t.failed.includes("synth-0")).length;
    assert.ok(synthOk >= during.length * 0.8, `synth-0 answered ${synthOk} of ${during.length} ticks`);
    const timeouts = run.find(
      (l) => l.level === "error" && l.worker === "replay-0" && l.cause === "deadline",
    );
    assert.ok(timeouts.length >= 1);
    replay.signal("SIGCONT");
    await waitFor(
      () => run.find((l) => l.alert === ALERT_WORKER_RECOVERED).length > 0,
      5_000,
      "the recovery",
    );
    assert.equal(await run.metric("klagg_gateway_worker_consecutive_timeouts", { worker: "replay-0" }), 0);
    assert.equal(await run.metric("klagg_gateway_worker_degraded", { worker: "replay-0" }), 0);
    assertAlertAndRecovery(run, "replay-0");
    await assertEveryClosedKlineInKafka(run);
    assert.ok(isUnbroken(run.ticks.map((t) => t.seq)), "snapshot seq unbroken");
    assert.ok(isUnbroken(run.redisSeqs), "every update reached Redis subscribers in order");
  });
});

test("a worker killed and restarted is resynced in full from its new epoch, and loses nothing", async () => {
  await withRun(async (run, replay) => {
    await waitFor(() => run.ticks.length >= 10, 10_000, "ten ticks");
    const epochBefore = run.gateway.workerStatus()[0]!.epoch;
    assert.ok(epochBefore > 0);
    const port = replay.port;
    await replay.kill();
    await waitFor(() => run.find((l) => l.alert === ALERT_WORKER_DEGRADED).length > 0, 5_000, "the alert");
    assert.ok((await run.metric("klagg_gateway_worker_consecutive_timeouts", { worker: "replay-0" }))! >= 5);
    await replay.start(port);
    await waitFor(
      () => run.find((l) => l.alert === ALERT_WORKER_RECOVERED).length > 0,
      10_000,
      "the recovery",
    );
    const full = await waitFor(
      () =>
        run.find(
          (l) =>
            l.msg === "worker full state applied" &&
            l.worker === "replay-0" &&
            l.previous_epoch === epochBefore,
        )[0],
      5_000,
      "the full resync",
    );
    assert.ok(Number(full.epoch) > epochBefore, "a new epoch");
    assertAlertAndRecovery(run, "replay-0");
    await assertEveryClosedKlineInKafka(run);
    assert.ok(isUnbroken(run.ticks.map((t) => t.seq)), "snapshot seq unbroken");
  });
});

test("Redis restarted mid-run: the tick never stops, failures are counted, the newest snapshot is republished", async () => {
  await withRun(async (run) => {
    await waitFor(() => run.redisSeqs.length >= 5, 10_000, "updates on Redis");
    execFileSync(INFRA, ["down", "redis"], { stdio: "ignore" });
    try {
      const ticksAtDown = run.ticks.length;
      await waitFor(() => run.ticks.length >= ticksAtDown + 10, 5_000, "ticks while Redis is down");
      assert.ok((await run.metric("klagg_gateway_redis_publish_failures_total"))! >= 1);
      assert.ok(
        run.find((l) => l.level === "error" && /redis publish failed/.test(String(l.msg))).length === 1,
      );
    } finally {
      execFileSync(INFRA, ["up", "redis"], { stdio: "ignore" });
    }
    await waitFor(
      () => run.find((l) => /redis publishing recovered/.test(String(l.msg))).length > 0,
      15_000,
      "recovery",
    );
    const seqBefore = run.ticks.at(-1)!.seq;
    // The snapshot key holds a snapshot at least as new as the tick seen after recovery.
    const { Redis } = await import("ioredis");
    const { fromBinary } = await import("@bufbuild/protobuf");
    const { SnapshotSchema } = await import("../../src/gen/klagg/v1/snapshot_pb.js");
    const r = new Redis(process.env.REDIS_URL!);
    try {
      await waitFor(() => run.ticks.at(-1)!.seq > seqBefore + 2, 2_000, "more ticks");
      const bytes = await r.getBuffer(`klagg:${run.name}:snapshot`);
      assert.ok(bytes !== null, "snapshot key republished after the restart");
      const snap = fromBinary(SnapshotSchema, bytes);
      assert.ok(Number(snap.seq) >= seqBefore);
      assert.ok(snap.klines.some((k) => k.symbol === "BTCUSDT"));
    } finally {
      r.disconnect();
    }
    await assertEveryClosedKlineInKafka(run);
    assert.ok(isUnbroken(run.ticks.map((t) => t.seq)), "snapshot seq unbroken through the outage");
  });
});
