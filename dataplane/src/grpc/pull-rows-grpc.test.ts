/**
 * The worker's row-encoded pull answers (a real engine behind the gRPC
 * server) through a real client on 127.0.0.1: the same klines as the
 * engine's object API, chunked within the limits.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createEngine } from "../core/engine.js";
import type { KlineEngine } from "../core/engine-api.js";
import { INTERVALS } from "../core/types.js";
import { fromProtoKline } from "./kline-proto.js";
import { pullRawChunks } from "./raw-pull.test-helper.js";
import { WorkerClient } from "./worker-client.js";
import { WorkerGrpcServer } from "./worker-server.js";

const T0 = Date.parse("2024-08-08T12:00:00Z");
const SYMBOLS = Array.from({ length: 500 }, (_, i) => `SYM${String(i).padStart(3, "0")}USDT`);

function tradedEngine(): KlineEngine {
  const e = createEngine({
    symbols: SYMBOLS,
    intervals: INTERVALS,
    epoch: 1_780_000_000_000,
    emptyKlines: true,
    graceMs: 2000,
    utcOffsetMinutes: 0,
  });
  let id = 1;
  for (let t = 0; t < 5000; t += 700) {
    SYMBOLS.forEach((symbol, i) => {
      const price = `${100 + i}.${String((t * 7 + i) % 1000).padStart(3, "0")}`;
      const r = e.ingest({
        symbol,
        firstId: id,
        lastId: id,
        price,
        qty: "0.25",
        time: T0 + t,
        buyerMaker: i % 2 === 0,
      });
      if (r !== undefined) throw new Error(r);
      id++;
    });
  }
  return e;
}

describe("row-encoded pull answers over gRPC", () => {
  const engine = tradedEngine();
  const twin = tradedEngine();
  const server = new WorkerGrpcServer({
    host: "127.0.0.1",
    port: 0,
    workerName: "rows",
    engine,
    symbols: SYMBOLS,
  });
  let port = 0;
  before(async () => {
    port = await server.start();
  });
  after(() => server.stop(200));

  test("a full answer carries exactly the klines of the engine's object API", async () => {
    const client = new WorkerClient(`127.0.0.1:${port}`);
    try {
      const r = await client.pull({ epoch: 0, ackVersion: 0 }, 10_000);
      const expected = twin.pull(0, 0);
      assert.equal(r.full, true);
      assert.equal(r.version, expected.version);
      assert.deepEqual(r.symbols, SYMBOLS);
      assert.deepEqual(r.klines.map(fromProtoKline), expected.klines);
      assert.ok(r.klines.length > 500 * INTERVALS.length, `${r.klines.length} klines`);
    } finally {
      client.close();
    }
  });

  test("chunks honour max_klines_per_chunk and stay under 1 MiB", async () => {
    const chunks = await pullRawChunks(`127.0.0.1:${port}`, 300);
    const total = twin.pull(0, 0).klines.length;
    assert.equal(chunks.length, Math.ceil(total / 300));
    chunks.forEach((c, i) => {
      assert.equal(c.chunkIndex, i);
      assert.equal(c.last, i === chunks.length - 1);
      assert.ok(c.klines.length <= 300);
    });
  });
});
