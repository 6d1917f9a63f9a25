/**
 * The read scheduler against a real Redis (REDIS_URL): initial read, updates
 * over pub/sub, a missed seq, an undecodable message and a Redis restart
 * ($KLAGG_INFRA restart redis).
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { toBinary } from "@bufbuild/protobuf";
import { Redis } from "ioredis";
import { SnapshotSchema, SnapshotUpdateSchema } from "../../src/gen/klagg/v1/snapshot_pb.js";
import { createLogger } from "../../src/obs/log.js";
import { ReadScheduler } from "../../src/scheduler/read-scheduler.js";
import { RedisSnapshotBus } from "../../src/scheduler/redis-bus.js";
import { snapshotKey, updatesChannel } from "../../src/scheduler/snapshot-bus.js";
import { eventually, FakePublisher, kline } from "../support/snapshot-fixtures.js";

const REDIS_URL = process.env.REDIS_URL;
const INFRA = process.env.KLAGG_INFRA;
const T0 = 1_723_161_300_000;
const quietLog = createLogger("scheduler-test", { level: "error" });

let redis: Redis;

before(() => {
  if (!REDIS_URL)
    throw new Error("REDIS_URL is not set: run under `deploy/local/klagg-infra with-infra -- ...`");
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3, retryStrategy: () => 100 });
  redis.on("error", () => {}); // reconnects on its own during the restart test
});

after(async () => {
  await redis?.quit().catch(() => redis.disconnect());
});

function uniqueName(): string {
  return `itest-sched-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** What the gateway does each tick: SET the key and PUBLISH the update in one MULTI. */
async function publish(name: string, t: ReturnType<FakePublisher["tick"]>, deliver = true): Promise<void> {
  const m = redis
    .multi()
    .set(snapshotKey(name), Buffer.from(toBinary(SnapshotSchema, t.snapshot)), "EX", 600);
  if (deliver) m.publish(updatesChannel(name), Buffer.from(toBinary(SnapshotUpdateSchema, t.update)));
  await m.exec();
}

async function startScheduler(name: string): Promise<{ sched: ReadScheduler; bus: RedisSnapshotBus }> {
  const bus = new RedisSnapshotBus({ url: REDIS_URL!, name, log: quietLog, maxReconnectDelayMs: 200 });
  const sched = new ReadScheduler(bus, { log: quietLog, retryMs: 50 });
  await sched.start();
  return { sched, bus };
}

test("the scheduler reads the key on start and follows the updates channel", async () => {
  const name = uniqueName();
  const pub = new FakePublisher(name, 7n);
  await publish(name, pub.tick([kline("BTCUSDT", "1m", T0, "100.5")]));
  const { sched, bus } = await startScheduler(name);
  const seen: bigint[] = [];
  sched.register("collect", (s) => void seen.push(s.seq));
  await eventually(() => seen.includes(1n), 3000, "the stored snapshot");
  for (let i = 2; i <= 5; i++) await publish(name, pub.tick([kline("BTCUSDT", "1m", T0, `10${i}.5`)]));
  await eventually(() => sched.current()?.seq === 5n, 3000, "seq 5");
  assert.equal(sched.current()?.klines[0]?.close, "105.5");
  assert.equal(sched.stats().updatesApplied, 4);
  assert.equal(sched.stats().gaps, 0);
  await sched.stop();
  await bus.close();
});

test("a missed seq on the channel triggers a re-read of the key", async () => {
  const name = uniqueName();
  const pub = new FakePublisher(name);
  await publish(name, pub.tick([kline("BTCUSDT", "1m", T0, "1")]));
  const { sched, bus } = await startScheduler(name);
  await eventually(() => sched.current()?.seq === 1n, 3000, "seq 1");
  await publish(name, pub.tick([kline("ETHUSDT", "1m", T0, "2")]), false); // key written, update lost
  await publish(name, pub.tick([kline("BTCUSDT", "1m", T0, "3")]));
  await eventually(() => sched.current()?.seq === 3n, 3000, "seq 3");
  assert.equal(sched.stats().gaps, 1);
  assert.deepEqual(
    sched.current()?.klines.map((k) => `${k.symbol}=${k.close}`),
    ["BTCUSDT=3", "ETHUSDT=2"],
  );
  await sched.stop();
  await bus.close();
});

test("an undecodable message on the channel is counted and the scheduler keeps going", async () => {
  const name = uniqueName();
  const pub = new FakePublisher(name);
  await publish(name, pub.tick([kline("BTCUSDT", "1m", T0, "1")]));
  const { sched, bus } = await startScheduler(name);
  await eventually(() => sched.current()?.seq === 1n, 3000, "seq 1");
  await redis.publish(updatesChannel(name), Buffer.from([0xff, 0xff, 0xff, 0x01]));
  await publish(name, pub.tick([kline("BTCUSDT", "1m", T0, "2")]));
  await eventually(() => sched.current()?.seq === 2n, 3000, "seq 2");
  assert.equal(bus.rejectedMessages, 1);
  await sched.stop();
  await bus.close();
});

test("after a Redis restart the scheduler resubscribes and re-reads the snapshot", async () => {
  if (!INFRA)
    throw new Error("KLAGG_INFRA is not set: run under `deploy/local/klagg-infra with-infra -- ...`");
  const name = uniqueName();
  const pub = new FakePublisher(name);
  await publish(name, pub.tick([kline("BTCUSDT", "1m", T0, "1")]));
  const { sched, bus } = await startScheduler(name);
  await eventually(() => sched.current()?.seq === 1n, 3000, "seq 1");
  const resyncsBefore = sched.stats().resyncs;
  await promisify(execFile)(INFRA, ["restart", "redis"], { timeout: 60_000 });
  await eventually(() => redis.status === "ready", 10_000, "test client reconnect");
  // The subscriber noticed the loss, resubscribed and re-read the key.
  await eventually(() => sched.stats().resyncs > resyncsBefore, 10_000, "a re-read after the reconnect");
  await publish(name, pub.tick([kline("BTCUSDT", "1m", T0, "2")]));
  await eventually(() => sched.current()?.seq === 2n, 5000, "seq 2 via the channel after the restart");
  await publish(name, pub.tick([kline("ETHUSDT", "1m", T0, "3")]), false);
  await publish(name, pub.tick([kline("BTCUSDT", "1m", T0, "4")]));
  await eventually(() => sched.current()?.seq === 4n, 5000, "seq 4 after a gap");
  assert.deepEqual(
    sched.current()?.klines.map((k) => `${k.symbol}=${k.close}`),
    ["BTCUSDT=4", "ETHUSDT=3"],
  );
  await sched.stop();
  await bus.close();
});
