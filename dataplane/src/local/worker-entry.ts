/**
 * Entry point `klagg local` starts its workers with: `node worker-entry.js
 * worker`. It runs the normal CLI, plus a parent watchdog: the parent holds
 * the write end of this process's stdin, so when the parent dies in any way
 * (even SIGKILL, which it cannot handle), stdin reaches EOF here and the worker
 * stops itself gracefully instead of running on as an orphan.
 */
process.stdin.on("end", () => process.kill(process.pid, "SIGTERM"));
process.stdin.on("error", () => process.kill(process.pid, "SIGTERM"));
process.stdin.resume();
// The watchdog must not keep a finished worker alive.
process.stdin.unref?.();

await import("../cli/main.js");
