/**
 * The gateway's raw-bytes path (answers carrying undecoded kline bytes) must
 * publish exactly what the object path publishes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { fromBinary } from "@bufbuild/protobuf";
import { SnapshotSchema } from "../gen/klagg/v1/snapshot_pb.js";
import { parseGatewayConfig } from "../config/gateway.js";
import { ByteKeyIndex } from "./byte-key-index.js";
import { Gateway } from "./gateway.js";
import type { GatewaySnapshot, PullResult, SnapshotPublisher, WorkerPuller } from "./ports.js";
import {
  captureLog,
  makeKline,
  metricValue,
  testMetrics,
  toRawResult,
  type FakeKline,
} from "./fakes.test-helper.js";

const T0 = 1_700_000_040_000;
const SYMBOLS = ["AAA", "BBB", "CCC", "DDD", "EEE"];
const IVS = ["1s", "1m", "1h"];

class Keep implements SnapshotPublisher {
  readonly name = "keep";
  readonly snaps: GatewaySnapshot[] = [];
  publish(s: GatewaySnapshot): void {
    s.retain();
    this.snaps.push(s);
  }
  async stop(): Promise<void> {}
}

/**
 * Answers whatever the test sets as `next`, as objects or as raw bytes; raw answers carry symbol refs
 * into `refList` when one is given.
 */
class Scripted implements WorkerPuller {
  next: PullResult = {
    worker: "w",
    epoch: 1,
    version: 1,
    full: true,
    sourceDone: false,
    symbols: [],
    klines: [],
  };
  constructor(
    readonly raw: boolean,
    readonly refList?: readonly string[],
  ) {}
  async pull(): Promise<PullResult> {
    return this.raw ? toRawResult(this.next, this.refList) : this.next;
  }
}

function gateway(raw: boolean, refList?: readonly string[]) {
  const config = parseGatewayConfig({
    KLAGG_WORKERS: "w0=127.0.0.1:1",
    KLAGG_SYMBOLS: SYMBOLS.join(","),
    KLAGG_INTERVALS: IVS.join(","),
  });
  const puller = new Scripted(raw, refList);
  const pub = new Keep();
  const { metrics, registry } = testMetrics();
  const gw = new Gateway(config, {
    workers: [{ endpoint: config.workers[0]!, puller }],
    publishers: [pub],
    log: captureLog().log,
    metrics,
    now: () => T0,
  });
  return { gw, puller, pub, registry };
}

test("snapshots built from raw kline bytes, with right, wrong or no symbol refs, are byte-identical to the object path's and decode to the newest klines", async () => {
  const a = gateway(false);
  const b = gateway(true);
  // The worker's list (sent on its full answer) is SYMBOLS: refs into it are right, refs into a rotated
  // copy name the wrong symbol for every kline and must be caught.
  const withRefs = [gateway(true, SYMBOLS), gateway(true, [...SYMBOLS.slice(2), ...SYMBOLS.slice(0, 2)])];
  let x = 7;
  const rnd = (m: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x % m;
  };
  const newest = new Map<string, FakeKline>();
  let version = 1;
  for (let tick = 0; tick < 30; tick++) {
    const klines: FakeKline[] = [];
    for (let i = 0; i < 6; i++) {
      const sym = SYMBOLS[rnd(SYMBOLS.length)]!;
      const iv = IVS[rnd(IVS.length)]!;
      // Mostly the current period, sometimes a later one (the slot moves on) or an older one (a late close).
      const open = T0 + (rnd(4) === 0 ? tick + 1 : tick) * 60_000 - (rnd(6) === 0 ? 60_000 : 0);
      const k = makeKline(sym, iv, open, `${rnd(1000)}.${rnd(100)}`, ++version);
      k.closed = rnd(5) === 0;
      klines.push(k);
      const key = `${sym}|${iv}`;
      const cur = newest.get(key);
      if (cur === undefined || k.openTime >= cur.openTime) newest.set(key, k);
    }
    const answer: PullResult = {
      worker: "w0",
      epoch: 1,
      version,
      full: tick === 0,
      sourceDone: false,
      symbols: tick === 0 ? SYMBOLS : [],
      klines,
    };
    const sa = await runTick(a, answer);
    for (const [i, g] of [b, ...withRefs].entries()) {
      const sb = await runTick(g, answer);
      assert.deepEqual(
        new Uint8Array(sb.bytes),
        new Uint8Array(sa.bytes),
        `snapshot of tick ${tick}, rig ${i}`,
      );
      assert.deepEqual(sb.updateBytes, sa.updateBytes, `update of tick ${tick}, rig ${i}`);
    }
  }
  const decoded = fromBinary(SnapshotSchema, b.pub.snaps.at(-1)!.bytes);
  assert.deepEqual(decoded, fromBinary(SnapshotSchema, a.pub.snaps.at(-1)!.bytes));
  const got = decoded.klines.map((k) => `${k.symbol}|${k.interval}|${k.openTime}|${k.close}|${k.closed}`);
  const want = SYMBOLS.flatMap((s) => IVS.map((iv) => newest.get(`${s}|${iv}`)))
    .filter((k) => k !== undefined)
    .map((k) => `${k.symbol}|${k.interval}|${k.openTime}|${k.close}|${k.closed}`);
  assert.deepEqual(got, want);
  const misses = (g: (typeof withRefs)[number]) =>
    metricValue(g.registry, "klagg_gateway_symbol_ref_misses_total", { worker: "w0" });
  assert.equal(await misses(withRefs[0]!), undefined, "right refs are never missed");
  assert.equal(await misses(withRefs[1]!), 30 * 6, "every kline's wrong ref is counted");
});

async function runTick(g: ReturnType<typeof gateway>, answer: PullResult): Promise<GatewaySnapshot> {
  g.puller.next = answer;
  await g.gw.tickOnce();
  return g.pub.snaps.at(-1)!;
}

test("byte keys are found by content, and absent, prefix or longer keys are not", () => {
  const keys = Array.from({ length: 3000 }, (_, i) => `K${i}USDT`).concat(["币安人生USDT", ""]);
  const idx = new ByteKeyIndex(keys);
  const enc = new TextEncoder();
  keys.forEach((k, i) => {
    const b = enc.encode(`xx${k}yy`);
    assert.equal(idx.get(b, 2, b.length - 4), i, k);
  });
  const b = enc.encode("K12USDTX");
  assert.equal(idx.get(b, 0, 7), keys.indexOf("K12USDT"));
  assert.equal(idx.get(b, 0, 8), -1, "longer");
  assert.equal(idx.get(b, 0, 6), -1, "prefix");
  assert.equal(idx.get(enc.encode("ZZZ"), 0, 3), -1, "absent");
});
