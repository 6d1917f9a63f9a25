/**
 * kafkajs support shared by the gateway's producer and the writer's consumer
 * (adapter code: it imports kafkajs types): SASL settings from the parsed
 * config, and a socket factory that lets a client close every socket it opened.
 */
import { connect as netConnect, isIP, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { ISocketFactory, SASLOptions } from "kafkajs";
import type { KafkaSasl } from "../config/connections.js";

/** The `sasl` part of a kafkajs client config (nothing without credentials). */
export function kafkaSaslOption(sasl: KafkaSasl | undefined): { sasl?: SASLOptions } {
  return sasl === undefined
    ? {}
    : {
        sasl: { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } as SASLOptions,
      };
}

/**
 * Creates kafkajs' sockets (as its default factory does) and keeps the open ones, so that a client can close
 * every socket it opened when it stops. Needed because kafkajs 2.2.4 leaks sockets after a broker restart: its
 * `Connection.connect()` is not guarded against concurrent calls, so when several callers reconnect at once (the
 * writer's log shows two interleaved seed-broker retry loops during the restart), each opens a socket and the
 * connection keeps only the last one. The others stay open and referenced, and `disconnect()` (which ends and
 * unrefs only the kept one) never closes them: the process of a writer that stopped gracefully never exited
 * (seen with the inspector: one open socket to the broker, then a request-timeout interval of such a connection).
 */
export class SocketTracker {
  private readonly open = new Set<Socket>();
  private closed = false;

  readonly factory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
    // kafkajs passes `ssl` only when TLS is configured (the type says otherwise).
    const tlsOptions = ssl as typeof ssl | undefined | false;
    const socket = tlsOptions
      ? tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ...tlsOptions }, onConnect)
      : netConnect({ host, port }, onConnect);
    socket.setKeepAlive(true, KEEP_ALIVE_DELAY_MS);
    // A retry loop still running inside kafkajs after disconnect() must not reopen a connection for good.
    if (this.closed) socket.destroy(new Error(STOPPED));
    else this.open.add(socket);
    socket.once("close", () => this.open.delete(socket));
    return socket;
  };

  /**
   * Destroys every socket still open and every socket opened from now on (call after the clients disconnected);
   * returns how many of them had been leaked (not even ended by their client).
   */
  destroyAll(): number {
    this.closed = true;
    let leaked = 0;
    for (const s of this.open) {
      if (!s.writableEnded) leaked++;
      // With an error, so kafkajs' connection sees it (it ignores "close"), rejects what waits on it and marks
      // itself disconnected, which also stops its request-timeout interval (another thing that would keep the
      // process alive).
      s.destroy(new Error(STOPPED));
    }
    this.open.clear();
    return leaked;
  }
}

/** The error message of the sockets destroyed at stop (log filters recognise it). */
export const STOPPED = "kafka client stopped";

/** kafkajs' default TCP keep-alive delay. */
const KEEP_ALIVE_DELAY_MS = 60_000;
