import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseAggTradesRow, parseTradesRow } from "./csv-dump.js";
import { REPLAY_TIME_BOUNDS } from "./validate.js";

const B = REPLAY_TIME_BOUNDS;

describe("dump CSV rows", () => {
  it("parses a spot aggTrades row with a microsecond timestamp, floored to ms", () => {
    const r = parseAggTradesRow(
      "3800397495,87648.21000000,0.08185000,5723703861,5723703863,1767225600039409,True,True",
      "BTCUSDT",
      B,
    );
    assert.deepEqual(r, {
      kind: "trade",
      seq: 3800397495,
      trade: {
        symbol: "BTCUSDT",
        firstId: 5723703861,
        lastId: 5723703863,
        price: "87648.21000000",
        qty: "0.08185000",
        time: 1767225600039,
        buyerMaker: true,
      },
    });
  });

  it("parses a futures aggTrades row (7 columns, lower-case booleans, ms)", () => {
    const r = parseAggTradesRow(
      "480537903,79972.8,542.0,1123474160,1123474164,1778198400020,false",
      "BTCUSD_PERP",
      B,
    );
    assert.equal(r.kind, "trade");
    if (r.kind === "trade")
      assert.deepEqual([r.trade.time, r.trade.buyerMaker, r.trade.qty], [1778198400020, false, "542.0"]);
  });

  it("parses spot and futures trades rows", () => {
    const spot = parseTradesRow(
      "3735683259,61837.63000000,0.02000000,1236.75,1723161255342,True,True",
      "BTCUSDT",
      B,
    );
    const fut = parseTradesRow("5266583935,61800.30,0.006,370.8018,1723161256322,false", "BTCUSDT", B);
    assert.equal(spot.kind === "trade" && spot.trade.firstId, 3735683259);
    assert.equal(fut.kind === "trade" && fut.trade.lastId, 5266583935);
  });

  it("rejects rows with bad fields under their reasons", () => {
    const ok = "1,100.5,2.0,10,10,1778198400020,false";
    const cases: [string, string][] = [
      ["1,100.5,2.0,10,10,1778198400020", "malformed_line"],
      ["x,100.5,2.0,10,10,1778198400020,false", "malformed_line"],
      ["1,100.5,2.0,10,9,1778198400020,false", "malformed_line"],
      ["1,abc,2.0,10,10,1778198400020,false", "bad_price"],
      ["1,100.5,0,10,10,1778198400020,false", "non_positive_quantity"],
      ["1,100.5,-2,10,10,1778198400020,false", "non_positive_quantity"],
      ["1,100.5,,10,10,1778198400020,false", "bad_quantity"],
      ["1,100.5,2.0,10,10,100,false", "absurd_timestamp"],
      ["1,100.5,2.0,10,10,,false", "malformed_line"],
      ["1,100.5,2.0,10,10,1778198400020,maybe", "malformed_line"],
    ];
    assert.equal(parseAggTradesRow(ok, "X", B).kind, "trade");
    for (const [line, want] of cases) {
      const r = parseAggTradesRow(line, "X", B);
      assert.equal(r.kind === "reject" ? r.reason : r.kind, want, line);
    }
    const t = parseTradesRow("1,2,3", "X", B);
    assert.equal(t.kind === "reject" && t.reason, "malformed_line");
  });
});
