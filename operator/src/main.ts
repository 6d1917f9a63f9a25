#!/usr/bin/env node
/**
 * `klagg-operator`: runs the operator. Out of cluster it uses the current
 * kubeconfig (KUBECONFIG or ~/.kube/config); in a pod, its ServiceAccount.
 * Serves /metrics, /healthz and /readyz on KLAGG_METRICS_PORT. SIGTERM/SIGINT
 * stop it gracefully: running reconciles finish, the lease is released.
 */
import http from "node:http";
import { KubeConfig } from "@kubernetes/client-node";
import { createLogger } from "@klagg/dataplane/obs/log";
import { parseOperatorConfig } from "./config.js";
import { Operator } from "./controller/operator.js";
import { KubeClient } from "./kube/client.js";
import { startTracing } from "./tracing.js";

const USAGE = `usage: klagg-operator

Runs the klagg operator against the current kubeconfig (KUBECONFIG or ~/.kube/config),
or in a pod with its ServiceAccount. Configuration by environment:
  KLAGG_WATCH_NAMESPACE   namespace to watch (default: all)
  KLAGG_LEASE_NAMESPACE   namespace of the leader Lease (default: POD_NAMESPACE or default)
  KLAGG_LEASE_NAME        leader Lease name (default klagg-operator-leader)
  KLAGG_OPERATOR_IDENTITY leader identity (default: POD_NAME or host_pid)
  KLAGG_METRICS_PORT      /metrics, /healthz, /readyz port (default 8080)
  KLAGG_LOG_LEVEL         debug|info|warn|error (default info)
  KLAGG_RESYNC            periodic resync (default 5m)
  KLAGG_LEASE_DURATION, KLAGG_RENEW_DEADLINE, KLAGG_RETRY_PERIOD  (15s, 10s, 2s)
  OTEL_EXPORTER_OTLP_ENDPOINT, KLAGG_TRACE_SAMPLE_RATIO          tracing (off without endpoint)
`;

async function main(): Promise<number> {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    process.stdout.write(USAGE);
    return 0;
  }
  const bootLog = createLogger("operator");
  let cfg;
  try {
    cfg = parseOperatorConfig(process.env);
  } catch (err) {
    bootLog.error("invalid configuration", { error: err as Error });
    return 2;
  }
  const log = createLogger("operator", { level: cfg.logLevel });
  const stopTracing = startTracing(cfg.otlpEndpoint, cfg.traceSampleRatio);
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const op = new Operator({
    client: new KubeClient(kc),
    leaseClient: new KubeClient(kc),
    log,
    identity: cfg.identity,
    watchNamespace: cfg.watchNamespace,
    leaseNamespace: cfg.leaseNamespace,
    leaseName: cfg.leaseName,
    leaseDurationMs: cfg.leaseDurationMs,
    renewDeadlineMs: cfg.renewDeadlineMs,
    retryPeriodMs: cfg.retryPeriodMs,
    resyncMs: cfg.resyncMs,
  });
  let synced = false;
  const server = http.createServer((req, res) => {
    if (req.url === "/metrics") {
      op.metrics.registry
        .metrics()
        .then((m) => res.writeHead(200, { "Content-Type": op.metrics.registry.contentType }).end(m))
        .catch((err: Error) => res.writeHead(500).end(err.message));
    } else if (req.url === "/healthz") {
      res.writeHead(200).end("ok");
    } else if (req.url === "/readyz") {
      res.writeHead(synced ? 200 : 503).end(synced ? "ok" : "informers not synced");
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(cfg.metricsPort, r));
  log.info("operator starting", {
    identity: cfg.identity,
    cluster: kc.getCurrentCluster()?.server,
    watchNamespace: cfg.watchNamespace ?? "(all)",
    metricsPort: cfg.metricsPort,
  });
  op.start();
  void op.waitForSync().then(() => {
    synced = true;
    log.info("informers synced");
  });
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  log.info("shutting down");
  await op.stop();
  server.close();
  await stopTracing();
  log.info("stopped");
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    createLogger("operator").error("fatal", { error: err as Error });
    process.exit(1);
  },
);
