import { test } from "node:test";
import assert from "node:assert/strict";
import { fromBinary } from "@bufbuild/protobuf";
import { KlineBatchSchema } from "../gen/klagg/v1/kline_pb.js";
import { GlobalState, StateLayout } from "./global-state.js";
import { KafkaHandoff } from "./kafka-handoff.js";
import { SnapshotBuilder, type TickEntries } from "./snapshot-builder.js";
import { FakeProducer, captureLog, makeKline, metricValue, testMetrics } from "./fakes.test-helper.js";

const T0 = 1_700_000_040_000;
const TP = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/** Builds tick entries for the given (symbol, close, closed) changes through the real builder. */
function ticks(symbols: string[]) {
  const layout = new StateLayout(symbols, ["1m"]);
  const st = new GlobalState(layout);
  const b = new SnapshotBuilder(st, "agg", 1);
  let version = 0;
  let seq = 0;
  const make = (changes: [string, string, boolean, number?][]): { seq: number; entries: TickEntries } => {
    for (const [sym, close, closed, minute] of changes) {
      const k = makeKline(sym, "1m", T0 + (minute ?? 0) * 60_000, close, ++version);
      k.closed = closed;
      st.apply(k, 0, 0);
    }
    const built = b.build(++seq, seq, [], 0, new Uint8Array([1]));
    st.endTick();
    return { seq, entries: built.entries };
  };
  return { layout, make };
}

function setup(limit: number) {
  const { layout, make } = ticks(["AAA", "BBB", "CCC", "DDD"]);
  const producer = new FakeProducer();
  const { log, lines } = captureLog();
  const { metrics, registry } = testMetrics();
  const h = new KafkaHandoff(
    producer,
    layout,
    { aggregator: "agg", limit, retryBaseMs: 2, retryMaxMs: 5 },
    log,
    metrics,
  );
  return { h, make, producer, lines, registry };
}

test("one record per symbol per tick, keyed by symbol, with the tick's traceparent header", async () => {
  const { h, make, producer } = setup(100);
  const t = make([
    ["AAA", "1.0", false],
    ["BBB", "2.0", true],
  ]);
  h.offer(t.seq, TP, t.entries);
  h.start();
  await h.stop(500);
  assert.deepEqual(producer.records.map((r) => r.key).sort(), ["AAA", "BBB"]);
  for (const r of producer.records) {
    assert.equal(r.headers.traceparent, TP);
    const batch = fromBinary(KlineBatchSchema, r.value);
    assert.equal(batch.aggregator, "agg");
    assert.equal(batch.seq, BigInt(t.seq));
    assert.equal(batch.klines.length, 1);
    assert.equal(batch.klines[0]!.symbol, r.key);
  }
});

test("beyond the limit open updates are dropped oldest first and counted; closed klines are kept", async () => {
  const { h, make, producer, registry, lines } = setup(3);
  producer.stall();
  h.start();
  const a = make([["AAA", "1.0", true]]);
  h.offer(a.seq, "", a.entries); // in flight (stalled)
  const b = make([
    ["BBB", "2.0", false],
    ["CCC", "3.0", false],
  ]);
  h.offer(b.seq, "", b.entries);
  const c = make([
    ["DDD", "4.0", false],
    ["AAA", "5.0", true, 1],
  ]);
  h.offer(c.seq, "", c.entries);
  assert.deepEqual(h.depth(), { closed: 2, open: 1 });
  assert.equal(await metricValue(registry, "klagg_gateway_kafka_dropped_open_total"), 2);
  assert.ok(lines.some((l) => l.level === "warn" && l.dropped === 2));
  producer.resume();
  await h.stop(500);
  const got = producer.klines().map((k) => `${k.symbol}:${k.close}:${k.closed}`);
  assert.deepEqual(got.sort(), ["AAA:1.0:true", "AAA:5.0:true", "DDD:4.0:false"]);
});

test("a newer open state of the same slot replaces the queued one without counting a drop", async () => {
  const { h, make, producer, registry } = setup(100);
  for (const close of ["1.0", "1.1", "1.2"]) {
    const t = make([["AAA", close, false]]);
    h.offer(t.seq, "", t.entries);
  }
  assert.deepEqual(h.depth(), { closed: 0, open: 1 });
  h.start();
  await h.stop(500);
  assert.deepEqual(
    producer.klines().map((k) => k.close),
    ["1.2"],
  );
  assert.equal(await metricValue(registry, "klagg_gateway_kafka_dropped_open_total"), 0);
});

test("failed sends are retried until Kafka accepts them, and every failure is logged and counted", async () => {
  const { h, make, producer, registry, lines } = setup(100);
  producer.fail = true;
  const t = make([["AAA", "1.0", true]]);
  h.offer(t.seq, "", t.entries);
  h.start();
  await new Promise((r) => setTimeout(r, 30));
  assert.ok(producer.sends >= 2);
  assert.equal(h.depth().closed, 1, "kept while failing");
  producer.fail = false;
  await h.stop(500);
  assert.equal(producer.klines().length, 1);
  assert.ok((await metricValue(registry, "klagg_gateway_kafka_send_failures_total"))! >= 2);
  assert.ok(lines.some((l) => l.level === "error" && /kafka send failed/.test(String(l.msg))));
});

test("stop gives up after its bound and reports the closed klines left behind", async () => {
  const { h, make, producer, lines } = setup(100);
  producer.fail = true;
  const t = make([["AAA", "1.0", true]]);
  h.offer(t.seq, "", t.entries);
  h.start();
  const started = performance.now();
  await h.stop(50);
  assert.ok(performance.now() - started < 400);
  const err = lines.find((l) => /closed klines not delivered/.test(String(l.msg)));
  assert.equal(err?.closed_left, 1);
});
