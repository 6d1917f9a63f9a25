/** Finds free TCP ports on the loopback interface for the workers `klagg local` starts. */
import { createServer } from "node:net";

/**
 * Returns `n` distinct ports that were free a moment ago. (A port could be
 * taken between this check and the worker binding it; the worker then fails
 * to start and `klagg local` reports it.)
 */
export async function freeLoopbackPorts(n: number, host = "127.0.0.1"): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const s = createServer();
          s.once("error", reject);
          s.listen(0, host, () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const a = s.address();
    if (a === null || typeof a === "string") throw new Error("unexpected server address");
    return a.port;
  });
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

/**
 * Resolves once a TCP connection to host:port succeeds (the worker's gRPC
 * server is listening), polling every 50 ms; rejects after `timeoutMs` or when
 * `gaveUp()` says the process behind it is gone.
 */
export async function waitForPort(
  host: string,
  port: number,
  timeoutMs: number,
  gaveUp: () => string | undefined,
): Promise<void> {
  const { connect } = await import("node:net");
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect({ host, port });
      sock.once("connect", () => {
        sock.destroy();
        resolve(true);
      });
      sock.once("error", () => {
        sock.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    const why = gaveUp();
    if (why !== undefined) throw new Error(why);
    if (Date.now() > end) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
