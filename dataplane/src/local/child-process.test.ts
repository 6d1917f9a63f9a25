import { test } from "node:test";
import assert from "node:assert/strict";
import { SupervisedChild } from "./child-process.js";
import { freeLoopbackPorts, waitForPort } from "./free-port.js";

function child(script: string, lines: string[]): SupervisedChild {
  return new SupervisedChild({
    name: "c",
    command: process.execPath,
    args: ["-e", script],
    env: process.env,
    onLine: (l) => lines.push(l),
  });
}

test("output lines are forwarded with the child's name as prefix", async () => {
  const lines: string[] = [];
  const c = child("console.error('hello'); console.log('out')", lines);
  assert.deepEqual(await c.exited, { code: 0, signal: null });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(lines.sort(), ["[c] hello", "[c] out"]);
});

test("stop sends SIGTERM and a child that handles it exits on its own", async () => {
  const lines: string[] = [];
  const c = child(
    "process.on('SIGTERM', () => { console.log('bye'); process.exit(0) }); setInterval(() => {}, 1000); console.log('up')",
    lines,
  );
  while (!lines.includes("[c] up")) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(await c.stop(5000), { code: 0, signal: null });
  assert.ok(lines.includes("[c] bye"));
});

test("stop escalates to SIGKILL when the child ignores SIGTERM", async () => {
  const lines: string[] = [];
  const c = child("process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); console.log('up')", lines);
  while (!lines.includes("[c] up")) await new Promise((r) => setTimeout(r, 10));
  const exit = await c.stop(200);
  assert.equal(exit.signal, "SIGKILL");
});

test("waitForPort gives up when the process behind the port is gone", async () => {
  const [port] = await freeLoopbackPorts(1);
  await assert.rejects(
    waitForPort("127.0.0.1", port!, 5000, () => "worker exited"),
    /worker exited/,
  );
  await assert.rejects(
    waitForPort("127.0.0.1", port!, 60, () => undefined),
    /nothing listens/,
  );
});
