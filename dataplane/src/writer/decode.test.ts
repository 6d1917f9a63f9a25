import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeKlineMessage } from "./decode.js";
import { batchBytes, kline } from "./test-fixtures.js";

test("a batch decodes into one row per kline with its sequence number", () => {
  const r = decodeKlineMessage(batchBytes([kline({ interval: "1m" }), kline({ interval: "5m" })], 42));
  assert.ok(r.ok);
  assert.equal(r.rows.length, 2);
  assert.equal(r.seq, 42);
  assert.equal(r.aggregator, "test");
});

test("an empty or missing value is rejected as empty_value", () => {
  for (const v of [null, new Uint8Array()]) {
    const r = decodeKlineMessage(v);
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.reason, "empty_value");
  }
});

test("bytes that are not a KlineBatch are rejected as undecodable, never thrown", () => {
  const r = decodeKlineMessage(Buffer.from("this is not protobuf \xff\xff\xff\xff", "latin1"));
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.reason, "undecodable");
});

test("one invalid kline rejects the whole message with that kline's reason", () => {
  const r = decodeKlineMessage(batchBytes([kline(), kline({ high: "NaN" })]));
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.equal(r.reason, "bad_decimal");
    assert.match(r.detail, /NaN/);
  }
});
