import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { once } from "node:events";
import type { ConnectionOptions } from "node:tls";
import { kafkaSaslOption, SocketTracker } from "./client-support.js";

/** What kafkajs passes as `ssl` when TLS is not configured (its type says the option is always there). */
const NO_TLS = undefined as unknown as ConnectionOptions;

/** Opens a socket through the tracker's factory (as kafkajs does) and waits until it is connected. */
async function open(t: SocketTracker, port: number): Promise<Socket> {
  let connected!: () => void;
  const ready = new Promise<void>((resolve) => (connected = resolve));
  const s = t.factory({ host: "127.0.0.1", port, ssl: NO_TLS, onConnect: () => connected() });
  await ready;
  return s;
}

test("a stopped client's tracker destroys the sockets left open, and any socket opened after", async () => {
  const server = createServer((c) => c.on("error", () => undefined));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  try {
    const t = new SocketTracker();
    const ended = await open(t, port);
    const leaked = await open(t, port);
    ended.end(); // what kafkajs' disconnect() does to the socket it still knows about
    const errors: string[] = [];
    // kafkajs listens for errors on every socket it opens.
    ended.on("error", () => undefined);
    leaked.on("error", (e: Error) => errors.push(e.message));
    const closed = new Promise((resolve) => leaked.once("close", resolve));
    assert.equal(t.destroyAll(), 1, "only the socket nobody ended counts as leaked");
    await closed;
    assert.ok(ended.destroyed && leaked.destroyed);
    // With an error: kafkajs ignores "close", so only an error makes its connection mark itself disconnected.
    assert.deepEqual(errors, ["kafka client stopped"]);
    const late = t.factory({ host: "127.0.0.1", port, ssl: NO_TLS, onConnect: () => undefined });
    const [err] = (await once(late, "error")) as [Error];
    assert.equal(err.message, "kafka client stopped");
    assert.ok(late.destroyed);
  } finally {
    server.close();
  }
});

test("SASL settings go to kafkajs only when credentials are configured", () => {
  assert.deepEqual(kafkaSaslOption(undefined), {});
  assert.deepEqual(kafkaSaslOption({ mechanism: "scram-sha-256", username: "u", password: "p" }), {
    sasl: { mechanism: "scram-sha-256", username: "u", password: "p" },
  });
});
