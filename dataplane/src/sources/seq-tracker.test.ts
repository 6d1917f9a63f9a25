import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SeqTracker } from "./seq-tracker.js";

describe("SeqTracker", () => {
  it("accepts the first id of a symbol and then contiguous ids", () => {
    const t = new SeqTracker();
    assert.equal(t.observe("BTCUSDT", 100), "next");
    assert.equal(t.observe("BTCUSDT", 101), "next");
    assert.equal(t.observe("ETHUSDT", 7), "next");
    assert.equal(t.lastSeen("BTCUSDT"), 101);
  });

  it("reports a gap with the number of missing ids and moves on", () => {
    const t = new SeqTracker();
    t.observe("BTCUSDT", 100);
    assert.deepEqual(t.observe("BTCUSDT", 105), {
      symbol: "BTCUSDT",
      afterSeq: 100,
      beforeSeq: 105,
      missing: 4,
    });
    assert.equal(t.observe("BTCUSDT", 106), "next");
  });

  it("flags ids at or below the last seen as duplicates without moving backwards", () => {
    const t = new SeqTracker();
    t.observe("BTCUSDT", 100);
    assert.equal(t.observe("BTCUSDT", 100), "duplicate");
    assert.equal(t.observe("BTCUSDT", 90), "duplicate");
    assert.equal(t.lastSeen("BTCUSDT"), 100);
  });
});
