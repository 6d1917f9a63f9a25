/**
 * Smoke test of the local etcd + kube-apiserver (deploy/local/klagg-infra, service `kube`): a CRD and a
 * custom resource created with @kubernetes/client-node (the operator's client) and with kubectl, and a
 * `helm install` of a small chart. Reads KUBECONFIG (and PATH for kubectl/helm) only.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";

const run = promisify(execFile);
const CHART = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "..",
  "test",
  "fixtures",
  "smoke-chart",
);
const GROUP = "smoke.klagg.io";
const PLURAL = "widgets";
const CRD_NAME = `${PLURAL}.${GROUP}`;
const ns = `smoke-${process.pid}-${Date.now().toString(36)}`;

let kc: KubeConfig;
let ext: ApiextensionsV1Api;
let core: CoreV1Api;
let custom: CustomObjectsApi;

function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run under \`deploy/local/klagg-infra with-infra -- ...\``);
  return v;
}

/** Runs a CLI from PATH (the pinned kubectl/helm that `klagg-infra env` puts first) on the test cluster. */
async function cli(cmd: string, args: string[], input?: string): Promise<string> {
  const child = run(cmd, args, { env: process.env, timeout: 60_000, maxBuffer: 4 << 20 });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  try {
    return (await child).stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(" ")} failed: ${err.stderr || err.message}`);
  }
}

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const crd: V1CustomResourceDefinition = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: CRD_NAME },
  spec: {
    group: GROUP,
    scope: "Namespaced",
    names: { plural: PLURAL, singular: "widget", kind: "Widget", listKind: "WidgetList" },
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: "object",
            properties: {
              spec: {
                type: "object",
                properties: { size: { type: "integer", minimum: 1 } },
                required: ["size"],
              },
            },
          },
        },
      },
    ],
  },
};

before(async () => {
  requireEnv("KUBECONFIG");
  kc = new KubeConfig();
  kc.loadFromDefault();
  ext = kc.makeApiClient(ApiextensionsV1Api);
  core = kc.makeApiClient(CoreV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
  await core.createNamespace({ body: { metadata: { name: ns } } });
});

after(async () => {
  await cli("helm", ["uninstall", "smoke", "--namespace", ns]).catch(() => "");
  await core?.deleteNamespace({ name: ns }).catch(() => undefined);
  await ext?.deleteCustomResourceDefinition({ name: CRD_NAME }).catch(() => undefined);
});

test("the apiserver reports the pinned Kubernetes version", async () => {
  const out = JSON.parse(await cli("kubectl", ["version", "-o", "json"])) as {
    clientVersion: { gitVersion: string };
    serverVersion: { gitVersion: string };
  };
  assert.match(out.serverVersion.gitVersion, /^v1\.\d+\.\d+$/);
  assert.equal(out.clientVersion.gitVersion, out.serverVersion.gitVersion);
});

test("a CRD and a custom resource are created with @kubernetes/client-node", async () => {
  await ext.createCustomResourceDefinition({ body: crd }).catch((e: { code?: number }) => {
    if (e.code !== 409) throw e;
  });
  await eventually("CRD established", async () => {
    const got = await ext.readCustomResourceDefinition({ name: CRD_NAME });
    return got.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")
      ? true
      : undefined;
  });
  const body = {
    apiVersion: `${GROUP}/v1`,
    kind: "Widget",
    metadata: { name: "from-client" },
    spec: { size: 3 },
  };
  // Discovery of a fresh CRD can lag its Established condition by a moment.
  await eventually("custom resource created", () =>
    custom.createNamespacedCustomObject({ group: GROUP, version: "v1", namespace: ns, plural: PLURAL, body }),
  );
  const read = (await custom.getNamespacedCustomObject({
    group: GROUP,
    version: "v1",
    namespace: ns,
    plural: PLURAL,
    name: "from-client",
  })) as { spec: { size: number } };
  assert.equal(read.spec.size, 3);
});

test("the apiserver validates custom resources against the CRD schema", async () => {
  const bad = { apiVersion: `${GROUP}/v1`, kind: "Widget", metadata: { name: "bad" }, spec: { size: 0 } };
  await assert.rejects(
    custom.createNamespacedCustomObject({
      group: GROUP,
      version: "v1",
      namespace: ns,
      plural: PLURAL,
      body: bad,
    }),
    (e: { code?: number }) => e.code === 422,
  );
});

test("kubectl applies and lists a custom resource", async () => {
  const manifest = JSON.stringify({
    apiVersion: `${GROUP}/v1`,
    kind: "Widget",
    metadata: { name: "from-kubectl", namespace: ns },
    spec: { size: 7 },
  });
  await eventually("kubectl apply", () => cli("kubectl", ["apply", "-f", "-"], manifest));
  const list = JSON.parse(await cli("kubectl", ["get", PLURAL, "-n", ns, "-o", "json"])) as {
    items: { metadata: { name: string }; spec: { size: number } }[];
  };
  const byName = new Map(list.items.map((i) => [i.metadata.name, i.spec.size]));
  assert.equal(byName.get("from-kubectl"), 7);
  assert.equal(byName.get("from-client"), 3);
});

test("helm installs a small chart whose objects land in the apiserver", async () => {
  await cli("helm", [
    "install",
    "smoke",
    CHART,
    "--namespace",
    ns,
    "--set",
    "greeting=hi-from-helm",
    "--wait",
  ]);
  const cm = await core.readNamespacedConfigMap({ name: "smoke-smoke", namespace: ns });
  assert.equal(cm.data?.["greeting"], "hi-from-helm");
  const status = JSON.parse(await cli("helm", ["status", "smoke", "--namespace", ns, "-o", "json"])) as {
    info: { status: string };
  };
  assert.equal(status.info.status, "deployed");
});
