/**
 * Smoke test of the local Redis (deploy/local/klagg-infra) through ioredis, the client the product uses:
 * SET/GET, PUBLISH/SUBSCRIBE, and MULTI (the gateway's write shape). Reads REDIS_URL only.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { Redis } from "ioredis";

function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run under \`deploy/local/klagg-infra with-infra -- ...\``);
  return v;
}

const prefix = `klagg:smoke:${process.pid}:${Date.now()}`;
let redis: Redis;
let sub: Redis;

before(() => {
  const url = requireEnv("REDIS_URL");
  redis = new Redis(url, { maxRetriesPerRequest: 2, lazyConnect: false });
  sub = new Redis(url, { maxRetriesPerRequest: 2 });
});

after(async () => {
  await redis?.del(`${prefix}:k`, `${prefix}:bin`).catch(() => 0);
  redis?.disconnect();
  sub?.disconnect();
});

test("a value written with SET is read back by GET", async () => {
  assert.equal(await redis.set(`${prefix}:k`, "hello", "EX", 60), "OK");
  assert.equal(await redis.get(`${prefix}:k`), "hello");
});

test("binary values round-trip byte for byte", async () => {
  const bytes = Buffer.from([0, 1, 2, 253, 254, 255]);
  await redis.set(`${prefix}:bin`, bytes, "EX", 60);
  assert.deepEqual(await redis.getBuffer(`${prefix}:bin`), bytes);
});

test("a message published in a MULTI with a SET reaches a subscriber", async () => {
  const channel = `${prefix}:updates`;
  await sub.subscribe(channel);
  const received = once(sub, "message");
  const res = await redis.multi().set(`${prefix}:k`, "v2", "EX", 60).publish(channel, "update-1").exec();
  assert.ok(res, "MULTI was not aborted");
  assert.equal(res[1]?.[1], 1, "exactly one subscriber got the message");
  const [ch, msg] = (await received) as [string, string];
  assert.equal(ch, channel);
  assert.equal(msg, "update-1");
  assert.equal(await redis.get(`${prefix}:k`), "v2");
});
