/** A wait the operator's loops (leader election, informers) can cut short. */

/**
 * Resolves after `ms`, or early (without throwing) when `signal` aborts. The
 * abort listener is removed when the timer fires: these loops sleep on one
 * signal for the operator's whole life, and a listener left behind per sleep
 * would pile up without bound (Node warned "11 abort listeners added").
 */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal.addEventListener("abort", done, { once: true });
  });
}
