import { test } from "node:test";
import assert from "node:assert/strict";
import { isSubset, isUpToDate, quantityValue, withSpecHash } from "./apply.js";
import { SPEC_HASH_ANNOTATION } from "../render/names.js";

const desired = withSpecHash({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "a", namespace: "n", labels: { x: "1" } },
  data: { k: "v" },
});

test("an object that the server stored with extra defaults and metadata is up to date", () => {
  const live = {
    ...desired,
    metadata: { ...desired.metadata, uid: "u", resourceVersion: "7", managedFields: [] },
    extra: "server default",
  };
  assert.equal(isUpToDate(desired, live), true);
});

test("a child edited by hand is not up to date", () => {
  const live = { ...desired, data: { k: "edited" } };
  assert.equal(isUpToDate(desired, live), false);
});

test("a child whose desired form changed (spec hash differs) is not up to date even if still a superset", () => {
  const smaller = withSpecHash({ ...desired, metadata: { name: "a", namespace: "n" } });
  assert.notEqual(
    smaller.metadata?.annotations?.[SPEC_HASH_ANNOTATION],
    desired.metadata?.annotations?.[SPEC_HASH_ANNOTATION],
  );
  assert.equal(isUpToDate(smaller, desired), false);
});

test("a missing child is not up to date", () => {
  assert.equal(isUpToDate(desired, undefined), false);
});

test("quantities compare by value under requests and limits only", () => {
  assert.equal(
    isSubset(
      { requests: { cpu: "0.5", memory: "1024Mi" } },
      { requests: { cpu: "500m", memory: "1Gi" } },
      "",
    ),
    true,
  );
  assert.equal(isSubset({ limits: { cpu: 1 } }, { limits: { cpu: "1" } }, ""), true);
  assert.equal(isSubset({ limits: { cpu: "2" } }, { limits: { cpu: "1" } }, ""), false);
  assert.equal(isSubset({ value: "0.5" }, { value: "500m" }, ""), false);
  assert.equal(quantityValue("250m"), 0.25);
  assert.equal(quantityValue("bogus"), undefined);
});

test("arrays must match in length and element by element", () => {
  assert.equal(isSubset([{ a: 1 }], [{ a: 1, b: 2 }], ""), true);
  assert.equal(isSubset([{ a: 1 }], [{ a: 1 }, { a: 2 }], ""), false);
  assert.equal(isSubset([1, 2], [2, 1], ""), false);
});

test("the spec hash is stable for equal objects", () => {
  const again = withSpecHash({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "a", namespace: "n", labels: { x: "1" } },
    data: { k: "v" },
  });
  assert.equal(
    again.metadata?.annotations?.[SPEC_HASH_ANNOTATION],
    desired.metadata?.annotations?.[SPEC_HASH_ANNOTATION],
  );
});
