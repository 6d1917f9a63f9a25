/**
 * A small Kubernetes REST client over node's http(s) with the kubeconfig's
 * credentials (from @kubernetes/client-node's KubeConfig). Every request goes
 * through `request`/`watch`, which count them by verb: that is how tests prove
 * that a second reconcile writes nothing, and what the request metrics report.
 */
import http from "node:http";
import https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";

/** Any Kubernetes object as JSON. */
export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { uid: string; controller?: boolean; kind: string; name: string }[];
    deletionTimestamp?: string;
  };
  [key: string]: unknown;
};

/** A list response. */
export interface KubeList<T = KubeObject> {
  metadata: { resourceVersion: string };
  items: T[];
}

/** One watch event. */
export interface WatchEvent<T = KubeObject> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: T;
}

/** A non-2xx answer of the API server. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
    this.name = "KubeApiError";
  }
}

/** Request options. */
export interface RequestOptions {
  body?: unknown;
  contentType?: string;
  query?: Record<string, string | number | boolean | undefined>;
  signal?: AbortSignal;
}

/** Observer of every request (verb = GET/LIST/WATCH/POST/PUT/PATCH/DELETE). */
export type RequestObserver = (verb: string, path: string, status: number) => void;

/** REST client bound to one cluster and user. */
export class KubeClient {
  /** Requests so far by verb; writes are POST, PUT, PATCH, DELETE. */
  readonly counts = new Map<string, number>();
  private readonly observers: RequestObserver[] = [];
  private readonly base: URL;
  private agent: http.Agent | undefined;

  constructor(private readonly kc: KubeConfig) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error("kubeconfig has no current cluster");
    this.base = new URL(cluster.server);
  }

  /** Adds a request observer (metrics, tests). */
  onRequest(fn: RequestObserver): void {
    this.observers.push(fn);
  }

  /** Number of write requests (POST, PUT, PATCH, DELETE) so far. */
  writes(): number {
    let n = 0;
    for (const v of ["POST", "PUT", "PATCH", "DELETE"]) n += this.counts.get(v) ?? 0;
    return n;
  }

  /** Performs one request and parses the JSON answer; throws KubeApiError on non-2xx. */
  async request<T = KubeObject>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.open(method, path, opts);
    const text = await readAll(res);
    this.count(method, path, res.statusCode ?? 0);
    const body: unknown = text.length > 0 ? safeJson(text) : undefined;
    if ((res.statusCode ?? 0) >= 300) throw apiError(res.statusCode ?? 0, body, `${method} ${path}`);
    return body as T;
  }

  /**
   * Streams a watch; calls `onEvent` per event and resolves when the server
   * ends the stream (timeoutSeconds) or `signal` aborts. Rejects on HTTP errors.
   */
  async watch<T = KubeObject>(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: (e: WatchEvent<T>) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const res = await this.open("GET", path, { query: { ...query, watch: true }, signal });
    this.count("WATCH", path, res.statusCode ?? 0);
    if ((res.statusCode ?? 0) >= 300) {
      const text = await readAll(res);
      throw apiError(res.statusCode ?? 0, safeJson(text), `WATCH ${path}`);
    }
    let buf = "";
    await new Promise<void>((resolve, reject) => {
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line.length === 0) continue;
          try {
            onEvent(JSON.parse(line) as WatchEvent<T>);
          } catch (err) {
            res.destroy();
            reject(err as Error);
            return;
          }
        }
      });
      res.on("end", () => resolve());
      res.on("close", () => resolve());
      res.on("error", (err) => (signal.aborted ? resolve() : reject(err)));
    });
  }

  private count(verb: string, path: string, status: number): void {
    this.counts.set(verb, (this.counts.get(verb) ?? 0) + 1);
    for (const o of this.observers) o(verb, path, status);
  }

  private async open(method: string, path: string, opts: RequestOptions): Promise<http.IncomingMessage> {
    const url = new URL(path, this.base);
    // Keep the server's path prefix (e.g. behind a proxy).
    if (this.base.pathname !== "/") url.pathname = this.base.pathname.replace(/\/$/, "") + path;
    for (const [k, v] of Object.entries(opts.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const reqOpts: https.RequestOptions = { method, headers: { Accept: "application/json" } };
    // Re-applied per request so rotated tokens (in-cluster) are picked up.
    await this.kc.applyToHTTPSOptions(reqOpts);
    reqOpts.agent = this.keepAliveAgent(reqOpts);
    let payload: string | undefined;
    if (opts.body !== undefined) {
      payload = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
      reqOpts.headers = {
        ...reqOpts.headers,
        "Content-Type": opts.contentType ?? "application/json",
        "Content-Length": Buffer.byteLength(payload),
      };
    }
    const mod = url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, { ...reqOpts, signal: opts.signal }, resolve);
      req.on("error", reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /** One keep-alive agent carrying the TLS material of the kubeconfig. */
  private keepAliveAgent(o: https.RequestOptions): http.Agent {
    if (!this.agent) {
      this.agent =
        this.base.protocol === "https:"
          ? new https.Agent({
              keepAlive: true,
              ca: o.ca,
              cert: o.cert,
              key: o.key,
              rejectUnauthorized: o.rejectUnauthorized,
              servername: o.servername,
            })
          : new http.Agent({ keepAlive: true });
    }
    return this.agent;
  }

  /** Closes pooled connections. */
  close(): void {
    this.agent?.destroy();
  }
}

function readAll(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = "";
    res.setEncoding("utf8");
    res.on("data", (c: string) => (s += c));
    res.on("end", () => resolve(s));
    res.on("error", reject);
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function apiError(status: number, body: unknown, what: string): KubeApiError {
  const st = (typeof body === "object" && body !== null ? body : {}) as { reason?: string; message?: string };
  return new KubeApiError(
    status,
    st.reason ?? String(status),
    `${what}: ${status} ${st.message ?? String(body)}`,
    body,
  );
}

/** True when `err` is a 404 from the API server. */
export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 404;
}

/** True when `err` is a 409 (conflict / already exists). */
export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 409;
}
