import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { waitFor, WsReplayServer } from "../../test/support/ws-replay-server.js";
import { WsConnection, type ConnectionEvents } from "./ws-connection.js";

const timings = {
  livenessTimeoutMs: 5000,
  pingIntervalMs: 1000,
  handshakeTimeoutMs: 2000,
  maxPayloadBytes: 1 << 20,
};

function recorder(): ConnectionEvents & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    onOpen: () => log.push("open"),
    onMessage: (_c, text) => log.push(`msg ${text}`),
    onClose: (_c, code, why) => log.push(`close ${code} ${why}`),
  };
}

describe("WsConnection", () => {
  it("opens, passes messages on as text and reports a requested close once", async () => {
    const srv = await WsReplayServer.start({ messages: ['{"stream":"a@trade","data":{}}'] });
    const ev = recorder();
    const c = new WsConnection(1, `${srv.baseUrl}/stream?streams=a@trade`, timings, ev);
    await waitFor(() => ev.log.length >= 2, "open and message");
    c.close("stopped");
    await waitFor(() => ev.log.some((l) => l.startsWith("close")), "close");
    await srv.close();
    assert.deepEqual(ev.log, ["open", 'msg {"stream":"a@trade","data":{}}', "close 1000 stopped"]);
    assert.equal(c.opened, true);
  });

  it("reports a failed connection attempt as a close without an open", async () => {
    const srv = await WsReplayServer.start({ messages: [] });
    const url = srv.baseUrl;
    await srv.close();
    const ev = recorder();
    new WsConnection(2, url, timings, ev);
    await waitFor(() => ev.log.length === 1, "close");
    assert.match(ev.log[0] ?? "", /^close 1006 error: .*ECONNREFUSED/);
  });
});
