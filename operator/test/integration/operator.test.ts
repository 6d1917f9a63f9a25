/**
 * The operator against the real kube-apiserver (no controllers run there, so
 * workloads never become ready: status must say so). Each test gets a fresh
 * namespace and an operator watching only it, with its lease in it.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { shardOf } from "@klagg/dataplane/core/shard";
import { Operator } from "../../src/controller/operator.js";
import type { KubeClient, KubeList, KubeObject } from "../../src/kube/client.js";
import { CHILD_TYPES, DEPLOYMENTS, STATEFUL_SETS, CONFIG_MAPS, pathOf } from "../../src/kube/resources.js";
import { desiredState } from "../../src/render/desired.js";
import type { KlineAggregator } from "../../src/api/types.js";
import {
  createCr,
  crBody,
  freshNamespace,
  getCr,
  getOrUndefined,
  installCrd,
  newClient,
  patchSpec,
  testLogger,
  waitFor,
} from "./kube-helpers.js";

let admin: KubeClient;
const cleanups: (() => Promise<void>)[] = [];

before(async () => {
  admin = newClient();
  await installCrd(admin);
});

after(async () => {
  for (const c of cleanups.reverse()) await c();
  admin?.close();
});

function startOperator(
  ns: string,
  identity = "op-a",
  extra: Partial<ConstructorParameters<typeof Operator>[0]> = {},
): Operator {
  const op = new Operator({
    client: newClient(),
    leaseClient: newClient(),
    log: testLogger(identity),
    identity,
    watchNamespace: ns,
    leaseNamespace: ns,
    leaseDurationMs: 3000,
    renewDeadlineMs: 2000,
    retryPeriodMs: 200,
    resyncMs: 60_000,
    ...extra,
  });
  op.start();
  cleanups.push(() => op.stop());
  return op;
}

async function setup(spec: Record<string, unknown> = {}) {
  const { ns, cleanup } = await freshNamespace(admin);
  cleanups.push(cleanup);
  const cr = await createCr(admin, crBody(ns, "spot", spec));
  return { ns, cr };
}

/** Lists every child of `name` in `ns`, as "Kind/name". */
async function children(ns: string): Promise<KubeObject[]> {
  const out: KubeObject[] = [];
  for (const t of CHILD_TYPES) {
    const l = await admin.request<KubeList>("GET", pathOf(t, ns), {
      query: { labelSelector: "app.kubernetes.io/instance=spot" },
    });
    out.push(...l.items.map((i) => ({ ...i, kind: t.kind })));
  }
  return out;
}
const names = (objs: KubeObject[]) => objs.map((o) => `${o.kind}/${o.metadata?.name}`).sort();

/** Waits until the status describes the current generation. */
async function settled(ns: string): Promise<KlineAggregator> {
  return waitFor("status of the current generation", async () => {
    const cr = (await getCr(admin, ns, "spot")) as unknown as KlineAggregator;
    return cr.status?.observedGeneration === cr.metadata.generation ? cr : undefined;
  });
}

test("a resource yields exactly the expected children, each controlled by it", async () => {
  const { ns, cr } = await setup();
  const op = startOperator(ns);
  const got = await settled(ns);
  await op.idle();
  const expected = names(desiredState(got).children);
  const live = await children(ns);
  assert.deepEqual(names(live), expected);
  for (const c of live) {
    const refs = c.metadata?.ownerReferences ?? [];
    assert.equal(refs.length, 1, `${c.kind}/${c.metadata?.name}`);
    assert.equal(refs[0]!.uid, cr.metadata?.uid);
    assert.equal(refs[0]!.controller, true);
  }
  const events = await admin.request<
    KubeList<{ reason: string; message: string; involvedObject: { name: string } }>
  >("GET", `/api/v1/namespaces/${ns}/events`);
  const created = events.items.filter((e) => e.reason === "Created" && e.involvedObject.name === "spot");
  assert.equal(created.length, expected.length, "one Created event per child");
  assert.ok(created.some((e) => e.message === "Created StatefulSet spot-worker-0"));
});

test("every symbol is in exactly one shard and the assignment ConfigMap matches the workers' hashing", async () => {
  const { ns, cr } = await setup();
  startOperator(ns);
  await settled(ns);
  const cm = (await admin.request("GET", pathOf(CONFIG_MAPS, ns, "spot-shards"))) as {
    data: Record<string, string>;
  };
  const shards = JSON.parse(cm.data["assignment.json"]!).shards as string[][];
  const symbols = (cr["spec"] as { symbols: string[] }).symbols;
  assert.deepEqual(shards.flat().sort(), [...symbols].sort());
  shards.forEach((s, i) => s.forEach((sym) => assert.equal(shardOf(sym, 3), i, sym)));
  for (let i = 0; i < 3; i++) {
    const sts = (await admin.request("GET", pathOf(STATEFUL_SETS, ns, `spot-worker-${i}`))) as {
      spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
    };
    const env = sts.spec.template.spec.containers[0]!.env;
    assert.equal(env.find((e) => e.name === "KLAGG_SYMBOLS")?.value, shards[i]!.join(","));
  }
});

test("changing the shard count moves only the symbols that must move and adds or removes StatefulSets", async () => {
  const symbols = Array.from({ length: 40 }, (_, i) => `S${i}USDT`);
  const { ns } = await setup({ symbols, shards: 3 });
  startOperator(ns);
  await settled(ns);
  const readAssignment = async () =>
    JSON.parse(
      (
        (await admin.request("GET", pathOf(CONFIG_MAPS, ns, "spot-shards"))) as {
          data: Record<string, string>;
        }
      ).data["assignment.json"]!,
    ).shards as string[][];
  const before3 = await readAssignment();
  const rvBefore = await Promise.all(
    [0, 1, 2].map(
      async (i) =>
        (await admin.request("GET", pathOf(STATEFUL_SETS, ns, `spot-worker-${i}`))).metadata?.resourceVersion,
    ),
  );

  await patchSpec(admin, ns, "spot", { shards: 4 });
  await settled(ns);
  const after4 = await readAssignment();
  const owner3 = new Map(before3.flatMap((s, i) => s.map((x) => [x, i] as const)));
  const moved = after4.flatMap((s, i) => s.filter((x) => owner3.get(x) !== i).map((x) => ({ x, to: i })));
  assert.ok(moved.length > 0 && moved.length < symbols.length / 2, `moved ${moved.length}`);
  for (const m of moved) assert.equal(m.to, 3, `${m.x} moved to an old shard`);
  assert.deepEqual(names((await children(ns)).filter((c) => c.kind === "StatefulSet")), [
    "StatefulSet/spot-worker-0",
    "StatefulSet/spot-worker-1",
    "StatefulSet/spot-worker-2",
    "StatefulSet/spot-worker-3",
  ]);
  // Existing shards were re-applied (their config names the new shard count) but none was recreated.
  for (let i = 0; i < 3; i++) {
    const sts = await admin.request("GET", pathOf(STATEFUL_SETS, ns, `spot-worker-${i}`));
    assert.notEqual(sts.metadata?.resourceVersion, rvBefore[i]);
  }

  await patchSpec(admin, ns, "spot", { shards: 2 });
  await settled(ns);
  await waitFor("StatefulSets 2 and 3 deleted", async () => {
    const s = names((await children(ns)).filter((c) => c.kind === "StatefulSet"));
    return s.length === 2 && s[0] === "StatefulSet/spot-worker-0" && s[1] === "StatefulSet/spot-worker-1";
  });
  const after2 = await readAssignment();
  assert.deepEqual(after2.flat().sort(), [...symbols].sort());
});

test("a child edited or deleted by hand is restored", async () => {
  const { ns } = await setup();
  const op = startOperator(ns);
  await settled(ns);
  await op.idle();
  const path = pathOf(STATEFUL_SETS, ns, "spot-worker-1");
  const original = (await admin.request("GET", path)) as {
    spec: { template: { spec: { containers: { image: string }[] } } };
  };
  const image = original.spec.template.spec.containers[0]!.image;
  await admin.request("PATCH", path, {
    body: { spec: { template: { spec: { containers: [{ name: "worker", image: "evil:latest" }] } } } },
    contentType: "application/strategic-merge-patch+json",
    query: { fieldManager: "kubectl-edit" },
  });
  await waitFor("edited StatefulSet restored", async () => {
    const s = (await admin.request("GET", path)) as typeof original;
    return s.spec.template.spec.containers[0]!.image === image;
  });
  await admin.request("DELETE", pathOf(DEPLOYMENTS, ns, "spot-gateway"));
  await waitFor("deleted gateway recreated", async () =>
    getOrUndefined(admin, pathOf(DEPLOYMENTS, ns, "spot-gateway")),
  );
});

test("a second reconcile of an unchanged resource writes nothing", async () => {
  const { ns } = await setup();
  const op = startOperator(ns);
  await settled(ns);
  await op.idle();
  const client = op.client;
  const rvs = new Map(
    (await children(ns)).map((c) => [`${c.kind}/${c.metadata?.name}`, c.metadata?.resourceVersion]),
  );
  const crRv = (await getCr(admin, ns, "spot")).metadata?.resourceVersion;
  const writesBefore = client.writes();
  const requestsBefore = [...client.counts.values()].reduce((a, b) => a + b, 0);
  const first = await op.reconcileNow(`${ns}/spot`);
  const second = await op.reconcileNow(`${ns}/spot`);
  assert.deepEqual([first.applied, first.deleted, first.statusWritten], [[], [], false]);
  assert.deepEqual([second.applied, second.deleted, second.statusWritten], [[], [], false]);
  assert.equal(client.writes() - writesBefore, 0, "write requests during two unchanged reconciles");
  // Reads come from the informer cache: a reconcile sends no request at all.
  assert.equal([...client.counts.values()].reduce((a, b) => a + b, 0) - requestsBefore, 0);
  for (const c of await children(ns))
    assert.equal(c.metadata?.resourceVersion, rvs.get(`${c.kind}/${c.metadata?.name}`));
  assert.equal((await getCr(admin, ns, "spot")).metadata?.resourceVersion, crRv);
  // And left running, the operator does not feed on its own writes: a quiet second brings no write.
  await new Promise((r) => setTimeout(r, 1000));
  await op.idle();
  assert.equal(client.writes() - writesBefore, 0, "writes while idle");
});

test("conditions carry the current observedGeneration and say honestly that no controller runs the workloads", async () => {
  const { ns } = await setup();
  startOperator(ns);
  await settled(ns);
  await patchSpec(admin, ns, "spot", { intervals: ["1s", "1m", "1h"] });
  const cr = await settled(ns);
  const conds = cr.status!.conditions!;
  assert.deepEqual(conds.map((c) => c.type).sort(), [
    "Degraded",
    "GatewayReady",
    "Ready",
    "Suspended",
    "WorkersReady",
    "WriterReady",
  ]);
  for (const c of conds) assert.equal(c.observedGeneration, cr.metadata.generation, c.type);
  const ready = conds.find((c) => c.type === "Ready")!;
  assert.equal(ready.status, "False");
  assert.equal(ready.reason, "WorkersNotReady");
  assert.match(ready.message, /has not been observed by its controller yet/);
  assert.equal(cr.status!.shards!.length, 3);
  assert.ok(cr.status!.shards!.every((s) => s.state === "Pending"));
  assert.equal(cr.status!.symbolCount, 9);
});

test("suspend stops reconciling, says so in status, and resuming repairs", async () => {
  const { ns } = await setup();
  const op = startOperator(ns);
  await settled(ns);
  await patchSpec(admin, ns, "spot", { suspend: true });
  const cr = await settled(ns);
  const s = cr.status!.conditions!.find((c) => c.type === "Suspended")!;
  assert.equal(s.status, "True");
  assert.equal(s.reason, "SuspendedBySpec");
  await admin.request("DELETE", pathOf(DEPLOYMENTS, ns, "spot-gateway"));
  await new Promise((r) => setTimeout(r, 300));
  await op.idle();
  const r = await op.reconcileNow(`${ns}/spot`);
  assert.deepEqual(r.applied, []);
  assert.equal(await getOrUndefined(admin, pathOf(DEPLOYMENTS, ns, "spot-gateway")), undefined);
  await patchSpec(admin, ns, "spot", { suspend: false });
  await waitFor("gateway recreated after resume", async () =>
    getOrUndefined(admin, pathOf(DEPLOYMENTS, ns, "spot-gateway")),
  );
  const resumed = await settled(ns);
  assert.equal(resumed.status!.conditions!.find((c) => c.type === "Suspended")!.status, "False");
});

test("with two operators only the leader reconciles, and the other takes over when it stops", async () => {
  const { ns } = await setup();
  const a = startOperator(ns, "op-a");
  await waitFor("op-a leads", async () => a.isLeader());
  const b = startOperator(ns, "op-b");
  await settled(ns);
  await a.idle();
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(b.isLeader(), false);
  const bClient = b.client;
  assert.equal(bClient.writes(), 0, "the follower wrote");
  await a.stop();
  await waitFor("op-b leads", async () => b.isLeader(), 10_000);
  await patchSpec(admin, ns, "spot", { shards: 2 });
  await settled(ns);
  assert.ok(bClient.writes() > 0, "the new leader reconciled");
});

test("adding a symbol re-applies only the StatefulSet of the shard that owns it (and the gateway)", async () => {
  const { ns } = await setup();
  const op = startOperator(ns);
  await settled(ns);
  await op.idle();
  const rv = async () =>
    new Map((await children(ns)).map((c) => [`${c.kind}/${c.metadata?.name}`, c.metadata?.resourceVersion]));
  const before = await rv();
  const cr = await getCr(admin, ns, "spot");
  const symbols = [...(cr["spec"] as { symbols: string[] }).symbols, "LTCUSDT"];
  await patchSpec(admin, ns, "spot", { symbols });
  await settled(ns);
  await op.idle();
  const after = await rv();
  const changed = [...after.keys()].filter((k) => after.get(k) !== before.get(k)).sort();
  assert.deepEqual(changed, [
    "ConfigMap/spot-shards",
    "Deployment/spot-gateway",
    `StatefulSet/spot-worker-${shardOf("LTCUSDT", 3)}`,
  ]);
});

test("deleting the resource removes its children (the test apiserver has no garbage collector)", async () => {
  const { ns } = await setup();
  const op = startOperator(ns);
  await settled(ns);
  await op.idle();
  assert.ok((await children(ns)).length > 0);
  await admin.request("DELETE", `/apis/klagg.io/v1alpha1/namespaces/${ns}/klineaggregators/spot`);
  await waitFor("children removed", async () => (await children(ns)).length === 0);
});
