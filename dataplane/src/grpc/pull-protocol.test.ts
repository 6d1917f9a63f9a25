/**
 * The pull protocol over a real gRPC server and client on 127.0.0.1.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { INTERVALS } from "../core/types.js";
import type { PullChunk, PullRequest } from "../gen/klagg/v1/worker_pb.js";
import { FakeEngine } from "./fake-engine.test-helper.js";
import { pullRawChunks } from "./raw-pull.test-helper.js";
import { fromProtoKline } from "./kline-proto.js";
import { SYMBOLS_PER_CHUNK, type PullInfo } from "./pull-handler.js";
import { pullChunkCodec, workerServiceDefinition, workerServiceWireDefinition } from "./service-def.js";
import { WorkerClient, WorkerPullError } from "./worker-client.js";
import { WorkerGrpcServer } from "./worker-server.js";

const EPOCH = 1_780_000_000_000;
const T0 = 1_780_000_020_000;

describe("pull protocol on a small state", () => {
  const engine = new FakeEngine(EPOCH);
  const pulls: PullInfo[] = [];
  let sourceDone = false;
  const server = new WorkerGrpcServer({
    host: "127.0.0.1",
    port: 0,
    workerName: "worker-0",
    engine,
    symbols: ["BTCUSDT", "ETHUSDT"],
    sourceDone: () => sourceDone,
    onPull: (i) => pulls.push(i),
  });
  let client: WorkerClient;

  before(async () => {
    engine.set("BTCUSDT", "1m", T0, "2.00");
    engine.set("ETHUSDT", "1m", T0, "3.00");
    const port = await server.start();
    client = new WorkerClient(`127.0.0.1:${port}`, { name: "w0" });
  });
  after(async () => {
    client.close();
    await server.stop(200);
  });

  test("first contact (epoch 0) gets the full state with the worker's symbols", async () => {
    const r = await client.pull({ epoch: 0, ackVersion: 0 }, 2000);
    assert.equal(r.full, true);
    assert.equal(r.worker, "worker-0");
    assert.equal(r.epoch, EPOCH);
    assert.equal(r.version, engine.version);
    assert.deepEqual(r.symbols, ["BTCUSDT", "ETHUSDT"]);
    assert.deepEqual(r.klines.map((k) => `${k.symbol}:${k.close}`).sort(), ["BTCUSDT:2.00", "ETHUSDT:3.00"]);
    assert.equal(r.sourceDone, false);
  });

  test("a pull acking the current version answers nothing, not full, without symbols", async () => {
    const r = await client.pull({ epoch: EPOCH, ackVersion: engine.version }, 2000);
    assert.equal(r.full, false);
    assert.equal(r.klines.length, 0);
    assert.deepEqual(r.symbols, []);
    assert.equal(r.chunks, 1, "an empty answer still has its last chunk");
  });

  test("only klines changed after the ack come back, converted exactly", async () => {
    const ack = engine.version;
    const rec = engine.set("BTCUSDT", "1m", T0, "2.50");
    const r = await client.pull({ epoch: EPOCH, ackVersion: ack }, 2000);
    assert.equal(r.klines.length, 1);
    assert.deepEqual(fromProtoKline(r.klines[0]!), rec);
  });

  test("a closed kline is retained across a lost answer and dropped once acked", async () => {
    const ack = engine.version;
    engine.close("ETHUSDT", "1m", T0);
    const lost = await client.pull({ epoch: EPOCH, ackVersion: ack }, 2000);
    assert.equal(lost.klines.length, 1);
    assert.equal(lost.klines[0]!.closed, true);
    // The caller never applied `lost`, so it pulls again with its old ack.
    const again = await client.pull({ epoch: EPOCH, ackVersion: ack }, 2000);
    assert.deepEqual(
      again.klines.map((k) => [k.symbol, k.closed]),
      [["ETHUSDT", true]],
    );
    assert.equal(engine.retainedClosed, 1);
    const acked = await client.pull({ epoch: EPOCH, ackVersion: again.version }, 2000);
    assert.equal(acked.klines.length, 0);
    assert.equal(engine.retainedClosed, 0);
  });

  test("an unknown epoch (worker restarted) gets a full answer", async () => {
    const r = await client.pull({ epoch: EPOCH - 5, ackVersion: engine.version }, 2000);
    assert.equal(r.full, true);
    assert.equal(r.epoch, EPOCH);
    assert.deepEqual(r.symbols, ["BTCUSDT", "ETHUSDT"]);
    assert.deepEqual(
      r.klines.map((k) => k.symbol),
      ["BTCUSDT"],
      "the acked closed kline is gone; the open one is there",
    );
  });

  test("source_done is reported when the worker says its source ended", async () => {
    sourceDone = true;
    const r = await client.pull({ epoch: EPOCH, ackVersion: engine.version }, 2000);
    assert.equal(r.sourceDone, true);
    sourceDone = false;
  });

  test("the server reports every pull with its latency", () => {
    assert.ok(pulls.length >= 7);
    for (const p of pulls) {
      assert.equal(p.completed, true);
      assert.ok(p.seconds >= 0 && p.seconds < 2);
    }
  });

  test("an aborted pull rejects with CANCELLED naming the worker", async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(client.pull({ epoch: EPOCH, ackVersion: 0 }, 2000, ac.signal), (e: unknown) => {
      return e instanceof WorkerPullError && e.code === "CANCELLED" && e.worker === "w0";
    });
  });
});

describe("pull protocol on a large state", () => {
  const engine = new FakeEngine(EPOCH);
  const symbols = Array.from({ length: 2000 }, (_, i) => `SYM${String(i).padStart(4, "0")}USDT`);
  const server = new WorkerGrpcServer({ host: "127.0.0.1", port: 0, workerName: "big", engine, symbols });
  let port = 0;

  before(async () => {
    for (const s of symbols) for (const iv of INTERVALS) engine.set(s, iv, T0, "61837.63000000");
    port = await server.start();
  });
  after(() => server.stop(200));

  test("2,000 symbols x 16 intervals arrive in several chunks, every kline exactly once", async () => {
    const client = new WorkerClient(`127.0.0.1:${port}`);
    try {
      const r = await client.pull({ epoch: 0, ackVersion: 0 }, 10_000);
      assert.equal(r.full, true);
      assert.ok(r.chunks > 1, `expected several chunks, got ${r.chunks}`);
      assert.equal(r.klines.length, 32_000);
      const keys = new Set(r.klines.map((k) => `${k.symbol}|${k.interval}`));
      assert.equal(keys.size, 32_000, "no kline delivered twice");
      assert.equal(r.symbols.length, 2000);
    } finally {
      client.close();
    }
  });

  test("every chunk on the wire is well under 4 MiB and honours max_klines_per_chunk", async () => {
    // A raw client sees the individual chunks and their encoded size.
    const chunks = await pullRawChunks(`127.0.0.1:${port}`, 700);
    assert.equal(chunks.length, Math.ceil(32_000 / 700));
    chunks.forEach((c, i) => {
      assert.equal(c.chunkIndex, i);
      assert.equal(c.last, i === chunks.length - 1);
      assert.ok(c.klines.length <= 700);
      assert.ok(pullChunkCodec.serialize(c).length < 1024 * 1024);
    });
  });

  test("a 10% change after the ack sends only the changed klines", async () => {
    const client = new WorkerClient(`127.0.0.1:${port}`);
    try {
      const ack = engine.version;
      for (let i = 0; i < 3200; i++)
        engine.set(symbols[i % 2000]!, INTERVALS[Math.floor(i / 2000)]!, T0, "61837.64000000");
      const r = await client.pull({ epoch: EPOCH, ackVersion: ack }, 10_000);
      assert.equal(r.klines.length, 3200);
      assert.ok(r.klines.every((k) => k.close === "61837.64000000"));
    } finally {
      client.close();
    }
  });
});

describe("pull failures", () => {
  // A misbehaving worker: its pull writes one non-final chunk, then stalls or ends.
  const behaviour = { mode: "stall" as "stall" | "end" | "mixed" };
  const server = new grpc.Server();
  let port = 0;
  const chunk = (i: number, version: number, last: boolean): PullChunk => ({
    $typeName: "klagg.v1.PullChunk",
    worker: "bad",
    epoch: 1n,
    version: BigInt(version),
    full: false,
    last,
    chunkIndex: i,
    klines: [],
    symbols: [],
    symbolRefs: [],
    sourceDone: false,
  });

  before(async () => {
    server.addService(workerServiceDefinition, {
      pull: (call: grpc.ServerWritableStream<PullRequest, PullChunk>) => {
        call.write(chunk(0, 5, false));
        if (behaviour.mode === "end") call.end();
        if (behaviour.mode === "mixed") {
          call.write(chunk(1, 6, true));
          call.end();
        }
      },
    });
    port = await new Promise((res, rej) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? rej(e) : res(p),
      ),
    );
  });
  after(() => server.forceShutdown());

  test("a pull past its deadline rejects with DEADLINE_EXCEEDED naming the worker", async () => {
    behaviour.mode = "stall";
    const client = new WorkerClient(`127.0.0.1:${port}`, { name: "stalled-worker" });
    try {
      const t = Date.now();
      await assert.rejects(client.pull({ epoch: 1, ackVersion: 0 }, 150), (e: unknown) => {
        assert.ok(e instanceof WorkerPullError);
        assert.equal(e.code, "DEADLINE_EXCEEDED");
        assert.equal(e.worker, "stalled-worker");
        assert.match(e.message, /stalled-worker.*DEADLINE_EXCEEDED/);
        return true;
      });
      assert.ok(Date.now() - t < 1500, "the deadline is enforced promptly");
    } finally {
      client.close();
    }
  });

  test("a stream ending before the last chunk rejects as INCOMPLETE", async () => {
    behaviour.mode = "end";
    const client = new WorkerClient(`127.0.0.1:${port}`, { name: "w" });
    try {
      await assert.rejects(client.pull({ epoch: 1, ackVersion: 0 }, 2000), (e: unknown) => {
        return e instanceof WorkerPullError && e.code === "INCOMPLETE";
      });
    } finally {
      client.close();
    }
  });

  test("chunks of different answers in one stream reject as PROTOCOL", async () => {
    behaviour.mode = "mixed";
    const client = new WorkerClient(`127.0.0.1:${port}`, { name: "w" });
    try {
      await assert.rejects(client.pull({ epoch: 1, ackVersion: 0 }, 2000), (e: unknown) => {
        return e instanceof WorkerPullError && e.code === "PROTOCOL";
      });
    } finally {
      client.close();
    }
  });

  test("an unreachable worker rejects with UNAVAILABLE", async () => {
    const client = new WorkerClient("127.0.0.1:1", { name: "gone" });
    try {
      await assert.rejects(client.pull({ epoch: 1, ackVersion: 0 }, 2000), (e: unknown) => {
        return e instanceof WorkerPullError && e.code === "UNAVAILABLE" && e.worker === "gone";
      });
    } finally {
      client.close();
    }
  });
});

describe("full answers with many symbols", () => {
  test("a 10,000-symbol list is spread over several chunks and arrives whole, in order", async () => {
    const symbols = Array.from({ length: 10_000 }, (_, i) => `SYMBOL${String(i).padStart(5, "0")}USDT`);
    const engine = new FakeEngine(EPOCH);
    engine.set(symbols[0]!, "1m", T0, "1.5");
    const pulls: PullInfo[] = [];
    const server = new WorkerGrpcServer({
      host: "127.0.0.1",
      port: 0,
      workerName: "many",
      engine,
      symbols,
      onPull: (i) => pulls.push(i),
    });
    const client = new WorkerClient(`127.0.0.1:${await server.start()}`);
    try {
      const r = await client.pull({ epoch: 0, ackVersion: 0 }, 5000);
      assert.deepEqual(r.symbols, symbols);
      assert.equal(r.klines.length, 1);
      assert.equal(r.chunks, Math.ceil(10_000 / SYMBOLS_PER_CHUNK));
      const inc = await client.pull({ epoch: EPOCH, ackVersion: r.version }, 5000);
      assert.deepEqual(inc.symbols, [], "incremental answers carry no symbols");
      assert.equal(inc.chunks, 1);
    } finally {
      client.close();
      await server.stop(200);
    }
  });
});

describe("worker-side failures", () => {
  test("an engine that throws answers INTERNAL at once, naming the worker, and is reported as failed", async () => {
    const pulls: PullInfo[] = [];
    const engine = {
      pull: (): never => {
        throw new Error("engine state corrupt");
      },
    };
    const server = new WorkerGrpcServer({
      host: "127.0.0.1",
      port: 0,
      workerName: "broken",
      engine,
      symbols: ["BTCUSDT"],
      onPull: (i) => pulls.push(i),
    });
    const client = new WorkerClient(`127.0.0.1:${await server.start()}`, { name: "broken-0" });
    try {
      const t = Date.now();
      await assert.rejects(client.pull({ epoch: 0, ackVersion: 0 }, 5000), (e: unknown) => {
        assert.ok(e instanceof WorkerPullError);
        assert.equal(e.code, "INTERNAL");
        assert.equal(e.worker, "broken-0");
        assert.match(e.detail, /engine state corrupt/);
        return true;
      });
      assert.ok(Date.now() - t < 2000, "the caller is not left waiting for its deadline");
      assert.equal(pulls.length, 1);
      assert.equal(pulls[0]!.completed, false);
    } finally {
      client.close();
      await server.stop(200);
    }
  });
});

test("undecodable bytes from a worker reject the pull instead of yielding a partial answer", async () => {
  const server = new grpc.Server();
  server.addService(workerServiceWireDefinition, {
    pull: (call: grpc.ServerWritableStream<PullRequest, Buffer>) => {
      call.write(Buffer.from([0x0b, 0x01])); // wire type 3 (groups): not valid in a PullChunk
      call.end();
    },
  });
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
  );
  const client = new WorkerClient(`127.0.0.1:${port}`, { name: "garbled" });
  try {
    await assert.rejects(client.pull({ epoch: 0, ackVersion: 0 }, 2000), (e: unknown) => {
      assert.ok(e instanceof WorkerPullError);
      assert.equal(e.worker, "garbled");
      assert.equal(e.code, "INTERNAL");
      assert.match(e.detail, /parsing error: unsupported wire type 3/);
      return true;
    });
  } finally {
    client.close();
    server.forceShutdown();
  }
});
