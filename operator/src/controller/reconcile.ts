/**
 * One reconcile of one KlineAggregator: render the desired children, apply
 * only those that differ from the cache, prune children that are no longer
 * desired, and write status only when it changed. Suspended resources get
 * their status (Suspended=True) and nothing else.
 */
import { SpanStatusCode, trace } from "@opentelemetry/api";
import type { Logger } from "@klagg/dataplane/obs/log";
import { KIND, type KlineAggregator } from "../api/types.js";
import { Applier, isUpToDate, objectKey, withSpecHash } from "../kube/apply.js";
import { isNotFound, type KubeObject } from "../kube/client.js";
import type { Informer } from "../kube/informer.js";
import {
  CHILD_TYPES,
  DEPLOYMENTS,
  KLINE_AGGREGATORS,
  STATEFUL_SETS,
  typeOf,
  type ResourceType,
} from "../kube/resources.js";
import { desiredState } from "../render/desired.js";
import { INSTANCE_LABEL, names } from "../render/names.js";
import type { EventRecorder } from "./events.js";
import { computeStatus } from "./status.js";

const tracer = trace.getTracer("klagg-operator");

/** What one reconcile did. */
export interface ReconcileResult {
  applied: string[];
  deleted: string[];
  statusWritten: boolean;
  errors: string[];
}

/** Collaborators of the reconciler. */
export interface ReconcilerDeps {
  applier: Applier;
  /** The KlineAggregator informer. */
  resources: Informer;
  /** One informer per child type, keyed by plural. */
  children: Map<string, Informer>;
  events: EventRecorder;
  log: Logger;
  now?: () => Date;
}

/** True when `obj` is controlled by the resource with `uid`. */
function ownedBy(obj: KubeObject, uid: string): boolean {
  return (obj.metadata?.ownerReferences ?? []).some(
    (r) => r.controller === true && r.kind === KIND && r.uid === uid,
  );
}

/** Reconciles KlineAggregators by key "namespace/name". */
export class Reconciler {
  constructor(private readonly d: ReconcilerDeps) {}

  private informer(t: ResourceType): Informer {
    const inf = this.d.children.get(t.plural);
    if (!inf) throw new Error(`no informer for ${t.plural}`);
    return inf;
  }

  /** Reconciles one key; throws when something must be retried. */
  async reconcile(key: string): Promise<ReconcileResult> {
    return tracer.startActiveSpan("reconcile", async (span) => {
      span.setAttribute("klagg.resource", key);
      try {
        const r = await this.run(key);
        span.setAttributes({
          "klagg.applied": r.applied.length,
          "klagg.deleted": r.deleted.length,
          "klagg.status_written": r.statusWritten,
        });
        if (r.errors.length > 0) throw new Error(r.errors.join("; "));
        return r;
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        span.end();
      }
    });
  }

  private async run(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split("/") as [string, string];
    const result: ReconcileResult = { applied: [], deleted: [], statusWritten: false, errors: [] };
    const cr = this.d.resources.get(namespace, name) as KlineAggregator | undefined;
    if (!cr) {
      // Gone: remove children whose owner no longer exists (what the garbage collector would do).
      await this.prune(namespace, name, undefined, new Set(), result);
      return result;
    }
    if (cr.metadata.deletionTimestamp) return result;
    const log = this.d.log.child({ resource: key, generation: cr.metadata.generation });
    const desired = desiredState(cr);
    const suspended = cr.spec.suspend === true;
    if (!suspended) {
      const keep = new Set<string>();
      for (const raw of desired.children) {
        const obj = withSpecHash(raw);
        keep.add(objectKey(obj));
        const t = typeOf(obj.apiVersion ?? "", obj.kind ?? "");
        const inf = this.informer(t);
        const live = inf.get(namespace, obj.metadata?.name ?? "");
        if (isUpToDate(obj, live)) continue;
        try {
          inf.upsert(await this.d.applier.apply(obj));
          result.applied.push(objectKey(obj));
          const verb = live ? "Updated" : "Created";
          log.info(`${verb.toLowerCase()} child`, { child: objectKey(obj) });
          await this.d.events.record(cr, "Normal", verb, `${verb} ${obj.kind} ${obj.metadata?.name}`);
        } catch (err) {
          result.errors.push(`${objectKey(obj)}: ${(err as Error).message}`);
          log.error("apply failed", { child: objectKey(obj), error: err as Error });
          await this.d.events.record(
            cr,
            "Warning",
            "ApplyFailed",
            `${obj.kind} ${obj.metadata?.name}: ${(err as Error).message}`,
          );
        }
      }
      await this.prune(namespace, name, cr, keep, result);
    }
    result.statusWritten = await this.writeStatus(cr, desired.shards, result.errors, suspended);
    if (result.statusWritten && suspended) log.info("suspended: children left as they are");
    return result;
  }

  /** Deletes children labelled for `name` and owned by it (or by a vanished owner) that are not in `keep`. */
  private async prune(
    namespace: string,
    name: string,
    cr: KlineAggregator | undefined,
    keep: Set<string>,
    result: ReconcileResult,
  ): Promise<void> {
    for (const t of CHILD_TYPES) {
      const inf = this.informer(t);
      const stale = inf.list(
        (o) =>
          o.metadata?.namespace === namespace &&
          o.metadata?.labels?.[INSTANCE_LABEL] === name &&
          !keep.has(objectKey(o)) &&
          (cr
            ? ownedBy(o, cr.metadata.uid)
            : (o.metadata?.ownerReferences ?? []).some((r) => r.kind === KIND)),
      );
      for (const o of stale) {
        try {
          await this.d.applier.delete(t, namespace, o.metadata?.name ?? "", o.metadata?.uid ?? "");
          inf.remove(o);
          result.deleted.push(objectKey(o));
          this.d.log.info("deleted child", { resource: `${namespace}/${name}`, child: objectKey(o) });
          if (cr)
            await this.d.events.record(cr, "Normal", "Deleted", `Deleted ${o.kind} ${o.metadata?.name}`);
        } catch (err) {
          if (isNotFound(err)) {
            inf.remove(o);
            continue;
          }
          result.errors.push(`delete ${objectKey(o)}: ${(err as Error).message}`);
        }
      }
    }
  }

  private async writeStatus(
    cr: KlineAggregator,
    shards: ReturnType<typeof desiredState>["shards"],
    errors: string[],
    suspended: boolean,
  ): Promise<boolean> {
    const ns = cr.metadata.namespace;
    const stsNames = shards.map((s) => names.workerStatefulSet(cr, s.index));
    const status = computeStatus({
      cr,
      shards,
      statefulSetNames: stsNames,
      statefulSets: stsNames.map((n) => this.informer(STATEFUL_SETS).get(ns, n)),
      gateway: this.informer(DEPLOYMENTS).get(ns, names.gateway(cr)),
      writer: this.informer(DEPLOYMENTS).get(ns, names.writer(cr)),
      assignmentConfigMap: names.assignment(cr),
      errors,
      suspended,
      now: (this.d.now?.() ?? new Date()).toISOString().replace(/\.\d{3}Z$/, "Z"),
    });
    if (JSON.stringify(status) === JSON.stringify(normalise(cr.status))) return false;
    const live = await this.d.applier.applyStatus(KLINE_AGGREGATORS, {
      apiVersion: cr.apiVersion,
      kind: cr.kind,
      metadata: { name: cr.metadata.name, namespace: ns },
      status,
    });
    this.d.resources.upsert(live);
    const prevReady = cr.status?.conditions?.find((c) => c.type === "Ready");
    const ready = status.conditions?.find((c) => c.type === "Ready");
    if (ready && prevReady?.status !== ready.status) {
      await this.d.events.record(
        cr,
        ready.status === "True" ? "Normal" : "Warning",
        ready.reason,
        ready.message,
      );
    }
    return true;
  }
}

/** Puts a stored status into the key order computeStatus produces, so equal statuses compare equal. */
function normalise(s: KlineAggregator["status"]): unknown {
  if (!s) return undefined;
  return {
    observedGeneration: s.observedGeneration,
    symbolCount: s.symbolCount,
    readyShards: s.readyShards,
    assignmentConfigMap: s.assignmentConfigMap,
    conditions: s.conditions?.map((c) => ({
      type: c.type,
      status: c.status,
      reason: c.reason,
      message: c.message,
      observedGeneration: c.observedGeneration,
      lastTransitionTime: c.lastTransitionTime,
    })),
    shards: s.shards?.map((t) => ({
      index: t.index,
      statefulSet: t.statefulSet,
      symbols: t.symbols,
      readyReplicas: t.readyReplicas,
      configHash: t.configHash,
      state: t.state,
    })),
  };
}
