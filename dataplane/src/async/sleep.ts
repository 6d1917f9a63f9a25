/**
 * Timer helpers that honour an AbortSignal, shared by the dataplane's loops and
 * the operator's (leader election, informers).
 */

/**
 * Resolves after `ms`, or early (without throwing) when `signal` aborts. The
 * abort listener is removed when the timer fires: loops sleep on one signal
 * for a process's whole life, and a listener left behind per sleep would pile
 * up without bound (Node warned "11 abort listeners added").
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
