/**
 * The operator: informers on KlineAggregators and on every child kind, a work
 * queue that serialises each resource, and the reconciler; all of it runs
 * only while this instance holds the leader lease. Informers start at once
 * (a warm cache makes failover fast), reconciling starts on leadership and
 * stops when it is lost.
 */
import type { Logger } from "@klagg/dataplane/obs/log";
import { KIND } from "../api/types.js";
import { Applier } from "../kube/apply.js";
import type { KubeClient, KubeObject } from "../kube/client.js";
import { Informer } from "../kube/informer.js";
import { LeaderElector } from "../kube/leader.js";
import { CHILD_TYPES, KLINE_AGGREGATORS } from "../kube/resources.js";
import { MANAGED_BY_LABEL, FIELD_MANAGER } from "../render/names.js";
import { KubeEventRecorder } from "./events.js";
import { OperatorMetrics } from "./metrics.js";
import { WorkQueue } from "./queue.js";
import { Reconciler, type ReconcileResult } from "./reconcile.js";

/** Operator settings. */
export interface OperatorOptions {
  client: KubeClient;
  /** A separate client for the lease, so lease renewals never mix with reconcile traffic. */
  leaseClient: KubeClient;
  log: Logger;
  identity: string;
  /** Watch only this namespace (undefined = all). */
  watchNamespace?: string;
  leaseNamespace: string;
  leaseName?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  resyncMs?: number;
  concurrency?: number;
  metrics?: OperatorMetrics;
  /** Called after every reconcile (tests). */
  onReconciled?: (key: string, r: ReconcileResult | Error) => void;
}

/** One running operator instance. */
export class Operator {
  readonly metrics: OperatorMetrics;
  readonly resources: Informer;
  readonly children = new Map<string, Informer>();
  readonly elector: LeaderElector;
  private readonly reconciler: Reconciler;
  private queue: WorkQueue | undefined;
  private readonly ac = new AbortController();
  private electing: Promise<void> | undefined;

  constructor(private readonly o: OperatorOptions) {
    this.metrics = o.metrics ?? new OperatorMetrics();
    for (const c of [o.client, o.leaseClient]) {
      c.onRequest((verb, _path, code) => this.metrics.apiRequests.inc({ verb, code: String(code) }));
    }
    const resync = o.resyncMs ?? 5 * 60_000;
    const enqueueOwner = (_t: string, obj: KubeObject) => {
      const owner = (obj.metadata?.ownerReferences ?? []).find((r) => r.controller && r.kind === KIND);
      if (owner) this.enqueue(`${obj.metadata?.namespace}/${owner.name}`);
    };
    this.resources = new Informer(o.client, KLINE_AGGREGATORS, {
      namespace: o.watchNamespace,
      resyncMs: resync,
      log: o.log,
      onEvent: (_t, obj) => this.enqueue(`${obj.metadata?.namespace}/${obj.metadata?.name}`),
    });
    for (const t of CHILD_TYPES) {
      this.children.set(
        t.plural,
        new Informer(o.client, t, {
          namespace: o.watchNamespace,
          labelSelector: `${MANAGED_BY_LABEL}=${FIELD_MANAGER}`,
          // Children are re-checked through their owner's resync; their own resync adds nothing.
          resyncMs: resync * 10,
          log: o.log,
          onEvent: enqueueOwner,
        }),
      );
    }
    this.reconciler = new Reconciler({
      applier: new Applier(o.client),
      resources: this.resources,
      children: this.children,
      events: new KubeEventRecorder(o.client, o.identity, o.log),
      log: o.log,
    });
    this.elector = new LeaderElector(o.leaseClient, {
      namespace: o.leaseNamespace,
      name: o.leaseName ?? "klagg-operator-leader",
      identity: o.identity,
      leaseDurationMs: o.leaseDurationMs ?? 15_000,
      renewDeadlineMs: o.renewDeadlineMs ?? 10_000,
      retryPeriodMs: o.retryPeriodMs ?? 2_000,
      log: o.log,
      onStartedLeading: () => void this.startLeading(),
      onStoppedLeading: () => void this.stopLeading(),
    });
  }

  /** Starts informers and the leader campaign. */
  start(): void {
    this.resources.start(this.ac.signal);
    for (const inf of this.children.values()) inf.start(this.ac.signal);
    this.electing = this.elector.run(this.ac.signal);
  }

  /** The client reconciles go through (tests count its requests). */
  get client(): KubeClient {
    return this.o.client;
  }

  /** True while this instance reconciles. */
  isLeader(): boolean {
    return this.elector.isLeader();
  }

  /** Resolves when every informer has listed once. */
  async waitForSync(): Promise<void> {
    await Promise.all([
      this.resources.waitForSync(),
      ...[...this.children.values()].map((i) => i.waitForSync()),
    ]);
  }

  /** Resolves when the queue is empty and nothing runs (tests). */
  async idle(): Promise<void> {
    await this.queue?.idle();
  }

  /** Runs one reconcile of `key` directly, outside the queue (tests count its requests). */
  reconcileNow(key: string): Promise<ReconcileResult> {
    return this.reconciler.reconcile(key);
  }

  private enqueue(key: string): void {
    if (!this.queue) return;
    this.queue.add(key);
    this.metrics.queueDepth.set(this.queue.depth());
  }

  private async startLeading(): Promise<void> {
    this.metrics.leader.set(1);
    await this.waitForSync();
    if (!this.elector.isLeader() || this.ac.signal.aborted) return;
    this.queue = new WorkQueue(
      async (key) => {
        const end = this.metrics.reconcileSeconds.startTimer();
        try {
          const r = await this.reconciler.reconcile(key);
          this.metrics.reconciles.inc({ result: "success" });
          this.metrics.childWrites.inc({ action: "apply" }, r.applied.length);
          this.metrics.childWrites.inc({ action: "delete" }, r.deleted.length);
          this.o.onReconciled?.(key, r);
        } catch (err) {
          this.metrics.reconciles.inc({ result: "error" });
          this.o.log.error("reconcile failed", { resource: key, error: err as Error });
          this.o.onReconciled?.(key, err as Error);
          throw err;
        } finally {
          end();
          this.metrics.queueDepth.set(this.queue?.depth() ?? 0);
        }
      },
      { concurrency: this.o.concurrency ?? 2, baseDelayMs: 250, maxDelayMs: 60_000 },
    );
    for (const cr of this.resources.list()) this.enqueue(`${cr.metadata?.namespace}/${cr.metadata?.name}`);
  }

  private async stopLeading(): Promise<void> {
    this.metrics.leader.set(0);
    const q = this.queue;
    this.queue = undefined;
    await q?.shutdown();
  }

  /** Graceful stop: finish running reconciles, release the lease, stop informers. */
  async stop(): Promise<void> {
    await this.stopLeading();
    this.ac.abort();
    await this.electing;
    await Promise.all([this.resources.stopped(), ...[...this.children.values()].map((i) => i.stopped())]);
    this.o.client.close();
    this.o.leaseClient.close();
  }
}
