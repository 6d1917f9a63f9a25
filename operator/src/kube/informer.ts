/**
 * List+watch cache of one resource type. Restarts the watch where it ended,
 * re-lists after errors (410 Gone included) with capped exponential backoff,
 * and replays every cached object on a periodic resync so nothing depends on a
 * single missed event.
 */
import type { Logger } from "@klagg/dataplane/obs/log";
import { KubeApiError, type KubeClient, type KubeList, type KubeObject, type WatchEvent } from "./client.js";
import { pathOf, type ResourceType } from "./resources.js";
import { abortableSleep } from "@klagg/dataplane/async/sleep";

/** What the informer reports. RESYNC replays a cached object. */
export type InformerEventType = "ADDED" | "MODIFIED" | "DELETED" | "RESYNC";

/** Informer options. */
export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  resyncMs: number;
  /** Server-side watch timeout; the watch is re-opened after it. */
  watchTimeoutSeconds?: number;
  log: Logger;
  onEvent: (type: InformerEventType, obj: KubeObject) => void;
  onError?: (err: unknown) => void;
}

const key = (o: KubeObject) => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;

/** Resource versions compare as integers on etcd-backed servers; otherwise we cannot tell, so "newer". */
function isOlder(a: KubeObject, b: KubeObject): boolean {
  const x = a.metadata?.resourceVersion;
  const y = b.metadata?.resourceVersion;
  if (!x || !y || !/^\d+$/.test(x) || !/^\d+$/.test(y)) return false;
  return BigInt(x) < BigInt(y);
}

/** Cache of one resource type kept current by list+watch. */
export class Informer {
  private readonly store = new Map<string, KubeObject>();
  private synced = false;
  private readonly syncWaiters: (() => void)[] = [];
  private running: Promise<void> | undefined;

  constructor(
    private readonly client: KubeClient,
    readonly type: ResourceType,
    private readonly opts: InformerOptions,
  ) {}

  /** Starts list+watch until `signal` aborts. */
  start(signal: AbortSignal): void {
    this.running ??= this.run(signal);
  }

  /** Resolves once the first list has filled the cache. */
  waitForSync(): Promise<void> {
    return this.synced ? Promise.resolve() : new Promise((r) => this.syncWaiters.push(r));
  }

  /** Resolves when the loop has ended (after abort). */
  async stopped(): Promise<void> {
    await this.running;
  }

  get(namespace: string, name: string): KubeObject | undefined {
    return this.store.get(`${namespace}/${name}`);
  }

  list(filter: (o: KubeObject) => boolean = () => true): KubeObject[] {
    return [...this.store.values()].filter(filter);
  }

  /** Puts a fresher object (e.g. an apply response) into the cache, unless the cache already has newer. */
  upsert(obj: KubeObject): void {
    const old = this.store.get(key(obj));
    if (!old || !isOlder(obj, old)) this.store.set(key(obj), obj);
  }

  /** Forgets an object we deleted. */
  remove(obj: KubeObject): void {
    this.store.delete(key(obj));
  }

  private async run(signal: AbortSignal): Promise<void> {
    const resync = setInterval(() => {
      for (const o of this.store.values()) this.opts.onEvent("RESYNC", o);
    }, this.opts.resyncMs);
    resync.unref();
    let backoff = 200;
    try {
      while (!signal.aborted) {
        try {
          let rv = await this.relist(signal);
          backoff = 200;
          // Watch until the server says the version is gone (410) or something fails.
          while (!signal.aborted) {
            rv = await this.watchOnce(rv, signal);
          }
        } catch (err) {
          if (signal.aborted) break;
          this.opts.onError?.(err);
          this.opts.log.warn("informer restarting", {
            resource: this.type.plural,
            error: (err as Error).message,
            backoffMs: backoff,
          });
          await abortableSleep(backoff, signal);
          backoff = Math.min(backoff * 2, 30_000);
        }
      }
    } finally {
      clearInterval(resync);
    }
  }

  private async relist(signal: AbortSignal): Promise<string> {
    const list = await this.client.request<KubeList>("GET", pathOf(this.type, this.opts.namespace), {
      query: { labelSelector: this.opts.labelSelector },
      signal,
    });
    const seen = new Set<string>();
    for (const item of list.items) {
      const o: KubeObject = {
        ...item,
        apiVersion: this.type.group ? `${this.type.group}/${this.type.version}` : this.type.version,
        kind: this.type.kind,
      };
      seen.add(key(o));
      const old = this.store.get(key(o));
      this.store.set(key(o), o);
      if (old?.metadata?.resourceVersion !== o.metadata?.resourceVersion) {
        this.opts.onEvent(old ? "MODIFIED" : "ADDED", o);
      }
    }
    for (const [k, o] of this.store) {
      if (!seen.has(k)) {
        this.store.delete(k);
        this.opts.onEvent("DELETED", o);
      }
    }
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
    return list.metadata.resourceVersion;
  }

  /** One watch call; returns the last resource version seen. Throws on 410 so the caller re-lists. */
  private async watchOnce(rv: string, signal: AbortSignal): Promise<string> {
    let last = rv;
    await this.client.watch(
      pathOf(this.type, this.opts.namespace),
      {
        resourceVersion: rv,
        allowWatchBookmarks: true,
        labelSelector: this.opts.labelSelector,
        timeoutSeconds: this.opts.watchTimeoutSeconds ?? 300,
      },
      (e: WatchEvent) => {
        if (e.type === "ERROR") {
          const st = e.object as { code?: number; message?: string };
          throw new KubeApiError(st.code ?? 500, "WatchError", `watch error: ${st.message ?? "unknown"}`, st);
        }
        last = e.object.metadata?.resourceVersion ?? last;
        if (e.type === "BOOKMARK") return;
        if (e.type === "DELETED") {
          this.store.delete(key(e.object));
        } else {
          this.upsert(e.object);
        }
        this.opts.onEvent(e.type, e.object);
      },
      signal,
    );
    return last;
  }
}
