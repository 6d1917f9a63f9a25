import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, ConfigReader, freeze } from "./parse.js";

test("values parse with defaults and errors name the key and the bad value", () => {
  const r = new ConfigReader({ A: "12", B: "2s", C: "x,y, ,z", D: "yes", E: "abc" });
  assert.equal(r.int("A", 0), 12);
  assert.equal(r.durationMs("B", 0), 2000);
  assert.deepEqual(r.list("C", []), ["x", "y", "z"]);
  assert.equal(r.bool("D", false), true);
  assert.equal(r.int("MISSING", 7), 7);
  assert.throws(
    () => r.int("E", 1),
    (e: unknown) => e instanceof ConfigError && /E="abc"/.test(e.message),
  );
  assert.throws(() => r.durationMs("E", 1), /invalid config E="abc": must be a duration/);
  assert.throws(() => r.oneOf("E", ["p", "q"], "p"), /must be one of p, q/);
  assert.throws(() => r.string("NOPE"), /NOPE="": is required/);
});

test("freeze makes parsed config deeply read-only", () => {
  const cfg = freeze({ a: { b: [1, 2] } });
  assert.throws(() => {
    (cfg.a.b as number[]).push(3);
  }, TypeError);
});
