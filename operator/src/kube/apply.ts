/**
 * The ONE write path for children: server-side apply with the fixed field
 * manager `klagg-operator` (force: the operator owns what it renders), plus
 * the "is it already so?" check that makes an unchanged reconcile write
 * nothing. A child is re-applied when the hash of its desired form changed
 * (so fields dropped from the desired form get removed by SSA) or when the
 * live object no longer contains the desired fields (drift: edited by hand).
 */
import { createHash } from "node:crypto";
import { FIELD_MANAGER, SPEC_HASH_ANNOTATION } from "../render/names.js";
import { KubeClient, type KubeObject } from "./client.js";
import { pathOf, typeOf, type ResourceType } from "./resources.js";

/** Returns a copy of `obj` carrying the hash of its own desired form. */
export function withSpecHash(obj: KubeObject): KubeObject {
  const hash = createHash("sha256").update(JSON.stringify(obj)).digest("hex").slice(0, 16);
  const meta = obj.metadata ?? {};
  return {
    ...obj,
    metadata: { ...meta, annotations: { ...meta.annotations, [SPEC_HASH_ANNOTATION]: hash } },
  };
}

/** True when `live` already is `desired` (hash equal and every desired field present with its value). */
export function isUpToDate(desired: KubeObject, live: KubeObject | undefined): boolean {
  if (!live) return false;
  const want = desired.metadata?.annotations?.[SPEC_HASH_ANNOTATION];
  if (want === undefined || live.metadata?.annotations?.[SPEC_HASH_ANNOTATION] !== want) return false;
  return isSubset(desired, live, "");
}

const QUANTITY = /^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const MULT: Record<string, number> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** Value of a resource quantity (the API server rewrites "0.5" as "500m"); not for money. */
export function quantityValue(q: string | number): number | undefined {
  if (typeof q === "number") return q;
  const m = QUANTITY.exec(q);
  return m ? Number(m[1]) * MULT[m[2] ?? ""]! : undefined;
}

/**
 * Semantic "desired ⊆ live": objects compare key by key (extra live keys are
 * server defaults and ignored), arrays element by element with equal length,
 * quantities under requests/limits by value, scalars strictly.
 */
export function isSubset(want: unknown, have: unknown, key: string, containerKey = ""): boolean {
  if (want === undefined) return true;
  if (Array.isArray(want)) {
    return (
      Array.isArray(have) &&
      have.length === want.length &&
      want.every((w, i) => isSubset(w, have[i], key, containerKey))
    );
  }
  if (want !== null && typeof want === "object") {
    if (have === null || typeof have !== "object" || Array.isArray(have)) return false;
    const h = have as Record<string, unknown>;
    return Object.entries(want as Record<string, unknown>).every(([k, v]) => isSubset(v, h[k], k, key));
  }
  if ((containerKey === "requests" || containerKey === "limits") && have !== undefined) {
    const a = quantityValue(want as string | number);
    const b = quantityValue(have as string | number);
    if (a !== undefined && b !== undefined) return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));
  }
  return want === have;
}

/** Identity of an object for maps and logs: `Kind/namespace/name`. */
export function objectKey(o: KubeObject): string {
  return `${o.kind ?? "?"}/${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
}

/** Server-side apply and delete through one client and one field manager. */
export class Applier {
  constructor(
    private readonly client: KubeClient,
    readonly fieldManager: string = FIELD_MANAGER,
  ) {}

  /** Applies `obj` (apiVersion, kind, metadata.name/namespace required); returns the live object. */
  async apply(obj: KubeObject): Promise<KubeObject> {
    const t = typeOf(obj.apiVersion ?? "", obj.kind ?? "");
    return this.client.request("PATCH", pathOf(t, obj.metadata?.namespace, obj.metadata?.name), {
      body: obj,
      contentType: "application/apply-patch+yaml",
      query: { fieldManager: this.fieldManager, force: true },
    });
  }

  /** Applies the status subresource of `obj`. */
  async applyStatus(t: ResourceType, obj: KubeObject): Promise<KubeObject> {
    return this.client.request("PATCH", pathOf(t, obj.metadata?.namespace, obj.metadata?.name, "status"), {
      body: obj,
      contentType: "application/apply-patch+yaml",
      query: { fieldManager: this.fieldManager, force: true },
    });
  }

  /** Deletes one object, only if it still has `uid` (never a same-named successor). */
  async delete(t: ResourceType, namespace: string, name: string, uid: string): Promise<void> {
    await this.client.request("DELETE", pathOf(t, namespace, name), {
      body: {
        apiVersion: "v1",
        kind: "DeleteOptions",
        propagationPolicy: "Background",
        preconditions: { uid },
      },
    });
  }
}
