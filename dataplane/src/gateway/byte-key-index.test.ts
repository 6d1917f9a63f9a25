import { test } from "node:test";
import assert from "node:assert/strict";
import { INTERVALS } from "../core/types.js";
import { ByteKeyIndex } from "./byte-key-index.js";

const enc = new TextEncoder();

test("short keys (the intervals) are found by their packed bytes, and absent, prefix or longer keys are not", () => {
  const keys = [...INTERVALS, "", "é"];
  const idx = new ByteKeyIndex(keys);
  keys.forEach((k, i) => {
    const b = enc.encode(`xx${k}yy`);
    assert.equal(idx.get(b, 2, b.length - 4), i, k);
  });
  const b = enc.encode("15mX");
  assert.equal(idx.get(b, 0, 3), keys.indexOf("15m"));
  assert.equal(idx.get(b, 0, 4), -1, "longer");
  assert.equal(idx.get(b, 0, 2), -1, "prefix of 15m that is not a key");
  assert.equal(idx.get(enc.encode("1y"), 0, 2), -1, "absent");
  assert.equal(idx.get(enc.encode("1M"), 0, 2), keys.indexOf("1M"), "case matters");
});
