/**
 * Work queue of resource keys ("namespace/name"). A key is processed by at
 * most one worker at a time (adds during processing re-run it once after), a
 * key added many times before it runs is processed once, and failures retry
 * with per-key capped exponential backoff that resets on success.
 */

/** Backoff settings. */
export interface QueueOptions {
  concurrency: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Injected in tests. */
  setTimer?: (fn: () => void, ms: number) => { unref?: () => void };
}

/** Handles one key; throwing schedules a retry. */
export type Handler = (key: string) => Promise<void>;

/** The serialising, retrying work queue. */
export class WorkQueue {
  private readonly pending: string[] = [];
  private readonly queued = new Set<string>();
  private readonly active = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly idleWaiters: (() => void)[] = [];
  private workers = 0;
  private stopped = false;

  constructor(
    private readonly handler: Handler,
    private readonly opts: QueueOptions,
  ) {}

  /** Number of keys waiting (not counting running ones). */
  depth(): number {
    return this.pending.length;
  }

  /** Failures in a row of `key` (0 after a success). */
  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Enqueues `key` now. */
  add(key: string): void {
    if (this.stopped) return;
    if (this.active.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.pending.push(key);
    this.pump();
  }

  /** Enqueues `key` after `ms`. */
  addAfter(key: string, ms: number): void {
    const set = this.opts.setTimer ?? ((fn, d) => setTimeout(fn, d));
    set(() => this.add(key), ms).unref?.();
  }

  /** Stops taking work; resolves when running handlers finished. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    this.pending.length = 0;
    this.queued.clear();
    await this.idle();
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.workers === 0 && this.pending.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private pump(): void {
    while (this.workers < this.opts.concurrency && this.pending.length > 0) {
      const key = this.pending.shift()!;
      this.queued.delete(key);
      this.active.add(key);
      this.workers++;
      void this.process(key);
    }
  }

  private async process(key: string): Promise<void> {
    try {
      await this.handler(key);
      this.failures.delete(key);
    } catch {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      if (!this.stopped) this.addAfter(key, this.backoff(n));
    } finally {
      this.active.delete(key);
      this.workers--;
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
      if (this.workers === 0 && this.pending.length === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Delay before retry number `n` (1-based). */
  backoff(n: number): number {
    return Math.min(this.opts.baseDelayMs * 2 ** (n - 1), this.opts.maxDelayMs);
  }
}
