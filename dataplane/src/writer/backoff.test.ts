import { test } from "node:test";
import assert from "node:assert/strict";
import { backoffDelay } from "./backoff.js";

const policy = { baseMs: 100, capMs: 5_000 };

test("the delay doubles per attempt, between half and all of the exponential step", () => {
  assert.equal(
    backoffDelay(0, policy, () => 0),
    50,
  );
  assert.equal(
    backoffDelay(0, policy, () => 1),
    100,
  );
  assert.equal(
    backoffDelay(3, policy, () => 0),
    400,
  );
  assert.equal(
    backoffDelay(3, policy, () => 1),
    800,
  );
  assert.equal(
    backoffDelay(3, policy, () => 0.5),
    600,
  );
});

test("the delay never exceeds the cap, even after very many attempts", () => {
  for (const attempt of [6, 7, 20, 1000]) {
    assert.equal(
      backoffDelay(attempt, policy, () => 1),
      5_000,
    );
    assert.equal(
      backoffDelay(attempt, policy, () => 0),
      2_500,
    );
  }
});

test("a random source outside [0, 1] is clamped", () => {
  assert.equal(
    backoffDelay(0, policy, () => 7),
    100,
  );
  assert.equal(
    backoffDelay(0, policy, () => -3),
    50,
  );
});
