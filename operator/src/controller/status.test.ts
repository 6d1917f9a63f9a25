import { test } from "node:test";
import assert from "node:assert/strict";
import { computeStatus, type StatusInput } from "./status.js";
import { sampleCr } from "../render/fixtures.test-helper.js";
import { desiredState } from "../render/desired.js";
import type { KubeObject } from "../kube/client.js";

function input(over: Partial<StatusInput> = {}): StatusInput {
  const cr = sampleCr();
  const shards = desiredState(cr).shards;
  return {
    cr,
    shards,
    statefulSets: shards.map(() => undefined),
    statefulSetNames: shards.map((s) => `spot-worker-${s.index}`),
    gateway: undefined,
    writer: undefined,
    assignmentConfigMap: "spot-shards",
    errors: [],
    suspended: false,
    now: "2026-01-01T00:00:00Z",
    ...over,
  };
}

const sts = (status: object | undefined, generation = 1): KubeObject => ({
  kind: "StatefulSet",
  metadata: { name: "x", generation },
  spec: { replicas: 1 },
  ...(status ? { status } : {}),
});
const dep = (status: object | undefined): KubeObject => ({
  kind: "Deployment",
  metadata: { generation: 1 },
  spec: { replicas: 1 },
  ...(status ? { status } : {}),
});
const cond = (s: ReturnType<typeof computeStatus>, t: string) => s.conditions!.find((c) => c.type === t)!;

test("workloads no controller has observed make Ready false and say why", () => {
  const s = computeStatus(
    input({
      statefulSets: [sts(undefined), sts(undefined), sts(undefined)],
      gateway: dep(undefined),
      writer: dep(undefined),
    }),
  );
  assert.equal(cond(s, "Ready").status, "False");
  assert.equal(cond(s, "Ready").reason, "WorkersNotReady");
  assert.match(
    cond(s, "WorkersReady").message,
    /0\/3 worker shards ready; shard 0: StatefulSet spot-worker-0 has not been observed by its controller yet/,
  );
  assert.equal(cond(s, "GatewayReady").reason, "NotObserved");
  assert.deepEqual(
    s.shards!.map((x) => x.state),
    ["Pending", "Pending", "Pending"],
  );
});

test("everything ready makes Ready true; every condition carries the current generation", () => {
  const ok = { observedGeneration: 1, readyReplicas: 1, updatedReplicas: 1 };
  const s = computeStatus(
    input({
      statefulSets: [sts(ok), sts(ok), sts(ok)],
      gateway: dep({ observedGeneration: 1, availableReplicas: 1 }),
      writer: dep({ observedGeneration: 1, availableReplicas: 1 }),
    }),
  );
  assert.equal(cond(s, "Ready").status, "True");
  assert.equal(s.readyShards, 3);
  assert.equal(s.observedGeneration, 3);
  for (const c of s.conditions!) assert.equal(c.observedGeneration, 3);
});

test("a workload with a newer generation than its controller observed is progressing", () => {
  const s = computeStatus(
    input({ statefulSets: [sts({ observedGeneration: 1, readyReplicas: 1 }, 2), undefined, undefined] }),
  );
  assert.equal(s.shards![0]!.state, "Progressing");
  assert.match(cond(s, "WorkersReady").message, /generation 2 not yet observed/);
});

test("apply errors and empty shards make Degraded true with the reason", () => {
  const cr = sampleCr({ symbols: ["BTCUSDT", "ETHUSDT"], shards: 2 });
  const shards = desiredState(cr).shards;
  const s = computeStatus(
    input({ cr, shards, statefulSets: [undefined, undefined], errors: ["StatefulSet/x: 422 invalid"] }),
  );
  assert.equal(cond(s, "Degraded").status, "True");
  assert.equal(cond(s, "Degraded").reason, "ApplyFailed");
  assert.match(cond(s, "Degraded").message, /422 invalid/);
});

test("suspend is reported as Suspended=True", () => {
  const s = computeStatus(input({ suspended: true }));
  assert.equal(cond(s, "Suspended").status, "True");
  assert.equal(cond(s, "Suspended").reason, "SuspendedBySpec");
});

test("lastTransitionTime is kept while a condition's status does not change", () => {
  const first = computeStatus(input());
  const cr = { ...sampleCr(), status: first };
  const second = computeStatus(input({ cr, now: "2026-02-02T00:00:00Z", suspended: false }));
  assert.equal(cond(second, "Ready").lastTransitionTime, "2026-01-01T00:00:00Z");
  const third = computeStatus(input({ cr, now: "2026-02-02T00:00:00Z", suspended: true }));
  assert.equal(cond(third, "Suspended").lastTransitionTime, "2026-02-02T00:00:00Z");
});
