import { test } from "node:test";
import assert from "node:assert/strict";
import type { V1StatefulSet } from "@kubernetes/client-node";
import { shardOf } from "@klagg/dataplane/core/shard";
import { desiredState } from "./desired.js";
import { envToSource, SECRET_KEYS } from "./config.js";
import { CONFIG_HASH_ANNOTATION, GRPC_PORT } from "./names.js";
import { sampleCr } from "./fixtures.test-helper.js";

const kindsAndNames = (cr = sampleCr()) =>
  desiredState(cr)
    .children.map((c) => `${c.kind}/${c.metadata?.name}`)
    .sort();

test("a resource yields exactly the expected children", () => {
  assert.deepEqual(kindsAndNames(), [
    "ConfigMap/spot-shards",
    "Deployment/spot-gateway",
    "Deployment/spot-writer",
    "NetworkPolicy/spot-gateway",
    "NetworkPolicy/spot-worker",
    "NetworkPolicy/spot-writer",
    "PodDisruptionBudget/spot-worker",
    "PodDisruptionBudget/spot-writer",
    "Service/spot-gateway",
    "Service/spot-worker",
    "ServiceAccount/spot-dataplane",
    "StatefulSet/spot-worker-0",
    "StatefulSet/spot-worker-1",
    "StatefulSet/spot-worker-2",
  ]);
});

test("every child is in the resource's namespace and controlled by it", () => {
  for (const c of desiredState(sampleCr()).children) {
    assert.equal(c.metadata?.namespace, "markets");
    assert.deepEqual(c.metadata?.ownerReferences, [
      {
        apiVersion: "klagg.io/v1alpha1",
        kind: "KlineAggregator",
        name: "spot",
        uid: "uid-1",
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
  }
});

test("every symbol is in exactly one shard, the one the workers' hashing picks", () => {
  const cr = sampleCr();
  const { shards, children } = desiredState(cr);
  const all = shards.flatMap((s) => s.symbols).sort();
  assert.deepEqual(all, [...cr.spec.symbols].sort());
  for (const s of shards) for (const sym of s.symbols) assert.equal(shardOf(sym, 3), s.index);
  const cm = children.find((c) => c.kind === "ConfigMap") as { data: Record<string, string> };
  assert.deepEqual(
    JSON.parse(cm.data["assignment.json"]!).shards,
    shards.map((s) => s.symbols),
  );
  for (const s of shards) {
    const sts = children.find((c) => c.metadata?.name === `spot-worker-${s.index}`) as V1StatefulSet;
    const env = envToSource(sts.spec!.template.spec!.containers[0]!.env!);
    assert.equal(env.KLAGG_SYMBOLS, s.symbols.join(","));
    assert.equal(env.KLAGG_SHARD_INDEX, String(s.index));
  }
});

test("credentials appear only as Secret references, never as literal values", () => {
  for (const c of desiredState(sampleCr()).children) {
    const text = JSON.stringify(c);
    for (const key of SECRET_KEYS) {
      const m = new RegExp(`"name":"${key}","value"`).exec(text);
      assert.equal(m, null, `${c.kind}/${c.metadata?.name} carries ${key} as a literal`);
    }
  }
  const gw = desiredState(sampleCr()).children.find(
    (c) => c.metadata?.name === "spot-gateway" && c.kind === "Deployment",
  );
  assert.match(
    JSON.stringify(gw),
    /"name":"KLAGG_REDIS_PASSWORD","valueFrom":\{"secretKeyRef":\{"name":"redis","key":"password"\}\}/,
  );
});

test("adding a symbol changes the config hash of its shard only", () => {
  const before = desiredState(sampleCr()).shards;
  const cr = sampleCr();
  cr.spec.symbols = [...cr.spec.symbols, "LTCUSDT"];
  const after = desiredState(cr).shards;
  const target = shardOf("LTCUSDT", 3);
  for (const s of after) {
    if (s.index === target) assert.notEqual(s.configHash, before[s.index]!.configHash);
    else assert.equal(s.configHash, before[s.index]!.configHash);
  }
  const sts = desiredState(cr).children.find(
    (c) => c.metadata?.name === `spot-worker-${target}`,
  ) as V1StatefulSet;
  assert.equal(sts.spec!.template.metadata!.annotations![CONFIG_HASH_ANNOTATION], after[target]!.configHash);
});

test("changing the shard count adds StatefulSets and moves only symbols whose shard changed", () => {
  const symbols = Array.from({ length: 200 }, (_, i) => `SYM${i}USDT`);
  const three = desiredState(sampleCr({ symbols, shards: 3 }));
  const four = desiredState(sampleCr({ symbols, shards: 4 }));
  assert.equal(four.children.filter((c) => c.kind === "StatefulSet").length, 4);
  const owner3 = new Map(three.shards.flatMap((s) => s.symbols.map((x) => [x, s.index] as const)));
  const moved = four.shards.flatMap((s) => s.symbols.filter((x) => owner3.get(x) !== s.index));
  // Rendezvous hashing: only symbols that now win on the new shard 3 move.
  assert.ok(moved.length > 0);
  for (const x of moved) assert.equal(shardOf(x, 4), 3);
  assert.ok(moved.length < symbols.length / 2, `moved ${moved.length} of ${symbols.length}`);
});

test("pods run non-root with a read-only root filesystem, no privilege escalation and no capabilities", () => {
  for (const c of desiredState(sampleCr()).children.filter(
    (x) => x.kind === "StatefulSet" || x.kind === "Deployment",
  )) {
    const pod = (c as V1StatefulSet).spec!.template.spec!;
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.equal(pod.securityContext?.seccompProfile?.type, "RuntimeDefault");
    assert.equal(pod.automountServiceAccountToken, false);
    const sc = pod.containers[0]!.securityContext!;
    assert.equal(sc.readOnlyRootFilesystem, true);
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.deepEqual(sc.capabilities?.drop, ["ALL"]);
  }
});

test("placement is copied and a topology constraint without selector gets the component's", () => {
  const sts = desiredState(sampleCr()).children.find(
    (c) => c.metadata?.name === "spot-worker-0",
  ) as V1StatefulSet;
  const pod = sts.spec!.template.spec!;
  assert.deepEqual(pod.nodeSelector, { pool: "markets" });
  assert.equal(pod.tolerations?.[0]?.key, "dedicated");
  assert.deepEqual(pod.topologySpreadConstraints?.[0]?.labelSelector, {
    matchLabels: {
      "app.kubernetes.io/name": "klagg",
      "app.kubernetes.io/instance": "spot",
      "app.kubernetes.io/component": "worker",
    },
  });
});

test("the gateway is told every shard's stable in-cluster address", () => {
  const gw = desiredState(sampleCr()).children.find(
    (c) => c.kind === "Deployment" && c.metadata?.name === "spot-gateway",
  );
  const env = envToSource((gw as V1StatefulSet).spec!.template.spec!.containers[0]!.env!);
  assert.equal(
    env.KLAGG_WORKERS,
    [0, 1, 2].map((i) => `spot-worker-${i}=spot-worker-${i}-0.spot-worker.markets.svc:50051`).join(","),
  );
  assert.equal(env.KLAGG_PULL_DEADLINE, "80ms");
  assert.equal(env.KLAGG_TICK, "100ms");
});

test("a shard that hashing leaves empty gets no StatefulSet and the gateway does not pull it", () => {
  // Find a symbol set with an empty shard: 2 symbols over 2 shards collide often enough.
  const pair = Array.from({ length: 50 }, (_, i) => [`A${i}USDT`, `B${i}USDT`]).find(
    ([a, b]) => shardOf(a!, 2) === shardOf(b!, 2),
  )!;
  const { shards, children } = desiredState(sampleCr({ symbols: pair, shards: 2 }));
  const empty = shards.find((s) => s.symbols.length === 0)!;
  const full = shards.find((s) => s.symbols.length === 2)!;
  assert.deepEqual(
    children.filter((c) => c.kind === "StatefulSet").map((c) => c.metadata?.name),
    [`spot-worker-${full.index}`],
  );
  const gw = children.find((c) => c.kind === "Deployment" && c.metadata?.name === "spot-gateway");
  const env = envToSource((gw as V1StatefulSet).spec!.template.spec!.containers[0]!.env!);
  assert.doesNotMatch(env.KLAGG_WORKERS!, new RegExp(`spot-worker-${empty.index}=`));
});

test("workers are ready by gRPC health, gateway and writer by /healthz, and liveness never follows readiness", () => {
  const byName = new Map(desiredState(sampleCr()).children.map((c) => [`${c.kind}/${c.metadata?.name}`, c]));
  const container = (key: string) => {
    const c = byName.get(key) as V1StatefulSet | undefined;
    const first = c?.spec?.template.spec?.containers[0];
    assert.ok(first, `${key} has a container`);
    return first;
  };
  const worker = container("StatefulSet/spot-worker-0");
  assert.deepEqual(worker.readinessProbe?.grpc, { port: GRPC_PORT });
  for (const key of ["Deployment/spot-gateway", "Deployment/spot-writer"]) {
    assert.deepEqual(container(key).readinessProbe?.httpGet, { path: "/healthz", port: "metrics" });
  }
  for (const key of ["StatefulSet/spot-worker-0", "Deployment/spot-gateway", "Deployment/spot-writer"]) {
    assert.deepEqual(container(key).livenessProbe?.tcpSocket, { port: "metrics" });
  }
});
