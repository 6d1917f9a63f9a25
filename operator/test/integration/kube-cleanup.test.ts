/**
 * The test apiserver runs no namespace controller, so the tests' own cleanup
 * must free what a namespace holds: a leaked Service keeps its cluster IP, and
 * enough of them fill the service IP range for every later run.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { isNotFound, type KubeClient } from "../../src/kube/client.js";
import { deleteNamespace, freshNamespace, newClient } from "./kube-helpers.js";

let client: KubeClient;

before(() => {
  client = newClient();
});

after(() => client?.close());

test("deleting a test namespace deletes its Services and frees their cluster IPs", async () => {
  const { ns } = await freshNamespace(client, "klagg-cleanup");
  const created = await client.request<{ spec?: { clusterIP?: string } }>(
    "POST",
    `/api/v1/namespaces/${ns}/services`,
    {
      body: {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "held-ip" },
        spec: { ports: [{ name: "grpc", port: 7070 }] },
      },
    },
  );
  const ip = created.spec?.clusterIP ?? "";
  assert.match(ip, /^10\.96\.\d+\.\d+$/, `a cluster IP from the local range, got ${ip}`);

  await deleteNamespace(client, ns);

  const gone = await client.request("GET", `/api/v1/namespaces/${ns}/services/held-ip`).then(
    () => false,
    (err: unknown) => isNotFound(err),
  );
  assert.equal(gone, true, "the Service is deleted with its namespace");
  const addr = await client.request("GET", `/apis/networking.k8s.io/v1/ipaddresses/${ip}`).then(
    () => "still allocated",
    (err: unknown) => (isNotFound(err) ? "released" : String(err)),
  );
  assert.equal(addr, "released", `cluster IP ${ip} is released`);
});
