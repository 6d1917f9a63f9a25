/**
 * Prometheus metrics: one prom-client registry per process and a small HTTP
 * server exposing `/metrics` (Prometheus text format) and `/healthz`
 * (200 while the process reports healthy, 503 otherwise, e.g. during shutdown).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { collectDefaultMetrics, Registry } from "prom-client";
import type { Logger } from "./log.js";

/** A fresh registry with Node's default process metrics, labelled with the service name. */
export function createRegistry(service: string, defaultMetrics = true): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (defaultMetrics) collectDefaultMetrics({ register: registry });
  return registry;
}

/** Settings of the metrics HTTP server. */
export interface MetricsServerOptions {
  readonly registry: Registry;
  readonly host: string;
  /** 0 = any free port (see `port` after start). */
  readonly port: number;
  /** Answer for /healthz; defaults to always healthy. */
  readonly healthy?: () => boolean;
  readonly log?: Logger;
}

/** Serves /metrics and /healthz; `start()` binds, `stop()` closes. */
export class MetricsServer {
  private server: Server | undefined;
  private boundPort = 0;

  constructor(private readonly opts: MetricsServerOptions) {}

  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<number> {
    const server = createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405).end();
      } else if (path === "/metrics") {
        this.opts.registry.metrics().then(
          (text) => res.writeHead(200, { "content-type": this.opts.registry.contentType }).end(text),
          (err: unknown) => {
            this.opts.log?.error("metrics collection failed", { err });
            res.writeHead(500).end(String(err));
          },
        );
      } else if (path === "/healthz") {
        const ok = this.opts.healthy?.() ?? true;
        res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" }).end(ok ? "ok\n" : "not ready\n");
      } else {
        res.writeHead(404).end();
      }
    });
    // Scrapers keep connections alive; never let them hold up shutdown.
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.server = server;
    this.boundPort = (server.address() as AddressInfo).port;
    this.opts.log?.info("metrics server listening", { host: this.opts.host, port: this.boundPort });
    return this.boundPort;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
