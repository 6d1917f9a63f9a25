import { test } from "node:test";
import assert from "node:assert/strict";
import { GlobalState, StateLayout } from "./global-state.js";
import { SnapshotBuilder } from "./snapshot-builder.js";
import { makeKline } from "./fakes.test-helper.js";
import { canonical, referenceSnapshot } from "./snapshot-reference.test-helper.js";
import type { GatewaySnapshot, SnapshotLease } from "./ports.js";
import { PADDING_TAG, varintLen } from "./snapshot-slots.js";

const T0 = 1_700_000_040_000;
const FORWARD = new Uint8Array([1]);

/** A state and builder over `symbols` x `ivs`, with `headroom` spare bytes per kline. */
function setup(symbols: string[], ivs: string[], headroom: number) {
  const st = new GlobalState(new StateLayout(symbols, ivs as never));
  const b = new SnapshotBuilder(st, "t", 5, headroom);
  let seq = 0;
  let version = 0;
  return {
    st,
    b,
    set(sym: string, iv: string, close: string): void {
      st.apply(makeKline(sym, iv, T0, close, ++version), 0, 0);
    },
    /** Builds the next tick and checks it decodes (protobuf-es) to exactly the state's klines. */
    tick(): GatewaySnapshot {
      const snap = b.build(++seq, T0 + seq, [], 0, FORWARD).snapshot;
      assert.deepEqual(canonical(snap.bytes), referenceSnapshot(st, seq, T0 + seq, 5), `tick ${seq}`);
      st.endTick();
      return snap;
    },
  };
}

/** The length-delimited top-level fields of a Snapshot: field number, length-prefix bytes, length. */
function fields(bytes: Uint8Array): { field: number; prefix: number; len: number }[] {
  const out: { field: number; prefix: number; len: number }[] = [];
  let p = 0;
  const varint = (): number => {
    let v = 0;
    let shift = 0;
    let b: number;
    do {
      b = bytes[p++]!;
      v += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return v;
  };
  while (p < bytes.length) {
    const tag = varint();
    if ((tag & 7) === 0) {
      varint();
      continue;
    }
    const at = p;
    const len = varint();
    out.push({ field: tag >> 3, prefix: p - at, len });
    p += len;
  }
  return out;
}

test("a kline that outgrows its sub-range is rewritten with its group when the group has room, else the layout grows once", () => {
  const g = setup(["A", "B"], ["1m", "1h"], 4);
  for (const s of ["A", "B"]) for (const iv of ["1m", "1h"]) g.set(s, iv, "1.0");
  const first = g.tick();
  const size = first.bytes.length;
  // 2 bytes longer: within its own 4 spare bytes.
  g.set("A", "1m", "1.000");
  assert.equal(g.tick().bytes.length, size);
  assert.deepEqual([g.b.relayouts, g.b.regroups], [1, 0], "written in place in its sub-range");
  // 3 more: past its own spare bytes (2 left), within its group's (2 + 4).
  g.set("A", "1m", "1.000000");
  assert.equal(g.tick().bytes.length, size);
  assert.deepEqual([g.b.relayouts, g.b.regroups], [1, 1], "its group was rewritten, nothing else moved");
  // Its neighbour now has a share of the group's spare bytes, not its own 4: a small growth still fits.
  g.set("A", "1h", "1.00");
  g.tick();
  assert.equal(g.b.relayouts, 1);
  // Far past the group's spare bytes: one relayout, the snapshot grows.
  g.set("A", "1m", "1.0000000000000000000000");
  const grown = g.tick();
  assert.equal(g.b.relayouts, 2);
  assert.ok(grown.bytes.length > size);
  // The other symbol's klines moved with the relayout and are still intact.
  g.set("B", "1h", "2.0");
  g.tick();
  assert.equal(g.b.relayouts, 2);
});

test("an empty slot that fills takes its group's spare bytes, and an empty group that fills causes a relayout", () => {
  const g = setup(["A", "B"], ["1m", "1h"], 120);
  g.set("A", "1m", "1.0");
  const first = g.tick();
  assert.equal(fields(first.bytes).filter((f) => f.field === 4).length, 1);
  g.set("A", "1h", "2.0");
  const second = g.tick();
  assert.equal(second.bytes.length, first.bytes.length, "filled within group A's capacity");
  assert.deepEqual([g.b.relayouts, g.b.regroups], [1, 1]);
  g.set("B", "1h", "3.0");
  g.tick();
  assert.equal(g.b.relayouts, 2, "group B had no bytes yet");
  g.set("B", "1m", "4.0");
  g.set("A", "1m", "5.0");
  g.tick();
  assert.equal(g.b.relayouts, 2);
});

test("while a reader holds the newest snapshot, the one before is caught up with the ranges the previous tick wrote", () => {
  const ivs = ["1s", "1m", "1h"];
  const g = setup(["A", "B", "C"], ivs, 8);
  for (const s of ["A", "B", "C"]) for (const iv of ivs) g.set(s, iv, "1.0");
  g.tick();
  g.set("A", "1m", "1.1");
  g.tick();
  let held: { lease: SnapshotLease; snap: GatewaySnapshot; copy: Buffer } | undefined;
  // Each tick: one kline in place (B 1s) and one more that sometimes outgrows its sub-range (8 spare bytes:
  // "1.23456789012" rewrites its group within the group's 24, the longest one outgrows the group).
  const changes: [string, string, string][] = [
    ["A", "1s", "1.2"],
    ["B", "1m", "1.23"],
    ["C", "1h", "1.234"],
    ["A", "1s", "1.2"],
    ["B", "1m", "1.23456789012"],
    ["C", "1h", "1.2345678901234567890123456789"],
    ["A", "1m", "1.0"],
    ["B", "1h", "7.5"],
    ["C", "1s", "7.55"],
  ];
  changes.forEach(([sym, iv, close], i) => {
    g.set(sym, iv, close);
    g.set("B", "1s", `${i}.5`);
    const snap = g.tick();
    if (held !== undefined) {
      assert.deepEqual(Buffer.from(held.snap.bytes), held.copy, "a held snapshot is never written");
      held.lease.release();
    }
    held = { lease: snap.retain(), snap, copy: Buffer.from(snap.bytes) };
  });
  assert.equal(g.b.regroups, 1, "a group rewrite was caught up too");
  assert.equal(g.b.relayouts, 2, "the longest close outgrew its group once");
  // The first held tick and the one after the relayout (other layout) have no double buffer to catch up.
  assert.equal(g.b.fullCopies, 2);
});

test("a sub-range with exactly 1 spare byte has a one byte longer length prefix, with 2 an empty padding field", () => {
  const g = setup(["A"], ["1m", "1h"], 1);
  g.set("A", "1m", "1.0");
  g.set("A", "1h", "2.0");
  const first = g.tick();
  const klines = fields(first.bytes).filter((f) => f.field === 4);
  assert.equal(klines.length, 2);
  for (const k of klines) assert.equal(k.prefix, varintLen(k.len) + 1, "1 spare byte: prefix widened");
  // One byte shorter: 2 spare bytes, a padding field with an empty value.
  g.set("A", "1m", "1.");
  const second = g.tick();
  assert.equal(second.bytes.length, first.bytes.length);
  const f = fields(second.bytes);
  const pad = f.findIndex((x) => x.field === PADDING_TAG >> 3 && x.len === 0);
  assert.ok(pad > 0 && f[pad - 1]!.field === 4, "an empty padding field right after the first kline");
  assert.equal(f[pad - 1]!.prefix, varintLen(f[pad - 1]!.len), "its prefix is minimal again");
  // Back to its first length: 1 spare byte again.
  g.set("A", "1m", "1.5");
  const third = g.tick();
  assert.equal(fields(third.bytes).filter((x) => x.field === 4 && x.prefix > varintLen(x.len)).length, 2);
  assert.deepEqual([g.b.relayouts, g.b.regroups, g.b.inPlace], [1, 0, 2]);
});

test("klines of every length around the one-byte length prefix limit decode equal to protobuf-es in any sub-range", () => {
  const g = setup(["A", "B"], ["1m", "1h", "1d"], 3);
  // Bodies from ~100 to ~160 bytes, crossing 127/128 (one- and two-byte prefixes), growing and shrinking.
  for (let n = 0; n < 60; n++) {
    g.set(n % 2 === 0 ? "A" : "B", ["1m", "1h", "1d"][n % 3]!, "9".repeat(1 + ((n * 7) % 60)));
    g.tick();
  }
  assert.ok(g.b.regroups > 0 && g.b.relayouts > 1, "both rewrites happened");
});
