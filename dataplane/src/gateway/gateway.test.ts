import { test } from "node:test";
import assert from "node:assert/strict";
import { fromBinary } from "@bufbuild/protobuf";
import { SnapshotSchema, SnapshotUpdateSchema } from "../gen/klagg/v1/snapshot_pb.js";
import { parseGatewayConfig } from "../config/gateway.js";
import { Gateway } from "./gateway.js";
import { KafkaHandoff } from "./kafka-handoff.js";
import { StateLayout } from "./global-state.js";
import type { GatewaySnapshot, SnapshotPublisher } from "./ports.js";
import { ALERT_WORKER_DEGRADED, ALERT_WORKER_RECOVERED } from "./worker-health.js";
import {
  FakeProducer,
  FakeWorker,
  RawPuller,
  captureLog,
  metricValue,
  testMetrics,
} from "./fakes.test-helper.js";

const T0 = 1_700_000_040_000;

class RecordingPublisher implements SnapshotPublisher {
  readonly name = "recording";
  readonly snaps: GatewaySnapshot[] = [];
  publish(s: GatewaySnapshot): void {
    // Kept for later decoding, so held with a lease (never released: the buffers are never recycled).
    s.retain();
    this.snaps.push(s);
  }
  async stop(): Promise<void> {}
}

/** Registers a test twice: workers answering with kline objects, and with raw kline bytes. */
function bothWays(name: string, fn: (raw: boolean) => Promise<void>): void {
  test(name, () => fn(false));
  test(`${name} (raw kline bytes)`, () => fn(true));
}

function setup(opts: { raw?: boolean; limit?: number; threshold?: number; deadline?: string } = {}) {
  const config = parseGatewayConfig({
    KLAGG_WORKERS: "w0=127.0.0.1:1,w1=127.0.0.1:2",
    KLAGG_SYMBOLS: "AAA,BBB,CCC,DDD",
    KLAGG_INTERVALS: "1s,1m",
    KLAGG_TICK: "100ms",
    KLAGG_PULL_DEADLINE: opts.deadline ?? "20ms",
    KLAGG_TIMEOUT_ALERT_THRESHOLD: String(opts.threshold ?? 3),
    KLAGG_KAFKA_QUEUE_LIMIT: String(opts.limit ?? 1000),
  });
  const w0 = new FakeWorker("w0", ["AAA", "BBB"], 1000);
  const w1 = new FakeWorker("w1", ["CCC", "DDD"], 2000);
  const { log, lines } = captureLog();
  const { metrics, registry } = testMetrics();
  const producer = new FakeProducer();
  const kafka = new KafkaHandoff(
    producer,
    new StateLayout(config.symbols, config.intervals),
    { aggregator: config.name, limit: config.kafkaQueueLimit, retryBaseMs: 5, retryMaxMs: 20 },
    log,
    metrics,
  );
  const pub = new RecordingPublisher();
  const gw = new Gateway(config, {
    workers: [
      { endpoint: config.workers[0]!, puller: opts.raw === true ? new RawPuller(w0) : w0 },
      { endpoint: config.workers[1]!, puller: opts.raw === true ? new RawPuller(w1) : w1 },
    ],
    publishers: [pub],
    kafka,
    log,
    metrics,
  });
  return { config, gw, w0, w1, lines, registry, producer, kafka, pub };
}

function decodeSnap(s: GatewaySnapshot) {
  return fromBinary(SnapshotSchema, s.bytes);
}

async function drainKafka(kafka: KafkaHandoff): Promise<void> {
  kafka.start();
  for (let i = 0; i < 200 && (kafka.depth().closed > 0 || kafka.depth().open > 0); i++) {
    await new Promise((r) => setTimeout(r, 2));
  }
}

bothWays("every worker is pulled each tick and snapshot seq grows by exactly one per tick", async (raw) => {
  const { gw, w0, w1, pub } = setup({ raw });
  w0.set("AAA", "1m", T0, "1.0");
  w1.set("CCC", "1m", T0, "2.0");
  for (let i = 0; i < 4; i++) await gw.tickOnce();
  assert.deepEqual(
    pub.snaps.map((s) => s.seq),
    [1, 2, 3, 4],
  );
  assert.equal(w0.requests.length, 4);
  assert.equal(w1.requests.length, 4);
  // First contact asks for the full state (epoch 0); later pulls ack what was applied.
  assert.deepEqual(w0.requests[0], { epoch: 0, ackVersion: 0 });
  assert.deepEqual(w0.requests[1], { epoch: 1000, ackVersion: w0.version });
  const snap = decodeSnap(pub.snaps[3]!);
  assert.deepEqual(snap.klines.map((k) => `${k.symbol}/${k.interval}/${k.close}`).sort(), [
    "AAA/1m/1.0",
    "CCC/1m/2.0",
  ]);
  assert.equal(snap.seq, 4n);
  assert.equal(snap.gatewayEpoch, BigInt(gw.gatewayEpoch));
});

bothWays(
  "a worker missing its deadline is logged by name and cause, keeps its last data, and its counter grows",
  async (raw) => {
    const { gw, w0, w1, lines, registry, pub } = setup({ raw });
    w0.set("AAA", "1m", T0, "1.0");
    w1.set("CCC", "1m", T0, "2.0");
    await gw.tickOnce();
    w0.mode = "hang";
    w0.set("AAA", "1m", T0, "1.5");
    w1.set("CCC", "1m", T0, "2.5");
    const t = performance.now();
    const r = await gw.tickOnce();
    assert.ok(performance.now() - t < 80, "the tick waited only for the deadline");
    assert.deepEqual(r.failedWorkers, ["w0"]);
    const err = lines.find((l) => l.level === "error" && l.worker === "w0");
    assert.ok(err, "an ERROR line names the worker");
    assert.equal(err.cause, "deadline");
    const snap = decodeSnap(pub.snaps[1]!);
    const closes = Object.fromEntries(snap.klines.map((k) => [k.symbol, k.close]));
    assert.deepEqual(closes, { AAA: "1.0", CCC: "2.5" }, "w0's last data is reused, w1's is fresh");
    await gw.tickOnce();
    assert.equal(
      await metricValue(registry, "klagg_gateway_worker_consecutive_timeouts", { worker: "w0" }),
      2,
    );
    assert.equal(
      await metricValue(registry, "klagg_gateway_worker_consecutive_timeouts", { worker: "w1" }),
      0,
    );
  },
);

bothWays(
  "the degraded alert is raised once at the threshold and the recovery is logged once",
  async (raw) => {
    const { gw, w0, lines, registry } = setup({ raw, threshold: 3 });
    w0.mode = "fail";
    for (let i = 0; i < 6; i++) await gw.tickOnce();
    const alerts = lines.filter((l) => l.alert === ALERT_WORKER_DEGRADED);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.worker, "w0");
    assert.equal(alerts[0]!.consecutive_failures, 3);
    assert.equal(alerts[0]!.cause, "error");
    assert.equal(await metricValue(registry, "klagg_gateway_worker_degraded", { worker: "w0" }), 1);
    assert.equal(
      await metricValue(registry, "klagg_gateway_worker_consecutive_timeouts", { worker: "w0" }),
      6,
    );
    w0.mode = "ok";
    await gw.tickOnce();
    await gw.tickOnce();
    const recoveries = lines.filter((l) => l.alert === ALERT_WORKER_RECOVERED);
    assert.equal(recoveries.length, 1);
    assert.equal(recoveries[0]!.failed_pulls, 6);
    assert.equal(await metricValue(registry, "klagg_gateway_worker_degraded", { worker: "w0" }), 0);
    assert.equal(
      await metricValue(registry, "klagg_gateway_worker_consecutive_timeouts", { worker: "w0" }),
      0,
    );
    assert.equal(gw.workerStatus()[0]!.degraded, false);
  },
);

bothWays("closed klines produced while pulls time out reach Kafka after recovery, none lost", async (raw) => {
  const { gw, w0, producer, kafka } = setup({ raw });
  await gw.tickOnce();
  w0.mode = "hang";
  for (let m = 0; m < 5; m++) {
    w0.set("AAA", "1m", T0 + m * 60_000, `${m}.0`);
    w0.closeKline("AAA", "1m", T0 + m * 60_000);
    await gw.tickOnce();
  }
  assert.equal(w0.retainedCount, 5, "unacked closed klines stay with the worker");
  w0.mode = "ok";
  await gw.tickOnce();
  await gw.tickOnce();
  assert.equal(w0.retainedCount, 0, "acked after being handed off");
  await drainKafka(kafka);
  const closed = producer.klines().filter((k) => k.closed && k.symbol === "AAA");
  assert.deepEqual(
    closed.map((k) => k.openTime).sort((a, b) => a - b),
    [0, 1, 2, 3, 4].map((m) => T0 + m * 60_000),
  );
  await kafka.stop(100);
});

bothWays("a new worker epoch triggers a full resync that replaces the worker's slice", async (raw) => {
  const { gw, w0, pub } = setup({ raw });
  w0.set("AAA", "1m", T0, "1.0");
  w0.set("BBB", "1m", T0, "5.0");
  await gw.tickOnce();
  w0.restart(3000);
  // The restarted worker has a younger view of the same period (it lost its trades).
  w0.set("AAA", "1m", T0, "0.9");
  await gw.tickOnce();
  assert.deepEqual(w0.requests[1], { epoch: 1000, ackVersion: 1_000_002 });
  const snap = decodeSnap(pub.snaps[1]!);
  const closes = Object.fromEntries(snap.klines.map((k) => [k.symbol, k.close]));
  assert.deepEqual(closes, { AAA: "0.9", BBB: "5.0" }, "replaced what it sent, kept what it no longer has");
  await gw.tickOnce();
  assert.deepEqual(w0.requests[2], { epoch: 3000, ackVersion: 3_000_001 });
});

bothWays("a closed kline superseded within one tick still reaches the update and Kafka", async (raw) => {
  const { gw, w0, pub, producer, kafka } = setup({ raw });
  w0.set("AAA", "1s", T0, "1.0");
  await gw.tickOnce();
  w0.set("AAA", "1s", T0, "1.1");
  w0.closeKline("AAA", "1s", T0);
  w0.set("AAA", "1s", T0 + 1000, "1.2");
  await gw.tickOnce();
  const upd = fromBinary(SnapshotUpdateSchema, pub.snaps[1]!.updateBytes);
  const got = upd.klines.map((k) => `${Number(k.openTime) - T0}/${k.closed}/${k.close}`).sort();
  assert.deepEqual(got, ["0/true/1.1", "1000/false/1.2"]);
  const snap = decodeSnap(pub.snaps[1]!);
  assert.equal(snap.klines.length, 1, "the slot holds the newest period only");
  assert.equal(Number(snap.klines[0]!.openTime), T0 + 1000);
  await drainKafka(kafka);
  assert.ok(producer.klines().some((k) => k.closed && k.openTime === T0 && k.close === "1.1"));
  await kafka.stop(100);
});

bothWays("a late update of an older period is forwarded but never overwrites the newer slot", async (raw) => {
  const { gw, w0, pub } = setup({ raw });
  w0.set("AAA", "1m", T0 + 60_000, "2.0");
  await gw.tickOnce();
  w0.set("AAA", "1m", T0, "1.9");
  await gw.tickOnce();
  const snap = decodeSnap(pub.snaps[1]!);
  assert.equal(Number(snap.klines[0]!.openTime), T0 + 60_000);
  const upd = fromBinary(SnapshotUpdateSchema, pub.snaps[1]!.updateBytes);
  assert.deepEqual(
    upd.klines.map((k) => [Number(k.openTime), k.close]),
    [[T0, "1.9"]],
  );
});

bothWays("klines outside the layout are rejected, counted and logged, not stored", async (raw) => {
  const { gw, w0, pub, registry, lines } = setup({ raw });
  w0.set("ZZZ", "1m", T0, "1.0");
  w0.set("AAA", "4h", T0, "1.0");
  w0.set("AAA", "1m", T0, "1.0");
  await gw.tickOnce();
  assert.equal(decodeSnap(pub.snaps[0]!).klines.length, 1);
  assert.equal(
    await metricValue(registry, "klagg_gateway_rejected_klines_total", { reason: "unknown_symbol" }),
    1,
  );
  assert.equal(
    await metricValue(registry, "klagg_gateway_rejected_klines_total", { reason: "unknown_interval" }),
    1,
  );
  assert.ok(lines.some((l) => l.level === "warn" && l.symbol === "ZZZ"));
});

bothWays("the tick never waits for a stalled Kafka producer", async (raw) => {
  const { gw, w0, producer, kafka } = setup({ raw });
  producer.stall();
  kafka.start();
  for (let i = 0; i < 5; i++) {
    w0.set("AAA", "1m", T0, `${i}.0`);
    const r = await gw.tickOnce();
    assert.ok(r.durationMs < 50, `tick took ${r.durationMs}ms`);
  }
  assert.equal(producer.sends, 1, "one send is stuck; the ticks went on");
  producer.resume();
  await drainKafka(kafka);
  const last = producer
    .klines()
    .filter((k) => k.symbol === "AAA")
    .at(-1);
  assert.equal(last?.close, "4.0", "coalesced open updates deliver the newest state");
  await kafka.stop(100);
});

bothWays("when closed klines overflow the queue the worker is not acked and nothing is lost", async (raw) => {
  const { gw, w0, producer, kafka, registry, lines } = setup({ raw, limit: 3 });
  producer.stall();
  kafka.start();
  const closeMinute = (m: number) => {
    w0.set("AAA", "1m", T0 + m * 60_000, `${m}.0`);
    w0.closeKline("AAA", "1m", T0 + m * 60_000);
  };
  closeMinute(0);
  closeMinute(1);
  await gw.tickOnce();
  assert.equal(kafka.depth().closed, 2, "fits: handed off while Kafka is stalled");
  for (let m = 2; m < 5; m++) closeMinute(m);
  await gw.tickOnce();
  assert.equal(await metricValue(registry, "klagg_gateway_kafka_closed_overflow_total"), 3);
  assert.ok(lines.some((l) => l.level === "error" && /queue full of closed/.test(String(l.msg))));
  await gw.tickOnce();
  assert.equal(w0.retainedCount, 3, "the refused klines were not acked and stay with the worker");
  producer.resume();
  await drainKafka(kafka);
  await gw.tickOnce();
  await gw.tickOnce();
  assert.equal(w0.retainedCount, 0, "handed off and acked once there was room");
  await drainKafka(kafka);
  const closed = new Set(
    producer
      .klines()
      .filter((k) => k.closed)
      .map((k) => k.openTime),
  );
  assert.equal(closed.size, 5);
  await kafka.stop(100);
});

bothWays("an answer larger than the whole limit is taken when the queue is empty", async (raw) => {
  const { gw, w0, kafka } = setup({ raw, limit: 2 });
  for (let m = 0; m < 4; m++) {
    w0.set("AAA", "1m", T0 + m * 60_000, "1.0");
    w0.closeKline("AAA", "1m", T0 + m * 60_000);
  }
  await gw.tickOnce();
  assert.equal(kafka.depth().closed, 4);
  await gw.tickOnce();
  assert.equal(w0.retainedCount, 0);
});

bothWays("the loop ticks on its own, and stop() ends it and flushes", async (raw) => {
  const { gw, w0, pub, producer, kafka } = setup({ raw });
  w0.set("AAA", "1m", T0, "1.0");
  w0.closeKline("AAA", "1m", T0);
  const ac = new AbortController();
  gw.start(ac.signal);
  await new Promise((r) => setTimeout(r, 250));
  ac.abort();
  await gw.stop();
  const n = pub.snaps.length;
  assert.ok(n >= 2 && n <= 4, `ticks in 250ms: ${n}`);
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(pub.snaps.length, n, "no tick after stop");
  assert.equal(kafka.depth().closed, 0);
  assert.ok(producer.klines().some((k) => k.closed));
});
