import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger, RateLimitedLog } from "./log.js";

test("log lines are JSON with level, component, message and fields", () => {
  const lines: string[] = [];
  const log = createLogger("worker", { sink: (l) => lines.push(l), now: () => 0, level: "info" });
  log.debug("hidden");
  log.child({ worker: "w0" }).error("pull failed", { cause: new Error("boom") });
  assert.equal(lines.length, 1);
  assert.deepEqual(JSON.parse(lines[0]!), {
    time: "1970-01-01T00:00:00.000Z",
    level: "error",
    component: "worker",
    msg: "pull failed",
    worker: "w0",
    cause: { name: "Error", message: "boom" },
  });
});

test("the rate-limited log prints one line per reason per window and reports what it suppressed", () => {
  const lines: string[] = [];
  let t = 0;
  const rl = new RateLimitedLog(createLogger("src", { sink: (l) => lines.push(l) }), 1000, () => t);
  for (let i = 0; i < 5; i++) rl.warn("nan_price", "rejected trade");
  rl.warn("bad_json", "rejected line");
  t = 1500;
  rl.warn("nan_price", "rejected trade");
  const recs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    recs.map((r) => [r.reason, r.suppressed_since_last]),
    [
      ["nan_price", 0],
      ["bad_json", 0],
      ["nan_price", 4],
    ],
  );
});
