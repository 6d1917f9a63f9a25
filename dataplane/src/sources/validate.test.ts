import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkPrice,
  checkQty,
  liveTimeBounds,
  MIN_TRADE_TIME_MS,
  REPLAY_TIME_BOUNDS,
  timeOk,
  toBool,
  toId,
  toMillis,
} from "./validate.js";

describe("validate", () => {
  it("accepts positive decimal prices and rejects garbage, zero, negative and exponent forms", () => {
    assert.equal(checkPrice("61837.63000000"), undefined);
    assert.equal(checkPrice("7"), undefined);
    for (const bad of [
      "",
      "NaN",
      "abc",
      "0",
      "0.000",
      "-1",
      "1e5",
      "1.",
      ".5",
      " 1",
      61837.63,
      null,
      undefined,
    ]) {
      assert.equal(checkPrice(bad), "bad_price", String(bad));
    }
  });

  it("separates non-positive quantities from unparsable ones", () => {
    assert.equal(checkQty("0.02000000"), undefined);
    assert.equal(checkQty("0"), "non_positive_quantity");
    assert.equal(checkQty("0.00000000"), "non_positive_quantity");
    assert.equal(checkQty("-0.5"), "non_positive_quantity");
    assert.equal(checkQty("NaN"), "bad_quantity");
    assert.equal(checkQty(""), "bad_quantity");
    assert.equal(checkQty(0.5), "bad_quantity");
  });

  it("parses ids from numbers and digit strings only when they are safe non-negative integers", () => {
    assert.equal(toId(3735683259), 3735683259);
    assert.equal(toId("3735683259"), 3735683259);
    assert.equal(toId(-1), undefined);
    assert.equal(toId(1.5), undefined);
    assert.equal(toId("12a"), undefined);
    assert.equal(toId("99999999999999999"), undefined);
    assert.equal(toId(undefined), undefined);
  });

  it("floors microsecond timestamps to their millisecond and leaves milliseconds alone", () => {
    assert.equal(toMillis(1767225600039409), 1767225600039);
    assert.equal(toMillis(1767225600039999), 1767225600039);
    assert.equal(toMillis(1767225600039000), 1767225600039);
    assert.equal(toMillis(1723161255342), 1723161255342);
  });

  it("bounds replays to 2017..2100 and live feeds to one day past now", () => {
    assert.equal(timeOk(MIN_TRADE_TIME_MS - 1, REPLAY_TIME_BOUNDS), false);
    assert.equal(timeOk(MIN_TRADE_TIME_MS, REPLAY_TIME_BOUNDS), true);
    assert.equal(timeOk(Date.UTC(2100, 0, 1) + 1, REPLAY_TIME_BOUNDS), false);
    const now = Date.UTC(2024, 7, 8);
    assert.equal(timeOk(now + 86_400_000, liveTimeBounds(now)), true);
    assert.equal(timeOk(now + 86_400_001, liveTimeBounds(now)), false);
  });

  it("reads both spellings of CSV booleans and nothing else", () => {
    assert.equal(toBool("True"), true);
    assert.equal(toBool("true"), true);
    assert.equal(toBool("False"), false);
    assert.equal(toBool("false"), false);
    assert.equal(toBool("1"), undefined);
    assert.equal(toBool(undefined), undefined);
  });
});
