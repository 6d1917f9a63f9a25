import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseBinanceMessage } from "./binance-message.js";
import { REPLAY_TIME_BOUNDS } from "./validate.js";

const B = REPLAY_TIME_BOUNDS;
const SPOT_TRADE =
  '{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}';
const USDM_TRADE =
  '{"e":"trade","E":1723161256322,"T":1723161256322,"s":"BTCUSDT","t":5266583935,"p":"61800.30","q":"0.006","X":"MARKET","m":false}';
const AGG =
  '{"e":"aggTrade","E":1723161256322,"s":"ETHUSDT","a":100,"p":"2600.10","q":"1.5","f":200,"l":204,"T":1723161256321,"m":false}';

function trade(data: string): { stream: string; data: unknown } {
  return { stream: "btcusdt@trade", data: JSON.parse(data) };
}

describe("parseBinanceMessage", () => {
  it("maps a combined-stream spot trade to a RawTrade with the exact decimal strings", () => {
    const r = parseBinanceMessage(JSON.stringify(trade(SPOT_TRADE)), B);
    assert.deepEqual(r, {
      kind: "trade",
      seq: 3735683259,
      trade: {
        symbol: "BTCUSDT",
        firstId: 3735683259,
        lastId: 3735683259,
        price: "61837.63000000",
        qty: "0.02000000",
        time: 1723161255342,
        buyerMaker: true,
      },
    });
  });

  it("accepts a raw (not combined) USD-M MARKET trade", () => {
    const r = parseBinanceMessage(USDM_TRADE, B);
    assert.equal(r.kind, "trade");
    if (r.kind === "trade") {
      assert.equal(r.trade.price, "61800.30");
      assert.equal(r.trade.buyerMaker, false);
    }
  });

  it("skips USD-M trades that are not MARKET but keeps their id for gap tracking", () => {
    for (const x of ["INSURANCE_FUND", "ADL", "NA"]) {
      const r = parseBinanceMessage(USDM_TRADE.replace('"MARKET"', `"${x}"`), B);
      assert.deepEqual(r, { kind: "skip", symbol: "BTCUSDT", seq: 5266583935, why: `order type X=${x}` });
    }
  });

  it("maps an aggTrade to its trade id range and uses the aggregate id as sequence", () => {
    const r = parseBinanceMessage(JSON.stringify({ stream: "ethusdt@aggTrade", data: JSON.parse(AGG) }), B);
    assert.equal(r.kind, "trade");
    if (r.kind === "trade") {
      assert.equal(r.seq, 100);
      assert.equal(r.trade.firstId, 200);
      assert.equal(r.trade.lastId, 204);
    }
  });

  it("ignores depth, bookTicker, snapshots, subscription replies and arrays", () => {
    const msgs = [
      '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]}}',
      '{"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":"1","B":"1","a":"1","A":"1"}}',
      '{"lastUpdateId":1,"bids":[],"asks":[]}',
      '{"result":null,"id":1}',
      "[]",
    ];
    for (const m of msgs) assert.deepEqual(parseBinanceMessage(m, B), { kind: "ignore" }, m);
  });

  it("ignores non-trade streams by their name without parsing them, but parses trade streams", () => {
    assert.deepEqual(parseBinanceMessage('{"stream":"btcusdt@depth@100ms","data":{broken', B), {
      kind: "ignore",
    });
    assert.equal(reason('{"stream":"btcusdt@trade","data":{broken'), "malformed_json");
    assert.equal(reason('{"stream":"btcusdt@aggTrade","data":{broken'), "malformed_json");
  });

  it("rejects malformed JSON and non-object messages", () => {
    assert.equal(reason('{"e":"trade",'), "malformed_json");
    assert.equal(reason("42"), "malformed_json");
    assert.equal(reason('{"stream":"btcusdt@trade","data":7}'), "malformed_json");
  });

  it("rejects each bad field with its own reason", () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ p: "NaN" }, "bad_price"],
      [{ p: "" }, "bad_price"],
      [{ p: "garbage" }, "bad_price"],
      [{ p: 61837.63 }, "bad_price"],
      [{ q: "-0.1" }, "non_positive_quantity"],
      [{ q: "0.00000000" }, "non_positive_quantity"],
      [{ q: "x" }, "bad_quantity"],
      [{ T: 1000 }, "absurd_timestamp"],
      [{ T: Date.UTC(2101, 0, 1) }, "absurd_timestamp"],
      [{ T: "soon" }, "malformed_json"],
      [{ t: -5 }, "malformed_json"],
      [{ s: 7 }, "malformed_json"],
      [{ s: "btc usdt" }, "malformed_json"],
      [{ m: "yes" }, "malformed_json"],
    ];
    for (const [patch, want] of cases) {
      const msg = JSON.stringify({ ...JSON.parse(SPOT_TRADE), ...patch });
      assert.equal(reason(msg), want, JSON.stringify(patch));
    }
  });

  it("rejects an aggTrade whose last id is below its first id", () => {
    assert.equal(reason(AGG.replace('"l":204', '"l":199')), "malformed_json");
  });

  it("converts microsecond trade times to milliseconds", () => {
    const r = parseBinanceMessage(SPOT_TRADE.replace('"T":1723161255342', '"T":1723161255342999'), B);
    assert.equal(r.kind === "trade" && r.trade.time, 1723161255342);
  });
});

function reason(text: string): string {
  const r = parseBinanceMessage(text, B);
  return r.kind === "reject" ? r.reason : r.kind;
}
