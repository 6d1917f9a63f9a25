/**
 * The chart and the plain manifests against the real kube-apiserver: lint,
 * server-side dry run, helm install, kubectl apply of the manifests and of the
 * samples; then the `klagg-operator` binary, run out of cluster as in
 * development, brings every sample to its children and reports honestly that
 * no pod can run here.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import yaml from "js-yaml";
import type { KubeClient, KubeList } from "../../src/kube/client.js";
import { KLINE_AGGREGATORS, STATEFUL_SETS, pathOf } from "../../src/kube/resources.js";
import type { KlineAggregator } from "../../src/api/types.js";
import { desiredState } from "../../src/render/desired.js";
import { ROOT, freshNamespace, installCrd, newClient, requireKubeconfig, waitFor } from "./kube-helpers.js";

const exec = promisify(execFile);
let client: KubeClient;
const cleanups: (() => Promise<unknown>)[] = [];

/** Runs a CLI (helm, kubectl from the infra PATH); rejects with its stderr. */
async function run(cmd: string, args: string[], input?: string): Promise<string> {
  if (input === undefined) {
    const { stdout } = await exec(cmd, args, { cwd: ROOT, maxBuffer: 16 << 20 });
    return stdout;
  }
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: ROOT });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.on("error", reject);
    p.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(" ")}: ${err}`)),
    );
    p.stdin.end(input);
  });
}

before(async () => {
  requireKubeconfig();
  client = newClient();
  await installCrd(client);
});

after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  client?.close();
});

test("helm lint accepts the chart", async () => {
  const out = await run("helm", ["lint", "charts/klagg", "--strict"]);
  assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
});

test("helm template piped to kubectl apply --dry-run=server is accepted, optional parts included", async () => {
  const { ns, cleanup } = await freshNamespace(client, "klagg-helm");
  cleanups.push(cleanup);
  for (const extra of [[], ["--set", `watchNamespace=${ns}`, "--set", "networkPolicy.enabled=true"]]) {
    const manifests = await run("helm", [
      "template",
      "klagg",
      "charts/klagg",
      "--namespace",
      ns,
      "--include-crds",
      ...extra,
    ]);
    const out = await run("kubectl", ["apply", "--dry-run=server", "-n", ns, "-f", "-"], manifests);
    assert.match(out, /deployment.apps\/klagg-operator created \(server dry run\)/);
    assert.match(out, /role.rbac.authorization.k8s.io\/klagg-operator(-leader-election)? created/);
  }
});

test("the values schema rejects a wrong type", async () => {
  await assert.rejects(
    run("helm", ["template", "x", "charts/klagg", "--set", "replicaCount=many"]),
    /replicaCount/,
  );
});

test("the committed plain manifests are exactly a fresh render of the chart", async () => {
  const dir = mkdtempSync(join(tmpdir(), "klagg-manifests-"));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  await run("operator/scripts/render-manifests.sh", [dir]);
  for (const f of ["namespace.yaml", "rbac.yaml", "operator.yaml"]) {
    assert.equal(
      readFileSync(join(ROOT, "deploy/manifests", f), "utf8"),
      readFileSync(join(dir, f), "utf8"),
      `deploy/manifests/${f} is stale: run operator/scripts/render-manifests.sh`,
    );
  }
});

test("helm install into the test apiserver succeeds and creates the operator's objects", async () => {
  const { ns, cleanup } = await freshNamespace(client, "klagg-helm");
  const release = `klagg-${ns.slice(-8)}`;
  cleanups.push(cleanup);
  cleanups.push(() => run("helm", ["uninstall", release, "-n", ns]));
  const out = await run("helm", ["install", release, "charts/klagg", "-n", ns]);
  assert.match(out, /STATUS: deployed/);
  const dep = await client.request("GET", `/apis/apps/v1/namespaces/${ns}/deployments/${release}-operator`);
  const pod = (
    dep["spec"] as {
      template: {
        spec: {
          securityContext: Record<string, unknown>;
          containers: { securityContext: Record<string, unknown> }[];
        };
      };
    }
  ).template.spec;
  assert.deepEqual(pod.securityContext["seccompProfile"], { type: "RuntimeDefault" });
  assert.equal(pod.containers[0]!.securityContext["readOnlyRootFilesystem"], true);
  await client.request("GET", `/apis/rbac.authorization.k8s.io/v1/clusterroles/${release}-operator`);
  await client.request(
    "GET",
    `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles/${release}-operator-leader-election`,
  );
});

test("kubectl apply -f deploy/manifests installs the CRD, RBAC and the operator", async () => {
  // Left installed, as after a real install (a later run re-applies idempotently); no pod runs here.
  await run("kubectl", ["apply", "--server-side", "-f", "deploy/manifests/namespace.yaml"]);
  const out = await run("kubectl", ["apply", "--server-side", "-f", "deploy/manifests/"]);
  assert.match(
    out,
    /customresourcedefinition.apiextensions.k8s.io\/klineaggregators.klagg.io serverside-applied/,
  );
  assert.match(out, /deployment.apps\/klagg-operator serverside-applied/);
});

test("the samples apply with kubectl and the klagg-operator binary brings each to its children", async () => {
  const { ns, cleanup } = await freshNamespace(client, "klagg-samples");
  cleanups.push(cleanup);
  const out = await run("kubectl", ["apply", "-n", ns, "-f", "deploy/samples/"]);
  const samples = readdirSync(join(ROOT, "deploy/samples")).filter((f) => f.startsWith("klineaggregator-"));
  for (const f of samples) {
    const name = (
      yaml.load(readFileSync(join(ROOT, "deploy/samples", f), "utf8")) as { metadata: { name: string } }
    ).metadata.name;
    assert.match(out, new RegExp(`klineaggregator.klagg.io/${name} created`));
  }
  const port = 20000 + Math.floor(Math.random() * 20000);
  const proc = spawn(process.execPath, [join(ROOT, "operator/dist/src/main.js")], {
    env: {
      ...process.env,
      KLAGG_WATCH_NAMESPACE: ns,
      KLAGG_LEASE_NAMESPACE: ns,
      KLAGG_OPERATOR_IDENTITY: "binary-test",
      KLAGG_METRICS_PORT: String(port),
      KLAGG_LOG_LEVEL: "info",
      OTEL_EXPORTER_OTLP_ENDPOINT: "",
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let logs = "";
  proc.stderr.on("data", (d: Buffer) => (logs += d.toString()));
  const exited = new Promise<number | null>((r) => proc.on("exit", (code) => r(code)));
  cleanups.push(async () => proc.kill("SIGKILL"));
  try {
    const crs = await waitFor("every sample reconciled", async () => {
      const l = await client.request<KubeList<KlineAggregator>>("GET", pathOf(KLINE_AGGREGATORS, ns));
      return l.items.length === samples.length &&
        l.items.every((c) => c.status?.observedGeneration === c.metadata.generation)
        ? l.items
        : undefined;
    });
    const sts = await client.request<KubeList>("GET", pathOf(STATEFUL_SETS, ns));
    for (const cr of crs) {
      const want = desiredState(cr)
        .children.filter((c) => c.kind === "StatefulSet")
        .map((c) => c.metadata?.name);
      const have = sts.items
        .filter((s) => s.metadata?.labels?.["app.kubernetes.io/instance"] === cr.metadata.name)
        .map((s) => s.metadata?.name);
      assert.deepEqual(have.sort(), [...want].sort(), cr.metadata.name);
      const ready = cr.status!.conditions!.find((c) => c.type === "Ready")!;
      assert.equal(ready.status, "False");
      assert.match(ready.message, /not been observed by its controller yet/);
    }
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, /klagg_operator_reconcile_total\{result="success"\} [1-9]/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
  } finally {
    proc.kill("SIGTERM");
  }
  assert.equal(await exited, 0, logs);
  assert.match(logs, /"msg":"stopped"/);
  const lease = await client.request(
    "GET",
    `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/klagg-operator-leader`,
  );
  assert.equal(
    (lease["spec"] as { holderIdentity?: string }).holderIdentity,
    undefined,
    "lease released on shutdown",
  );
});
