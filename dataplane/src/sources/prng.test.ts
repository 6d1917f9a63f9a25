import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Prng } from "./prng.js";

describe("Prng", () => {
  it("repeats the same sequence for the same seed and differs across seeds", () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const c = new Prng(43);
    const sa = Array.from({ length: 8 }, () => a.u32());
    assert.deepEqual(
      sa,
      Array.from({ length: 8 }, () => b.u32()),
    );
    assert.notDeepEqual(
      sa,
      Array.from({ length: 8 }, () => c.u32()),
    );
  });

  it("draws floats in [0, 1) and integers within bounds, roughly uniformly", () => {
    const p = new Prng(1);
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const x = p.next();
      assert.ok(x >= 0 && x < 1);
      const k = p.int(0, 9);
      buckets[k] = (buckets[k] ?? 0) + 1;
    }
    for (const n of buckets) assert.ok(n > 9_000 && n < 11_000, `bucket ${n}`);
  });

  it("draws normal variates with mean near 0 and variance near 1", () => {
    const p = new Prng(7);
    let s = 0;
    let s2 = 0;
    const n = 50_000;
    for (let i = 0; i < n; i++) {
      const x = p.normal();
      s += x;
      s2 += x * x;
    }
    assert.ok(Math.abs(s / n) < 0.03);
    assert.ok(Math.abs(s2 / n - 1) < 0.05);
  });
});
