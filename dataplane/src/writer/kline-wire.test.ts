import { test } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { KlineBatchSchema } from "../gen/klagg/v1/kline_pb.js";
import { decodeKlineMessage } from "./decode.js";
import { toRow, type KlineRow } from "./row.js";
import { batchBytes, kline, type KlineSpec } from "./test-fixtures.js";

/** The reference: protobuf-es decoding, then toRow on each kline. */
function reference(value: Uint8Array): { ok: true; rows: KlineRow[] } | { ok: false; reason: string } {
  const batch = fromBinary(KlineBatchSchema, value);
  const rows: KlineRow[] = [];
  for (const k of batch.klines) {
    const r = toRow(k);
    if (!r.ok) return { ok: false, reason: r.reason };
    rows.push(r.row);
  }
  return { ok: true, rows };
}

function plain(r: KlineRow): object {
  return { key: r.key, version: r.version, tsv: r.tsv, closedAt: r.closedAt };
}

/** A deterministic pseudo-random generator (tests must not depend on Math.random). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 4_294_967_296;
  };
}

const DECIMALS = [
  "0",
  "1.5",
  "61837.63000000",
  "1234567890123456789012.1234567890123456",
  "0.0000000000000001",
];
const BAD_DECIMALS = ["", "1.", "-1", "1e5", "NaN", "12345678901234567890123", "1.12345678901234567"];
const INTERVALS = ["1s", "1m", "3m", "1h", "1d", "1w", "1M", "2m", ""];
const SYMBOLS = ["BTCUSDT", "1000PEPEUSDT", "BTC-PERP", "A", "btcusdt", "", "X".repeat(64), "X".repeat(65)];
const INTS = [0, 1, -1, -2, 999, 1_723_161_300_000, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER, 4_294_967_295_000];

function randomSpec(next: () => number, validOnly: boolean): KlineSpec {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const dec = () => (validOnly || next() < 0.9 ? pick(DECIMALS) : pick(BAD_DECIMALS));
  const openTime =
    validOnly || next() < 0.8 ? 1_723_161_000_000 + Math.floor(next() * 1e6) * 1000 : pick(INTS);
  return {
    symbol: validOnly ? pick(SYMBOLS.slice(0, 4)) : pick(SYMBOLS),
    interval: validOnly ? pick(INTERVALS.slice(0, 7)) : pick(INTERVALS),
    openTime,
    closeTime: validOnly || next() < 0.8 ? openTime + 59_999 : pick(INTS),
    open: dec(),
    high: dec(),
    low: dec(),
    close: dec(),
    volume: dec(),
    quoteVolume: dec(),
    trades: validOnly || next() < 0.8 ? Math.floor(next() * 1e6) : pick(INTS),
    takerBuyVolume: dec(),
    takerBuyQuoteVolume: dec(),
    firstTradeId: next() < 0.3 ? -1 : validOnly ? Math.floor(next() * 2 ** 40) : pick(INTS),
    lastTradeId: next() < 0.3 ? -1 : Math.floor(next() * 2 ** 52),
    closed: next() < 0.5,
    version: validOnly || next() < 0.9 ? Math.floor(next() * 2 ** 53) : 0,
  };
}

test("the wire decoder yields exactly the rows of protobuf-es plus toRow on random valid batches", () => {
  const next = rng(1);
  for (let i = 0; i < 300; i++) {
    const specs = Array.from({ length: 1 + Math.floor(next() * 20) }, () => randomSpec(next, true));
    const value = batchBytes(
      specs.map((s) => kline(s)),
      i,
    );
    const got = decodeKlineMessage(value);
    const want = reference(value);
    assert.ok(got.ok && want.ok);
    assert.equal(got.seq, i);
    assert.deepEqual(got.rows.map(plain), want.rows.map(plain));
  }
});

test("the wire decoder accepts and rejects exactly what toRow does, with the same reason", () => {
  const next = rng(2);
  let rejected = 0;
  for (let i = 0; i < 2000; i++) {
    const value = batchBytes([kline(randomSpec(next, false))]);
    const got = decodeKlineMessage(value);
    const want = reference(value);
    assert.equal(got.ok, want.ok, `case ${i}`);
    if (!got.ok && !want.ok) {
      assert.equal(got.reason, want.reason, `case ${i}: ${got.detail}`);
      rejected++;
    } else if (got.ok && want.ok) assert.deepEqual(got.rows.map(plain), want.rows.map(plain));
  }
  assert.ok(rejected > 200 && rejected < 1900, `both outcomes exercised (${rejected} rejected)`);
});

test("unknown fields are skipped and truncated messages are undecodable", () => {
  const value = batchBytes([kline({ version: 9 })]);
  // Field 99 (varint) and field 100 (length-delimited) appended to the batch: a newer producer's fields.
  const extended = Buffer.concat([
    Buffer.from(value),
    Buffer.from([0x98, 0x06, 0x05, 0xa2, 0x06, 0x02, 0x61, 0x62]),
  ]);
  const r = decodeKlineMessage(extended);
  assert.ok(r.ok);
  assert.equal(r.rows[0]?.version, 9);
  // Every truncation: where protobuf-es throws, the wire decoder says undecodable; where it does not (a cut
  // between fields), both agree on the rows.
  let undecodable = 0;
  for (let cut = 1; cut < value.length; cut++) {
    const part = value.subarray(0, cut);
    const t = decodeKlineMessage(part);
    let want: ReturnType<typeof reference> | undefined;
    try {
      want = reference(part);
    } catch {
      want = undefined;
    }
    if (want === undefined) {
      assert.equal(t.ok ? "ok" : t.reason, "undecodable", `cut at ${cut}`);
      undecodable++;
    } else {
      assert.equal(t.ok, want.ok, `cut at ${cut}`);
      if (t.ok && want.ok) assert.deepEqual(t.rows.map(plain), want.rows.map(plain));
    }
  }
  assert.ok(undecodable > value.length / 2);
});

test("a batch without klines decodes to no rows", () => {
  const value = toBinary(KlineBatchSchema, create(KlineBatchSchema, { aggregator: "a" }));
  const r = decodeKlineMessage(value.length === 0 ? new Uint8Array([0x0a, 0x01, 0x61]) : value);
  assert.ok(r.ok);
  assert.equal(r.rows.length, 0);
  assert.equal(r.aggregator, "a");
});
