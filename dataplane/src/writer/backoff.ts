/**
 * Capped exponential backoff with jitter for ClickHouse retries. Pure: the
 * random source is passed in.
 */

/** Backoff parameters. */
export interface BackoffPolicy {
  /** Delay before the first retry (before jitter). */
  readonly baseMs: number;
  /** Upper bound of any delay. */
  readonly capMs: number;
}

/**
 * The delay before retry number `attempt` (0 = first retry): the exponential
 * step min(cap, base * 2^attempt), of which a random half is jitter, so a
 * fleet of writers that failed together does not retry in lockstep, yet never
 * retries sooner than half the step.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(exp / 2 + (exp / 2) * r);
}
