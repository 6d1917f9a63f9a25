/**
 * Shared helpers of the operator's integration tests: they run against the
 * real kube-apiserver that `deploy/local/klagg-infra` starts (KUBECONFIG from
 * the environment), each in a fresh namespace.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { KubeConfig } from "@kubernetes/client-node";
import yaml from "js-yaml";
import { createLogger, type Logger } from "@klagg/dataplane/obs/log";
import { KubeClient, isNotFound, type KubeObject } from "../../src/kube/client.js";
import { Applier } from "../../src/kube/apply.js";
import { KLINE_AGGREGATORS, pathOf } from "../../src/kube/resources.js";

/** Repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..");

/** Fails (never skips) when the infra environment is missing. */
export function requireKubeconfig(): string {
  const kc = process.env["KUBECONFIG"];
  if (!kc) {
    throw new Error(
      "KUBECONFIG is not set: run the integration tests through `deploy/local/klagg-infra with-infra -- ...` " +
        "or `eval $(deploy/local/klagg-infra env)` with the kube service up",
    );
  }
  return kc;
}

/** A client on the test apiserver. */
export function newClient(): KubeClient {
  requireKubeconfig();
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return new KubeClient(kc);
}

/** A logger that keeps quiet unless KLAGG_TEST_LOG is set. */
export function testLogger(name: string): Logger {
  return createLogger(name, { level: process.env["KLAGG_TEST_LOG"] ? "debug" : "error" });
}

/** Installs (server-side applies) the CRD from its single source and waits until it is established. */
export async function installCrd(client: KubeClient): Promise<void> {
  const crd = yaml.load(
    readFileSync(join(ROOT, "operator/crd/klineaggregators.klagg.io.yaml"), "utf8"),
  ) as KubeObject;
  await client.request(
    "PATCH",
    `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata?.name}`,
    {
      body: crd,
      contentType: "application/apply-patch+yaml",
      query: { fieldManager: "klagg-tests", force: true },
    },
  );
  await waitFor("CRD established", async () => {
    const c = await client.request<{ status?: { conditions?: { type: string; status: string }[] } }>(
      "GET",
      `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata?.name}`,
    );
    return c.status?.conditions?.some((x) => x.type === "Established" && x.status === "True") ?? false;
  });
}

/** Creates a fresh namespace; returns its name and a cleanup function. */
export async function freshNamespace(
  client: KubeClient,
  prefix = "klagg-op",
): Promise<{ ns: string; cleanup: () => Promise<void> }> {
  const ns = `${prefix}-${randomBytes(4).toString("hex")}`;
  await client.request("POST", "/api/v1/namespaces", {
    body: {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: ns, labels: { "klagg.io/test": "operator" } },
    },
  });
  return {
    ns,
    cleanup: () => deleteNamespace(client, ns),
  };
}

/**
 * Deletes a namespace the way the namespace controller would. The test
 * apiserver runs no controllers, so the test first deletes the namespace's
 * Services (each holds a cluster IP from a finite range: leaked ones once
 * filled it and failed later runs), then clears the namespace's finalizers
 * (what the controller does after emptying it; otherwise it would stay
 * Terminating forever).
 */
export async function deleteNamespace(client: KubeClient, ns: string): Promise<void> {
  const services = await client
    .request<{ items?: KubeObject[] }>("GET", `/api/v1/namespaces/${ns}/services`)
    .catch(() => ({ items: [] as KubeObject[] }));
  for (const svc of services.items ?? []) {
    await client
      .request("DELETE", `/api/v1/namespaces/${ns}/services/${svc.metadata?.name}`)
      .catch(() => undefined);
  }
  await client.request("DELETE", `/api/v1/namespaces/${ns}`).catch(() => undefined);
  await client
    .request("PUT", `/api/v1/namespaces/${ns}/finalize`, {
      body: { apiVersion: "v1", kind: "Namespace", metadata: { name: ns }, spec: { finalizers: [] } },
    })
    .catch(() => undefined);
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `timed out after ${timeoutMs}ms waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`,
  );
}

/** A minimal valid KlineAggregator body. */
export function crBody(ns: string, name: string, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "klagg.io/v1alpha1",
    kind: "KlineAggregator",
    metadata: { name, namespace: ns },
    spec: {
      symbols: [
        "BTCUSDT",
        "ETHUSDT",
        "BNBUSDT",
        "SOLUSDT",
        "XRPUSDT",
        "ADAUSDT",
        "DOGEUSDT",
        "TRXUSDT",
        "LINKUSDT",
      ],
      shards: 3,
      intervals: ["1s", "1m"],
      redis: { url: "redis://redis:6379", passwordSecretRef: { name: "redis", key: "password" } },
      kafka: { brokers: ["kafka:9092"] },
      clickhouse: { url: "http://clickhouse:8123" },
      ...spec,
    },
  };
}

/** Creates a KlineAggregator; returns the stored object. */
export function createCr(client: KubeClient, body: KubeObject): Promise<KubeObject> {
  return client.request("POST", pathOf(KLINE_AGGREGATORS, body.metadata?.namespace), { body });
}

/** Reads a KlineAggregator. */
export function getCr(client: KubeClient, ns: string, name: string): Promise<KubeObject> {
  return client.request("GET", pathOf(KLINE_AGGREGATORS, ns, name));
}

/** Merge-patches a KlineAggregator's spec (as a user would with kubectl). */
export function patchSpec(
  client: KubeClient,
  ns: string,
  name: string,
  spec: Record<string, unknown>,
): Promise<KubeObject> {
  return client.request("PATCH", pathOf(KLINE_AGGREGATORS, ns, name), {
    body: { spec },
    contentType: "application/merge-patch+json",
  });
}

/** Returns the object or undefined when it does not exist. */
export async function getOrUndefined(client: KubeClient, path: string): Promise<KubeObject | undefined> {
  try {
    return await client.request("GET", path);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export { Applier };
