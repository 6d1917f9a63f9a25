/**
 * Leader election on a coordination.k8s.io/v1 Lease. Acquire: create the
 * Lease, or take it over when its holder stopped renewing for longer than
 * leaseDuration; every update carries the read resourceVersion, so two
 * candidates can never both win (the loser gets 409 Conflict). The leader
 * renews every retryPeriod; when renewing fails for longer than renewDeadline
 * it steps down (onStoppedLeading), so at most one operator reconciles.
 * On graceful stop the leader releases the lease (holder cleared) so a
 * successor takes over at once.
 */
import type { Logger } from "@klagg/dataplane/obs/log";
import { isConflict, isNotFound, type KubeClient, type KubeObject } from "./client.js";
import { LEASES, pathOf } from "./resources.js";
import { abortableSleep } from "@klagg/dataplane/async/sleep";

/** Leader election settings. */
export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  log: Logger;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  now?: () => Date;
}

interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}

type Lease = KubeObject & { spec?: LeaseSpec };

/** MicroTime as the API wants it (RFC 3339 with microseconds). */
function microTime(d: Date): string {
  return d.toISOString().replace("Z", "000Z");
}

/** Campaigns for and holds one Lease. */
export class LeaderElector {
  private leading = false;
  private lastRenew = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly o: LeaderElectionOptions,
  ) {}

  isLeader(): boolean {
    return this.leading;
  }

  /** Runs until `signal` aborts; then releases the lease if held. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let ok = false;
      try {
        ok = await this.tryAcquireOrRenew();
      } catch (err) {
        this.o.log.warn("lease update failed", { lease: this.o.name, error: (err as Error).message });
      }
      const now = Date.now();
      if (ok) {
        this.lastRenew = now;
        if (!this.leading) {
          this.leading = true;
          this.o.log.info("became leader", { lease: this.o.name, identity: this.o.identity });
          this.o.onStartedLeading();
        }
      } else if (this.leading && now - this.lastRenew > this.o.renewDeadlineMs) {
        this.leading = false;
        this.o.log.warn("lost leadership", { lease: this.o.name, identity: this.o.identity });
        this.o.onStoppedLeading();
      }
      await abortableSleep(this.o.retryPeriodMs, signal);
    }
    if (this.leading) {
      this.leading = false;
      await this.release().catch((err: Error) =>
        this.o.log.warn("lease release failed", { error: err.message }),
      );
      this.o.onStoppedLeading();
    }
  }

  private now(): Date {
    return this.o.now?.() ?? new Date();
  }

  private path(name?: string): string {
    return pathOf(LEASES, this.o.namespace, name);
  }

  /** One attempt; true when we hold the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.now();
    let lease: Lease;
    try {
      lease = await this.client.request<Lease>("GET", this.path(this.o.name));
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await this.client.request("POST", this.path(), {
          body: {
            apiVersion: "coordination.k8s.io/v1",
            kind: "Lease",
            metadata: { name: this.o.name, namespace: this.o.namespace },
            spec: this.spec(now, now, 0),
          },
        });
        return true;
      } catch (e) {
        if (isConflict(e)) return false;
        throw e;
      }
    }
    const s = lease.spec ?? {};
    const holder = s.holderIdentity ?? "";
    const renew = s.renewTime ? Date.parse(s.renewTime) : 0;
    const expired = renew + (s.leaseDurationSeconds ?? 0) * 1000 < now.getTime();
    if (holder !== this.o.identity && holder !== "" && !expired) return false;
    const taking = holder !== this.o.identity;
    const acquire = taking ? now : s.acquireTime ? new Date(Date.parse(s.acquireTime)) : now;
    const transitions = (s.leaseTransitions ?? 0) + (taking ? 1 : 0);
    try {
      await this.client.request("PUT", this.path(this.o.name), {
        body: { ...lease, spec: this.spec(now, acquire, transitions) },
      });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  private spec(now: Date, acquire: Date, transitions: number): LeaseSpec {
    return {
      holderIdentity: this.o.identity,
      leaseDurationSeconds: Math.ceil(this.o.leaseDurationMs / 1000),
      acquireTime: microTime(acquire),
      renewTime: microTime(now),
      leaseTransitions: transitions,
    };
  }

  /** Clears the holder so the next candidate need not wait for expiry. */
  private async release(): Promise<void> {
    const lease = await this.client.request<Lease>("GET", this.path(this.o.name));
    if (lease.spec?.holderIdentity !== this.o.identity) return;
    await this.client.request("PUT", this.path(this.o.name), {
      body: { ...lease, spec: { ...lease.spec, holderIdentity: null, renewTime: microTime(this.now()) } },
    });
  }
}
