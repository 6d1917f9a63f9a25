import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { lineParser, parseCaptureLine } from "./capture.js";
import { REPLAY_TIME_BOUNDS } from "./validate.js";

const B = REPLAY_TIME_BOUNDS;
const MSG =
  '{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}}';

describe("capture lines", () => {
  it("parses `<ns> <json>` by the trade time, not the local receive time", () => {
    const r = parseCaptureLine(`1723161254087896568 ${MSG}`, B);
    assert.equal(r.kind === "trade" && r.trade.time, 1723161255342);
  });

  it("rejects a line without the receive-time prefix as malformed", () => {
    for (const l of [MSG, "abc {}", " 1 {}"]) {
      const r = parseCaptureLine(l, B);
      assert.equal(r.kind === "reject" && r.reason, "malformed_line", l);
    }
  });

  it("builds per-format parsers and requires a symbol for dump CSVs", () => {
    assert.equal(lineParser("jsonl", undefined, B)(MSG).kind, "trade");
    const csv = lineParser("aggtrades-csv", "BTCUSDT", B)("1,10.5,1.0,7,9,1778198400020,true");
    assert.equal(csv.kind === "trade" && csv.trade.symbol, "BTCUSDT");
    assert.throws(() => lineParser("trades-csv", undefined, B)("1,2,3,4,5,true"), /needs its symbol/);
  });
});
