import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger } from "../obs/log.js";
import { captureLog, CollectingSink } from "../../test/support/collecting-sink.js";
import { clip, Rejecter } from "./reject.js";

describe("Rejecter", () => {
  it("passes every rejection to the sink and counts it, but logs each reason at most once per window", () => {
    const log = captureLog();
    let now = 0;
    const r = new Rejecter(createLogger("t", { sink: log.sink }), "replay", 1000, () => now);
    const sink = new CollectingSink();
    r.reject(sink, "bad_price", "a");
    r.reject(sink, "bad_price", "b");
    r.reject(sink, "malformed_json", "c");
    now = 1500;
    r.reject(sink, "bad_price", "d");
    assert.deepEqual(sink.reasons(), ["bad_price", "bad_price", "malformed_json", "bad_price"]);
    assert.deepEqual(r.stats(), { bad_price: 3, malformed_json: 1 });
    assert.equal(r.total(), 4);
    assert.deepEqual(
      log.lines.map((l) => [l.reason, l.detail, l.suppressed_since_last, l.source]),
      [
        ["bad_price", "a", 0, "replay"],
        ["malformed_json", "c", 0, "replay"],
        ["bad_price", "d", 1, "replay"],
      ],
    );
  });

  it("clips long details so a huge bad line never reaches the log whole", () => {
    const sink = new CollectingSink();
    new Rejecter(createLogger("t", { sink: () => {} }), "x").reject(
      sink,
      "malformed_line",
      "z".repeat(10_000),
    );
    assert.ok((sink.rejects[0]?.detail.length ?? 0) < 300);
    assert.equal(clip("short"), "short");
  });
});
