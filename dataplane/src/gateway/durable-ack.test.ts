import { test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { parseGatewayConfig } from "../config/gateway.js";
import { createGateway } from "./create.js";
import { DurableAckPuller, DurableWatermark, newerThan } from "./durable-ack.js";
import { Gateway } from "./gateway.js";
import { StateLayout } from "./global-state.js";
import { KafkaHandoff } from "./kafka-handoff.js";
import type { WorkerPuller } from "./ports.js";
import {
  FakeProducer,
  FakeWorker,
  RawPuller,
  captureLog,
  makeKline,
  testMetrics,
  toRawResult,
} from "./fakes.test-helper.js";

const T0 = 1_700_000_040_000;

function config(extra: Record<string, string> = {}) {
  return parseGatewayConfig({
    KLAGG_WORKERS: "w0=127.0.0.1:1",
    KLAGG_SYMBOLS: "AAA,BBB",
    KLAGG_INTERVALS: "1s,1m",
    KLAGG_TICK: "100ms",
    KLAGG_PULL_DEADLINE: "50ms",
    ...extra,
  });
}

/** A gateway over one fake worker with a Kafka hand-off; `durable` wraps the puller like createGateway does. */
function setup(w0: FakeWorker, opts: { raw: boolean; durable?: boolean }) {
  const cfg = config();
  const { log } = captureLog();
  const { metrics } = testMetrics();
  const producer = new FakeProducer();
  const kafka = new KafkaHandoff(
    producer,
    new StateLayout(cfg.symbols, cfg.intervals),
    { aggregator: cfg.name, limit: 1000, retryBaseMs: 5, retryMaxMs: 20 },
    log,
    metrics,
  );
  const inner: WorkerPuller = opts.raw ? new RawPuller(w0) : w0;
  const puller = opts.durable === false ? inner : new DurableAckPuller(inner, kafka);
  const gw = new Gateway(cfg, {
    workers: [{ endpoint: cfg.workers[0]!, puller }],
    publishers: [],
    kafka,
    log,
    metrics,
  });
  kafka.start();
  return { gw, producer, kafka };
}

async function drained(kafka: KafkaHandoff): Promise<void> {
  for (let i = 0; i < 500 && kafka.confirmedSeq() < kafka.offeredSeq(); i++) {
    await new Promise((r) => setTimeout(r, 2));
  }
  assert.equal(kafka.confirmedSeq(), kafka.offeredSeq(), "every offered tick confirmed");
}

function closeMinute(w: FakeWorker, m: number): void {
  w.set("AAA", "1m", T0 + m * 60_000, `${m}.0`);
  w.closeKline("AAA", "1m", T0 + m * 60_000);
}

/** Closed AAA 1m klines the producer delivered, as minutes (duplicates kept). */
function closedMinutes(p: FakeProducer): number[] {
  return p
    .klines()
    .filter((k) => k.closed && k.symbol === "AAA")
    .map((k) => (k.openTime - T0) / 60_000)
    .sort((a, b) => a - b);
}

function bothWays(name: string, fn: (raw: boolean) => Promise<void>): void {
  test(name, () => fn(false));
  test(`${name} (raw kline bytes)`, () => fn(true));
}

test("a handed-off version becomes ackable only once the tick that handed it off is confirmed", () => {
  const w = new DurableWatermark();
  assert.equal(w.ack(0, 0, 0, 0), 0, "first contact acks nothing");
  assert.equal(w.ack(7, 100, 1, 0), 0, "handed off in tick 1, nothing confirmed yet");
  assert.equal(w.ack(7, 120, 2, 0), 0);
  assert.equal(w.pending, 2);
  assert.equal(w.ack(7, 120, 3, 1), 100, "tick 1 confirmed: its version is durable");
  assert.equal(w.ack(7, 150, 4, 4), 150, "every tick confirmed");
  assert.equal(w.pending, 0);
  assert.equal(w.version, 150);
});

test("a new worker epoch starts the watermark from zero, and the ack never exceeds the handed version", () => {
  const w = new DurableWatermark();
  assert.equal(w.ack(7, 150, 4, 4), 150);
  assert.equal(w.ack(7, 140, 5, 5), 140, "never more than the gateway says it handed off");
  assert.equal(w.ack(9, 20, 6, 5), 0, "new epoch: nothing of it is durable yet");
  assert.equal(w.epoch, 9);
  assert.equal(w.ack(9, 20, 7, 6), 20);
  assert.equal(w.ack(0, 0, 8, 8), 0, "a forced resync acks nothing");
});

test("a long Kafka outage keeps one pending version per tick and releases them all on recovery", () => {
  const w = new DurableWatermark();
  for (let seq = 1; seq <= 5000; seq++) {
    assert.equal(w.ack(7, seq * 10, seq, 0), 0);
    assert.equal(w.ack(7, seq * 10, seq, 0), 0, "a second pull in the same tick adds nothing");
  }
  assert.equal(w.pending, 5000);
  assert.equal(w.ack(7, 50_000, 5001, 2500), 25_000, "confirmed up to tick 2500");
  assert.equal(w.pending, 2500);
  assert.equal(w.ack(7, 50_010, 5001, 5001), 50_010);
  assert.equal(w.pending, 0);
});

test("an answer loses exactly its klines the gateway already handed off, as objects and as raw bytes", () => {
  const klines = [1, 5, 2, 9, 7].map((v, i) => makeKline("AAA", "1s", T0 + i * 1000, `${v}.0`, v));
  const r = { worker: "w0", epoch: 7, version: 9, full: false, sourceDone: false, symbols: [], klines };
  assert.equal(newerThan(r, 0), r, "nothing to drop: the answer itself");
  assert.deepEqual(
    newerThan(r, 5).klines.map((k) => k.version),
    [9, 7],
  );
  const raw = toRawResult(r);
  assert.equal(newerThan(raw, 0), raw);
  const kept = newerThan(raw, 5).raw!;
  assert.equal(kept.count, 2);
  assert.deepEqual([...kept.version], [9, 7]);
  assert.deepEqual([...kept.openTime], [T0 + 3000, T0 + 4000]);
  // The kept klines still point at their bytes in the original chunks.
  const src = raw.raw!;
  assert.deepEqual([kept.chunk[0], kept.off[0], kept.len[0]], [src.chunk[3], src.off[3], src.len[3]]);
  assert.deepEqual([kept.chunk[1], kept.off[1], kept.len[1]], [src.chunk[4], src.off[4], src.len[4]]);
});

bothWays(
  "while Kafka stalls the ack holds at the confirmed version, the tick goes on, nothing is sent twice",
  async (raw) => {
    const w0 = new FakeWorker("w0", ["AAA", "BBB"], 1000);
    const { gw, producer, kafka } = setup(w0, { raw });
    w0.set("BBB", "1m", T0, "1.0");
    await gw.tickOnce();
    await drained(kafka);
    const confirmed = w0.version;
    producer.stall();
    for (let m = 0; m < 5; m++) {
      closeMinute(w0, m);
      const r = await gw.tickOnce();
      assert.ok(r.durationMs < 50, `tick took ${r.durationMs}ms`);
    }
    assert.deepEqual(
      w0.requests.slice(1).map((q) => q.ackVersion),
      [confirmed, confirmed, confirmed, confirmed, confirmed],
      "every pull during the stall acks only what Kafka confirmed",
    );
    assert.equal(w0.retainedCount, 5, "the worker keeps the closed klines Kafka has not confirmed");
    assert.equal(gw.workerStatus()[0]!.ackVersion, w0.version, "the gateway itself has applied everything");
    producer.resume();
    await drained(kafka);
    await gw.tickOnce();
    assert.equal(w0.requests.at(-1)!.ackVersion, w0.version, "confirmed: the ack catches up");
    await gw.tickOnce();
    assert.equal(w0.retainedCount, 0);
    await drained(kafka);
    assert.deepEqual(closedMinutes(producer), [0, 1, 2, 3, 4], "each closed kline exactly once");
    await kafka.stop(100);
  },
);

bothWays("a gateway killed with closed klines still queued for Kafka loses none of them", async (raw) => {
  const w0 = new FakeWorker("w0", ["AAA", "BBB"], 1000);
  const a = setup(w0, { raw });
  await a.gw.tickOnce();
  await drained(a.kafka);
  a.producer.stall();
  for (let m = 0; m < 5; m++) {
    closeMinute(w0, m);
    await a.gw.tickOnce();
  }
  assert.equal(a.kafka.depth().closed, 5, "queued when the gateway dies");
  // Gateway A dies here (never stopped, its queue never flushed); B starts from nothing.
  const b = setup(w0, { raw });
  await b.gw.tickOnce();
  assert.equal(w0.requests.at(-1)!.epoch, 0, "a new gateway asks for the full state");
  await drained(b.kafka);
  await b.gw.tickOnce();
  await b.gw.tickOnce();
  assert.equal(w0.retainedCount, 0, "acked once B's Kafka confirmed them");
  assert.deepEqual(closedMinutes(a.producer), [], "nothing of them reached Kafka through A");
  assert.deepEqual(closedMinutes(b.producer), [0, 1, 2, 3, 4]);
  await b.kafka.stop(100);
});

test("without durable acks the same crash loses the queued closed klines (the loss durable acks close)", async () => {
  const w0 = new FakeWorker("w0", ["AAA", "BBB"], 1000);
  const a = setup(w0, { raw: false, durable: false });
  await a.gw.tickOnce();
  a.producer.stall();
  for (let m = 0; m < 5; m++) {
    closeMinute(w0, m);
    await a.gw.tickOnce();
  }
  await a.gw.tickOnce(); // acks the last hand-off: the worker forgets them
  assert.equal(w0.retainedCount, 0);
  const b = setup(w0, { raw: false, durable: false });
  await b.gw.tickOnce();
  await drained(b.kafka);
  assert.deepEqual(closedMinutes(a.producer), []);
  assert.deepEqual(closedMinutes(b.producer), [], "lost");
  await b.kafka.stop(100);
});

test("createGateway acks durably when Kafka is configured and right after apply without Kafka", async () => {
  const run = async (withKafka: boolean): Promise<FakeWorker> => {
    const w0 = new FakeWorker("w0", ["AAA", "BBB"], 1000);
    w0.set("AAA", "1m", T0, "1.0");
    const producer = new FakeProducer();
    producer.stall(); // Kafka never confirms
    const gw = createGateway(
      config({ KLAGG_TICK: "10ms", KLAGG_PULL_DEADLINE: "5ms", KLAGG_SHUTDOWN_FLUSH: "20ms" }),
      {
        log: captureLog().log,
        registry: new Registry(),
        pullerFor: () => w0,
        kafkaProducer: withKafka ? producer : undefined,
      },
    );
    gw.start();
    while (w0.requests.length < 4) await new Promise((r) => setTimeout(r, 5));
    await gw.stop();
    return w0;
  };
  const durable = await run(true);
  assert.deepEqual(
    durable.requests[2],
    { epoch: 1000, ackVersion: 0, sinceVersion: durable.version },
    "nothing confirmed: nothing acked (the gateway has applied everything)",
  );
  const plain = await run(false);
  assert.deepEqual(
    plain.requests[2],
    { epoch: 1000, ackVersion: plain.version },
    "no Kafka: acked after apply",
  );
});

test("the durable wrapper passes connect and its timeout through to the worker client", async () => {
  const calls: number[] = [];
  const inner: WorkerPuller = {
    pull: () => Promise.reject(new Error("not used")),
    connect: (timeoutMs) => {
      calls.push(timeoutMs);
      return Promise.resolve();
    },
  };
  const progress = { offeredSeq: () => 0, confirmedSeq: () => 0 };
  await new DurableAckPuller(inner, progress).connect(1234);
  assert.deepEqual(calls, [1234]);
  await new DurableAckPuller({ pull: inner.pull }, progress).connect(5); // nothing to connect: resolves
});
