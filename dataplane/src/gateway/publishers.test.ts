import { test } from "node:test";
import assert from "node:assert/strict";
import type { Snapshot, SnapshotUpdate } from "../gen/klagg/v1/snapshot_pb.js";
import { CoalescingPublisher } from "./coalescing-publisher.js";
import { GlobalState, StateLayout } from "./global-state.js";
import { InProcessPublisher } from "./in-process-publisher.js";
import type { GatewaySnapshot } from "./ports.js";
import { SnapshotBuilder } from "./snapshot-builder.js";
import { captureLog, makeKline } from "./fakes.test-helper.js";

/** Real snapshots from the builder, one per call. */
function snapshots() {
  const st = new GlobalState(new StateLayout(["AAA"], ["1m"]));
  const b = new SnapshotBuilder(st, "agg", 9);
  let seq = 0;
  return (): GatewaySnapshot => {
    seq++;
    st.apply(makeKline("AAA", "1m", 1_700_000_040_000, `${seq}.0`, seq), 0, 0);
    const s = b.build(seq, seq, [], 0, new Uint8Array([1])).snapshot;
    st.endTick();
    return s;
  };
}

class GatedPublisher extends CoalescingPublisher {
  readonly name = "gated";
  readonly delivered: number[] = [];
  readonly failed: number[] = [];
  fail = false;
  private gate: (() => void) | undefined;
  hold = false;

  protected async deliver(snap: GatewaySnapshot): Promise<void> {
    if (this.hold) await new Promise<void>((r) => (this.gate = r));
    if (this.fail) throw new Error("down");
    this.delivered.push(snap.seq);
  }
  protected onFailure(_err: unknown, snap: GatewaySnapshot): void {
    this.failed.push(snap.seq);
  }
  open(): void {
    this.hold = false;
    this.gate?.();
  }
}

test("a busy publisher keeps only the newest snapshot waiting and skips the ones in between", async () => {
  const next = snapshots();
  const p = new GatedPublisher();
  p.hold = true;
  for (let i = 0; i < 5; i++) p.publish(next(), "");
  p.open();
  await p.stop(200);
  assert.deepEqual(p.delivered, [1, 5]);
  assert.equal(p.skipped, 3);
});

test("after failures republishLatest delivers the newest snapshot once, and never an older one", async () => {
  const next = snapshots();
  const p = new GatedPublisher();
  p.fail = true;
  p.publish(next(), "");
  p.publish(next(), "");
  await new Promise((r) => setImmediate(r));
  assert.ok(p.failed.length >= 1);
  p.fail = false;
  p.republishLatest();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(p.delivered, [2]);
  p.republishLatest();
  await p.stop(100);
  assert.deepEqual(p.delivered, [2], "an already delivered snapshot is not sent again");
});

test("stop waits at most its bound for a hung delivery", async () => {
  const next = snapshots();
  const p = new GatedPublisher();
  p.hold = true;
  p.publish(next(), "");
  const t = performance.now();
  await p.stop(50);
  assert.ok(performance.now() - t < 300);
});

test("the in-process publisher hands decoded snapshot and update to its sink, off the tick", async () => {
  const next = snapshots();
  const got: [Snapshot, SnapshotUpdate][] = [];
  const { log } = captureLog();
  const p = new InProcessPublisher({ publish: (s, u) => void got.push([s, u]) }, log);
  p.publish(next(), "");
  assert.equal(got.length, 0, "nothing runs inside publish()");
  await p.stop(200);
  assert.equal(got.length, 1);
  assert.equal(got[0]![0].seq, 1n);
  assert.equal(got[0]![0].klines[0]!.close, "1.0");
  assert.equal(got[0]![1].klines.length, 1);
});

test("a failing in-process sink is logged and does not stop later deliveries", async () => {
  const next = snapshots();
  const { log, lines } = captureLog();
  let calls = 0;
  const p = new InProcessPublisher(
    {
      publish: () => {
        if (++calls === 1) throw new Error("sink broke");
      },
    },
    log,
  );
  p.publish(next(), "");
  await new Promise((r) => setTimeout(r, 5));
  p.publish(next(), "");
  await p.stop(200);
  assert.equal(calls, 2);
  assert.ok(lines.some((l) => l.level === "error" && l.seq === 1));
});
