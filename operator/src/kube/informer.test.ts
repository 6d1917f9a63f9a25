import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { KubeConfig } from "@kubernetes/client-node";
import { createLogger } from "@klagg/dataplane/obs/log";
import { KubeClient } from "./client.js";
import { Informer, type InformerEventType } from "./informer.js";
import { CONFIG_MAPS } from "./resources.js";

/** A fake API server: list answers, the first watch expires (410), later watches stay open. */
async function fakeApiserver() {
  const calls = { list: 0, watch: 0 };
  const open: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const cm = (name: string, rv: string) => ({ metadata: { name, namespace: "n", resourceVersion: rv } });
    if (url.searchParams.get("watch") !== "true") {
      calls.list++;
      const items = calls.list === 1 ? [cm("a", "1")] : [cm("a", "1"), cm("b", "5")];
      res
        .writeHead(200, { "Content-Type": "application/json" })
        .end(JSON.stringify({ metadata: { resourceVersion: String(calls.list * 10) }, items }));
      return;
    }
    calls.watch++;
    res.writeHead(200, { "Content-Type": "application/json" });
    if (calls.watch === 1) {
      res.write(
        JSON.stringify({
          type: "MODIFIED",
          object: { ...cm("a", "2"), kind: "ConfigMap", apiVersion: "v1" },
        }) + "\n",
      );
      res.end(
        JSON.stringify({
          type: "ERROR",
          object: { kind: "Status", code: 410, message: "too old resource version" },
        }) + "\n",
      );
    } else {
      open.push(res);
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "fake", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "c", cluster: "fake", user: "u" }],
    currentContext: "c",
  });
  return {
    calls,
    client: new KubeClient(kc),
    close: async () => {
      for (const r of open) r.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

test("the informer lists, watches, re-lists after 410 Gone, and replays its cache on resync", async () => {
  const api = await fakeApiserver();
  const seen: string[] = [];
  const ac = new AbortController();
  const inf = new Informer(api.client, CONFIG_MAPS, {
    namespace: "n",
    resyncMs: 150,
    log: createLogger("test", { level: "error" }),
    onEvent: (t: InformerEventType, o) =>
      seen.push(`${t} ${o.metadata?.name}@${o.metadata?.resourceVersion}`),
  });
  inf.start(ac.signal);
  await inf.waitForSync();
  const until = async (cond: () => boolean) => {
    for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
  };
  await until(() => api.calls.list >= 2 && seen.includes("RESYNC b@5"));
  ac.abort();
  await inf.stopped();
  await api.close();
  api.client.close();
  assert.equal(api.calls.list, 2, "one list, then one re-list after the expired watch");
  assert.ok(api.calls.watch >= 2);
  // The re-list is authoritative: it reports what changed against the cache (a went back to rv 1, b appeared).
  assert.deepEqual(seen.filter((s) => !s.startsWith("RESYNC")).slice(0, 4), [
    "ADDED a@1",
    "MODIFIED a@2",
    "MODIFIED a@1",
    "ADDED b@5",
  ]);
  assert.ok(seen.some((s) => s === "RESYNC b@5"));
  assert.deepEqual(
    inf
      .list()
      .map((o) => o.metadata?.name)
      .sort(),
    ["a", "b"],
  );
});
