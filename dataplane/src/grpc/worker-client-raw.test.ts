/**
 * The worker client's raw mode over a real gRPC server on 127.0.0.1: the same
 * answer as the default mode, with the klines as undecoded bytes.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { toBinary } from "@bufbuild/protobuf";
import { KlineSchema } from "../gen/klagg/v1/kline_pb.js";
import type { PullRequest } from "../gen/klagg/v1/worker_pb.js";
import { INTERVALS } from "../core/types.js";
import { FakeEngine } from "./fake-engine.test-helper.js";
import { workerServiceWireDefinition } from "./service-def.js";
import { WorkerClient, WorkerPullError } from "./worker-client.js";
import { WorkerGrpcServer } from "./worker-server.js";

const EPOCH = 1_780_000_000_000;
const T0 = 1_780_000_020_000;
const engine = new FakeEngine(EPOCH);
const symbols = Array.from({ length: 300 }, (_, i) => `S${i}USDT`);
const server = new WorkerGrpcServer({
  host: "127.0.0.1",
  port: 0,
  workerName: "worker-raw",
  engine,
  symbols,
  sourceDone: () => false,
});
let plain: WorkerClient;
let raw: WorkerClient;

before(async () => {
  for (const s of symbols) for (const iv of INTERVALS) engine.set(s, iv, T0, "1.25");
  const port = await server.start();
  plain = new WorkerClient(`127.0.0.1:${port}`, { name: "plain", maxKlinesPerChunk: 1000 });
  raw = new WorkerClient(`127.0.0.1:${port}`, { name: "raw", maxKlinesPerChunk: 1000, rawKlines: true });
});
after(async () => {
  plain.close();
  raw.close();
  await server.stop(200);
});

test("a raw pull returns the default pull's answer, its kline bytes encoding the same klines", async () => {
  const a = await plain.pull({ epoch: 0, ackVersion: 0 }, 5000);
  const b = await raw.pull({ epoch: 0, ackVersion: 0 }, 5000);
  assert.ok(b.raw !== undefined && b.chunks > 1, "several chunks");
  assert.equal(b.raw.count, a.klines.length);
  assert.deepEqual({ ...b, klines: undefined, raw: undefined }, { ...a, klines: undefined, raw: undefined });
  for (let i = 0; i < b.raw.count; i++) {
    assert.deepEqual(new Uint8Array(b.raw.bytes(i)), toBinary(KlineSchema, a.klines[i]!));
    // Every chunk's klines carry their symbol's index in the list the full answer sent.
    assert.equal(b.raw.symRef[i], symbols.indexOf(a.klines[i]!.symbol), `symbol ref of kline ${i}`);
  }
  // `klines` still works in raw mode, decoded on demand.
  assert.deepEqual(b.klines, a.klines);
});

test("a raw pull of a delta carries only the changed klines", async () => {
  const ack = engine.version;
  engine.set("S7USDT", "1m", T0, "9.50");
  const r = await raw.pull({ epoch: EPOCH, ackVersion: ack }, 2000);
  assert.equal(r.raw?.count, 1);
  assert.equal(r.klines[0]!.close, "9.50");
  assert.equal(r.raw.version[0], engine.version);
  assert.equal(r.raw.symRef[0], 7);
});

test("undecodable bytes reject a raw pull as PROTOCOL instead of yielding a partial answer", async () => {
  const bad = new grpc.Server();
  bad.addService(workerServiceWireDefinition, {
    pull: (call: grpc.ServerWritableStream<PullRequest, Buffer>) => {
      call.write(Buffer.from([0x0b, 0x01]));
      call.end();
    },
  });
  const port = await new Promise<number>((res, rej) =>
    bad.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
  );
  const client = new WorkerClient(`127.0.0.1:${port}`, { name: "garbled", rawKlines: true });
  try {
    await assert.rejects(client.pull({ epoch: 0, ackVersion: 0 }, 2000), (e: unknown) => {
      assert.ok(e instanceof WorkerPullError);
      assert.equal(e.worker, "garbled");
      assert.equal(e.code, "PROTOCOL");
      assert.match(e.detail, /unsupported wire type 3/);
      return true;
    });
  } finally {
    client.close();
    bad.forceShutdown();
  }
});
