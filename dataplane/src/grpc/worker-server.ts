/**
 * The worker's gRPC server: `klagg.v1.WorkerService/Pull` answered from a
 * KlineEngine (see pull-handler.ts) and the standard health service
 * (SERVING while up, NOT_SERVING from the start of shutdown).
 */
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "../obs/log.js";
import { HealthService, ServingStatus } from "./health.js";
import { createPullHandler, type PullHandlerOptions, type PullInfo } from "./pull-handler.js";
import { healthServiceDefinition, WORKER_SERVICE, workerServiceWireDefinition } from "./service-def.js";

export type { PullInfo };

/** Settings of the worker's gRPC server. */
export interface WorkerServerOptions extends PullHandlerOptions {
  /** Interface to bind, e.g. "0.0.0.0" or "127.0.0.1". */
  readonly host: string;
  /** Port to bind; 0 picks a free one (see `port` after start). */
  readonly port: number;
  readonly log?: Logger;
}

/**
 * Server keepalive policy: accept the gateway's keepalive pings (every 10 s,
 * also between calls) without answering them with GOAWAY "too_many_pings".
 */
const SERVER_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  "grpc.keepalive_time_ms": 30_000,
  "grpc.keepalive_timeout_ms": 10_000,
  "grpc.keepalive_permit_without_calls": 1,
  "grpc.http2.min_ping_interval_without_data_ms": 5_000,
  "grpc.max_send_message_length": 4 * 1024 * 1024,
};

/** The worker's gRPC endpoint; `start()` binds, `stop()` drains and closes. */
export class WorkerGrpcServer {
  readonly health = new HealthService([WORKER_SERVICE]);
  private readonly server = new grpc.Server(SERVER_CHANNEL_OPTIONS);
  private boundPort = 0;
  private started = false;

  constructor(private readonly opts: WorkerServerOptions) {
    this.server.addService(workerServiceWireDefinition, { pull: createPullHandler(opts) });
    this.server.addService(healthServiceDefinition, this.health.implementation());
  }

  /** The bound port (after `start`). */
  get port(): number {
    return this.boundPort;
  }

  /** Binds and starts serving; health turns SERVING. Resolves to the bound port. */
  async start(): Promise<number> {
    const addr = `${this.opts.host.includes(":") ? `[${this.opts.host}]` : this.opts.host}:${this.opts.port}`;
    this.boundPort = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(addr, grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(new Error(`cannot bind gRPC server on ${addr}: ${err.message}`)) : resolve(port),
      );
    });
    this.started = true;
    this.health.setAll(ServingStatus.SERVING);
    this.opts.log?.info("gRPC server listening", { address: addr, port: this.boundPort });
    return this.boundPort;
  }

  /** Health NOT_SERVING (pulls are still answered: used during the drain period). */
  setNotServing(): void {
    this.health.setAll(ServingStatus.NOT_SERVING);
  }

  /**
   * Stops: health NOT_SERVING, ends Watch streams, lets in-flight calls finish
   * for up to `graceMs`, then cuts the remaining ones.
   */
  async stop(graceMs = 1000): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.setNotServing();
    this.health.endWatches();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.opts.log?.info("gRPC server stopped");
  }
}
