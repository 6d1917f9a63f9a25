import { test } from "node:test";
import assert from "node:assert/strict";
import type { Snapshot } from "../gen/klagg/v1/snapshot_pb.js";
import { createLogger } from "../obs/log.js";
import { InProcessSnapshotBus } from "./in-process-bus.js";
import { ReadScheduler } from "./read-scheduler.js";
import type { SnapshotBus, SnapshotBusListener, SnapshotSubscription } from "./snapshot-bus.js";
import { delay, eventually, FakePublisher, kline } from "../../test/support/snapshot-fixtures.js";

const T0 = 1_723_161_300_000;

function captureLog(): { lines: Record<string, unknown>[]; log: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  return { lines, log: createLogger("scheduler", { sink: (l) => lines.push(JSON.parse(l)) }) };
}

/** A bus whose deliveries the test controls: it can lose updates and fail reads. */
class ControlledBus implements SnapshotBus {
  readonly description = "controlled";
  stored: Snapshot | undefined;
  reads = 0;
  failReads = 0;
  listener: SnapshotBusListener | undefined;
  async getLatest(): Promise<Snapshot | undefined> {
    this.reads++;
    if (this.failReads > 0) {
      this.failReads--;
      throw new Error("connection refused");
    }
    return this.stored;
  }
  async subscribe(l: SnapshotBusListener): Promise<SnapshotSubscription> {
    this.listener = l;
    return { close: async () => void (this.listener = undefined) };
  }
  async close(): Promise<void> {}
}

test("a handler receives the stored snapshot on start and every later change", async () => {
  const bus = new InProcessSnapshotBus();
  const pub = new FakePublisher();
  const t1 = pub.tick([kline("BTCUSDT", "1m", T0, "1")]);
  await bus.publish(t1.snapshot, t1.update);
  const sched = new ReadScheduler(bus, { log: captureLog().log });
  const seen: bigint[] = [];
  sched.register("collect", (s) => void seen.push(s.seq));
  await sched.start();
  await eventually(() => seen.includes(1n), 1000, "seq 1");
  const t2 = pub.tick([kline("BTCUSDT", "1m", T0, "2")]);
  await bus.publish(t2.snapshot, t2.update);
  await eventually(() => seen.includes(2n), 1000, "seq 2");
  assert.equal(sched.current()?.klines[0]?.close, "2");
  assert.equal(sched.stats().updatesApplied, 1);
  await sched.stop();
});

test("a slow handler gets the newest snapshot next instead of a backlog, and handlers never overlap", async () => {
  const bus = new InProcessSnapshotBus();
  const pub = new FakePublisher();
  const sched = new ReadScheduler(bus, { log: captureLog().log });
  let running = 0;
  let maxRunning = 0;
  const slowSeen: bigint[] = [];
  const fastSeen: bigint[] = [];
  const track = async (list: bigint[], s: Snapshot, ms: number): Promise<void> => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    list.push(s.seq);
    await delay(ms);
    running--;
  };
  sched.register("slow", (s) => track(slowSeen, s, 40));
  sched.register("fast", (s) => track(fastSeen, s, 0));
  await sched.start();
  for (let i = 0; i < 30; i++) {
    const t = pub.tick([kline("BTCUSDT", "1m", T0, String(i))]);
    await bus.publish(t.snapshot, t.update);
    await delay(4);
  }
  await eventually(() => slowSeen.at(-1) === 30n && fastSeen.at(-1) === 30n, 2000, "both at seq 30");
  await sched.stop();
  assert.equal(maxRunning, 1, "handlers ran concurrently");
  assert.ok(slowSeen.length < 15, `slow handler saw ${slowSeen.length} snapshots: a backlog`);
  for (let i = 1; i < slowSeen.length; i++) assert.ok(slowSeen[i]! > slowSeen[i - 1]!, "seqs go forward");
  assert.ok(sched.stats().skipped > 0);
});

test("a throwing handler is logged with its name and the other handlers keep running", async () => {
  const bus = new InProcessSnapshotBus();
  const pub = new FakePublisher();
  const { lines, log } = captureLog();
  const sched = new ReadScheduler(bus, { log });
  const okSeen: bigint[] = [];
  sched.register("broken", () => {
    throw new Error("boom");
  });
  sched.register("ok", (s) => void okSeen.push(s.seq));
  await sched.start();
  for (let i = 0; i < 3; i++) {
    const t = pub.tick([kline("BTCUSDT", "1m", T0, String(i))]);
    await bus.publish(t.snapshot, t.update);
    await eventually(() => okSeen.includes(BigInt(i + 1)), 1000, `seq ${i + 1}`);
  }
  await sched.stop();
  const errors = lines.filter((l) => l.msg === "snapshot handler failed");
  assert.ok(errors.length >= 1);
  assert.equal(errors[0]?.handler, "broken");
  assert.deepEqual(errors[0]?.err, { name: "Error", message: "boom" });
  assert.equal(sched.stats().handlerErrors, errors.length);
});

test("a missed seq makes the scheduler re-read the snapshot key", async () => {
  const bus = new ControlledBus();
  const pub = new FakePublisher();
  bus.stored = pub.tick([kline("BTCUSDT", "1m", T0, "1")]).snapshot;
  const sched = new ReadScheduler(bus, { log: captureLog().log });
  await sched.start();
  await eventually(() => sched.current()?.seq === 1n, 1000, "first read");
  const lost = pub.tick([kline("ETHUSDT", "1m", T0, "7")]); // published but never delivered
  bus.stored = lost.snapshot;
  const t3 = pub.tick([kline("BTCUSDT", "1m", T0, "3")]);
  bus.stored = t3.snapshot;
  const readsBefore = bus.reads;
  bus.listener?.onUpdate(t3.update);
  await eventually(() => sched.current()?.seq === 3n, 1000, "resync to seq 3");
  assert.equal(bus.reads, readsBefore + 1);
  assert.equal(sched.stats().gaps, 1);
  const closes = sched.current()?.klines.map((k) => `${k.symbol}=${k.close}`);
  assert.deepEqual(closes, ["BTCUSDT=3", "ETHUSDT=7"]);
  await sched.stop();
});

test("a new gateway epoch and a resubscription each cause a re-read", async () => {
  const bus = new ControlledBus();
  bus.stored = new FakePublisher("a", 1n).tick([kline("BTCUSDT", "1m", T0, "1")]).snapshot;
  const sched = new ReadScheduler(bus, { log: captureLog().log });
  await sched.start();
  await eventually(() => sched.current() !== undefined, 1000, "first read");
  const restarted = new FakePublisher("a", 2n);
  const r1 = restarted.tick([kline("BTCUSDT", "1m", T0, "5")]);
  bus.stored = r1.snapshot;
  bus.listener?.onUpdate(r1.update);
  await eventually(() => sched.current()?.gatewayEpoch === 2n, 1000, "epoch 2");
  assert.equal(sched.current()?.klines[0]?.close, "5");
  const reads = bus.reads;
  const r2 = restarted.tick([kline("BTCUSDT", "1m", T0, "6")]);
  bus.stored = r2.snapshot; // delivered while disconnected: lost
  bus.listener?.onResubscribed();
  await eventually(() => sched.current()?.seq === 2n, 1000, "re-read after resubscribe");
  assert.equal(bus.reads, reads + 1);
  await sched.stop();
});

test("a failing snapshot read is logged and retried until it succeeds", async () => {
  const bus = new ControlledBus();
  bus.stored = new FakePublisher().tick([kline("BTCUSDT", "1m", T0, "1")]).snapshot;
  bus.failReads = 2;
  const { lines, log } = captureLog();
  const sched = new ReadScheduler(bus, { log, retryMs: 5 });
  await sched.start();
  await eventually(() => sched.current()?.seq === 1n, 1000, "read after retries");
  assert.equal(sched.stats().resyncFailures, 2);
  assert.equal(lines.filter((l) => l.msg === "reading the snapshot failed; retrying").length, 2);
  await sched.stop();
});

test("stop waits for the running handler, aborts its signal and ends deliveries", async () => {
  const bus = new InProcessSnapshotBus();
  const pub = new FakePublisher();
  const sched = new ReadScheduler(bus, { log: captureLog().log });
  let calls = 0;
  let abortedInside = false;
  let finished = false;
  sched.register("slow", async (_s, signal) => {
    calls++;
    await delay(30);
    abortedInside = signal.aborted;
    finished = true;
  });
  const t = pub.tick([kline("BTCUSDT", "1m", T0, "1")]);
  await bus.publish(t.snapshot, t.update);
  const ac = new AbortController();
  await sched.start(ac.signal);
  await eventually(() => calls === 1, 1000, "first call");
  await sched.stop();
  assert.equal(finished, true);
  assert.equal(abortedInside, true);
  const t2 = pub.tick([kline("BTCUSDT", "1m", T0, "2")]);
  await bus.publish(t2.snapshot, t2.update);
  await delay(20);
  assert.equal(calls, 1);
});

test("waitFor resolves with the first snapshot matching a predicate", async () => {
  const bus = new InProcessSnapshotBus();
  const pub = new FakePublisher();
  const sched = new ReadScheduler(bus, { log: captureLog().log });
  await sched.start();
  const waiting = sched.waitFor((s) => s.seq >= 3n);
  for (let i = 0; i < 3; i++) {
    const t = pub.tick([kline("BTCUSDT", "1m", T0, String(i))]);
    await bus.publish(t.snapshot, t.update);
  }
  const got = await waiting;
  assert.equal(got.seq, 3n);
  const never = assert.rejects(
    sched.waitFor((s) => s.seq > 100n),
    /aborted/,
  );
  await sched.stop();
  await never;
});
