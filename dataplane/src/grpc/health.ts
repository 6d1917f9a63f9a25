/**
 * The standard gRPC health service (grpc.health.v1.Health, as in gRPC's
 * doc/health-checking.md): Check answers the current status or NOT_FOUND for
 * an unknown service; Watch streams the current status and every change, and
 * SERVICE_UNKNOWN for a service that is not (yet) registered.
 * The empty service name "" stands for the whole server.
 */
import * as grpc from "@grpc/grpc-js";
import {
  HealthCheckResponse_ServingStatus as ServingStatus,
  type HealthCheckRequest,
  type HealthCheckResponse,
} from "../gen/grpc/health/v1/health_pb.js";

export { ServingStatus };

/** One open Watch stream. */
interface Watcher {
  update(status: ServingStatus): void;
  end(): void;
}

function response(status: ServingStatus): HealthCheckResponse {
  return { $typeName: "grpc.health.v1.HealthCheckResponse", status };
}

/** Health statuses by service name, served over gRPC. */
export class HealthService {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watchers = new Map<string, Set<Watcher>>();

  /** `services` start with `initial` (the whole server "" is always registered). */
  constructor(services: readonly string[], initial: ServingStatus = ServingStatus.NOT_SERVING) {
    for (const s of ["", ...services]) this.statuses.set(s, initial);
  }

  /** Sets the status of `service` (and notifies watchers when it changed). */
  set(service: string, status: ServingStatus): void {
    if (this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    for (const w of this.watchers.get(service) ?? []) w.update(status);
  }

  /** Sets every registered service to `status`. */
  setAll(status: ServingStatus): void {
    for (const s of [...this.statuses.keys()]) this.set(s, status);
  }

  get(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /** Ends every Watch stream (server shutdown), so graceful shutdown is not held open by watchers. */
  endWatches(): void {
    for (const set of this.watchers.values()) for (const w of [...set]) w.end();
  }

  /** The grpc-js implementation to register with `healthServiceDefinition`. */
  implementation(): grpc.UntypedServiceImplementation {
    const check: grpc.handleUnaryCall<HealthCheckRequest, HealthCheckResponse> = (call, callback) => {
      const status = this.statuses.get(call.request.service);
      if (status === undefined) {
        callback({ code: grpc.status.NOT_FOUND, details: `unknown service "${call.request.service}"` });
        return;
      }
      callback(null, response(status));
    };
    const watch: grpc.handleServerStreamingCall<HealthCheckRequest, HealthCheckResponse> = (call) => {
      const service = call.request.service;
      let set = this.watchers.get(service);
      if (set === undefined) this.watchers.set(service, (set = new Set()));
      const watchers = set;
      const watcher: Watcher = {
        update: (status) => call.write(response(status)),
        end: () => {
          done();
          call.end();
        },
      };
      const done = (): void => {
        watchers.delete(watcher);
      };
      watchers.add(watcher);
      call.on("cancelled", done);
      call.on("close", done);
      call.write(response(this.statuses.get(service) ?? ServingStatus.SERVICE_UNKNOWN));
    };
    return { check, watch } as grpc.UntypedServiceImplementation;
  }
}
