/**
 * `klagg local` as a process: a signal stops everything cleanly (exit 0, no
 * worker left behind), a worker that cannot run fails the whole run (exit 1),
 * bad usage exits 2. Needs no external service (in-process snapshot bus).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { leftoverProcesses } from "../support/local-processes.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

interface Running {
  readonly proc: ChildProcess;
  readonly marker: string;
  out: string;
  err: string;
  readonly exited: Promise<number | null>;
}

function start(args: string[]): Running {
  const marker = `lifecycle-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const proc = spawn(process.execPath, [CLI, "local", ...args], {
    env: { ...process.env, KLAGG_TEST_MARKER: marker },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const r: Running = {
    proc,
    marker,
    out: "",
    err: "",
    exited: new Promise((resolve) => proc.on("exit", (code) => resolve(code))),
  };
  proc.stdout?.on("data", (b: Buffer) => (r.out += b.toString()));
  proc.stderr?.on("data", (b: Buffer) => (r.err += b.toString()));
  return r;
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: timeout`)), ms)),
  );
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitForOutput(r: Running, re: RegExp, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!re.test(r.out)) {
    if (Date.now() > end)
      throw new Error(`no output matching ${re} within ${ms}ms; stderr:\n${r.err.slice(-2000)}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

for (const sig of ["SIGTERM", "SIGINT"] as const) {
  test(`${sig} stops the synthetic demo cleanly: exit 0 and no worker process left`, async () => {
    const r = start(["--source", "synthetic", "--workers", "2", "--view", "lines", "--log-level", "info"]);
    try {
      // A line listing symbols means workers, gateway, bus and view all work.
      await waitForOutput(r, /seq=\d+ 1m: [A-Z]+USDT=/, 20_000);
      const before = await leftoverProcesses(r.marker);
      assert.ok(before.length >= 3, `expected klagg local plus 2 workers, found ${before.length} processes`);
      r.proc.kill(sig);
      const code = await within(r.exited, 20_000, "exit after the signal");
      assert.equal(code, 0, r.err.slice(-2000));
      assert.deepEqual(await leftoverProcesses(r.marker), []);
      assert.match(r.err, /\[worker-0\] .*"msg":"worker stopped"/);
      assert.match(r.err, /\[worker-1\] .*"msg":"worker stopped"/);
    } finally {
      r.proc.kill("SIGKILL");
    }
  });
}

test("workers stop by themselves when klagg local is killed with SIGKILL (no orphans)", async () => {
  const r = start(["--source", "synthetic", "--workers", "2", "--view", "lines", "--log-level", "info"]);
  try {
    await waitForOutput(r, /seq=\d+ 1m: [A-Z]+USDT=/, 20_000);
    r.proc.kill("SIGKILL");
    await within(r.exited, 5000, "klagg local killed");
    const end = Date.now() + 15_000;
    let left = await leftoverProcesses(r.marker);
    while (left.length > 0 && Date.now() < end) {
      await new Promise((res) => setTimeout(res, 100));
      left = await leftoverProcesses(r.marker);
    }
    assert.deepEqual(left, [], "workers outlived their parent");
  } finally {
    r.proc.kill("SIGKILL");
    for (const pid of await leftoverProcesses(r.marker)) process.kill(pid, "SIGKILL");
  }
});

test("a worker that cannot start fails the run with exit 1 and leaves nothing behind", async () => {
  const r = start(["--source", "replay:/nonexistent/klagg-missing.gz", "--workers", "2", "--view", "none"]);
  try {
    const code = await within(r.exited, 30_000, "exit after the worker failed");
    assert.equal(code, 1, r.err.slice(-2000));
    assert.match(r.err, /worker exited unexpectedly|exited during startup/);
    assert.deepEqual(await leftoverProcesses(r.marker), []);
  } finally {
    r.proc.kill("SIGKILL");
  }
});

test("bad usage exits 2 with a message naming the flag", async () => {
  const r = start(["--workers", "zero"]);
  assert.equal(await within(r.exited, 10_000, "usage error"), 2);
  assert.match(r.err, /--workers "zero"/);
  const r2 = start(["--source", "synthetic", "--exit-when-done"]);
  assert.equal(await within(r2.exited, 10_000, "usage error"), 2);
  assert.match(r2.err, /--exit-when-done only makes sense with --source replay/);
});
