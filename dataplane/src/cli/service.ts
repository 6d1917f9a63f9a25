/**
 * What every long-running `klagg` command (worker, gateway, writer) does
 * around its own work, written once: flags and config parsed and validated
 * up front (exit 2 naming the bad key), a JSON logger, the OpenTelemetry SDK,
 * SIGINT/SIGTERM handling (the first signal stops gracefully, a second exits
 * at once with 130), optionally the /metrics + /healthz server, and the
 * exit code (0 clean, 1 failed).
 */
import type { Registry } from "prom-client";
import type { CommonConfig } from "../config/common.js";
import { ConfigError, type ConfigSource } from "../config/parse.js";
import { createLogger, type Logger } from "../obs/log.js";
import { createRegistry, MetricsServer } from "../obs/metrics.js";
import { startTracing, type ServiceName } from "../obs/tracing.js";
import { ArgsError, parseArgs, toConfigSource, type FlagSpecs } from "./args.js";

/**
 * Parses `argv` against `flags` (flags win over the environment) into a config.
 * Returns the exit code instead when there is nothing to run: 0 after `--help`,
 * 2 after a bad flag or config (the message names the key and value).
 */
export function parseServiceConfig<C extends object>(
  command: string,
  argv: readonly string[],
  flags: FlagSpecs,
  usage: string,
  parse: (src: ConfigSource) => C,
): C | number {
  try {
    const args = parseArgs(argv, flags);
    if (args.help) {
      process.stdout.write(usage);
      return 0;
    }
    if (args.positionals.length > 0) throw new ArgsError(`unexpected argument "${args.positionals[0]}"`);
    return parse(toConfigSource(args, flags, process.env));
  } catch (err) {
    if (err instanceof ArgsError || err instanceof ConfigError) {
      process.stderr.write(`klagg ${command}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

/** What a service body gets from {@link runService}. */
export interface ServiceContext {
  /** `klagg-<component>`: the traces' service name and the metrics' `service` label. */
  readonly service: ServiceName;
  readonly log: Logger;
  /** Aborted by the first SIGINT/SIGTERM. */
  readonly signal: AbortSignal;
  /** Resolves with the first SIGINT/SIGTERM. */
  readonly stopped: Promise<void>;
}

/** Identity of a service for logs and traces. */
export interface ServiceOptions {
  /** The log component; the service name is `klagg-<component>`. */
  readonly component: "worker" | "gateway" | "writer";
  readonly common: CommonConfig;
  /** `service.instance.id` of the traces (e.g. the worker or aggregator name). */
  readonly instanceId?: string;
}

/**
 * Runs `body` with logging, tracing and signal handling around it; returns its
 * exit code, or 1 when it throws. Tracing is flushed on the way out.
 */
export async function runService(
  opts: ServiceOptions,
  body: (ctx: ServiceContext) => Promise<number>,
): Promise<number> {
  const { component, common } = opts;
  const service: ServiceName = `klagg-${component}`;
  const log = createLogger(component, { level: common.logLevel });
  const shutdownTracing = startTracing({
    serviceName: service,
    endpoint: common.otlpEndpoint,
    sampleRatio: common.traceSampleRatio,
    ...(opts.instanceId === undefined ? {} : { attributes: { "service.instance.id": opts.instanceId } }),
  });
  const stop = new AbortController();
  const stopped = new Promise<void>((resolve) => stop.signal.addEventListener("abort", () => resolve()));
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (++signals > 1) {
      log.warn("second signal: exiting without finishing the graceful stop", { signal: sig });
      process.exit(130);
    }
    log.info("signal received, stopping gracefully", { signal: sig });
    stop.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await body({ service, log, signal: stop.signal, stopped });
  } catch (err) {
    log.error(`${component} failed`, { err });
    return 1;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await shutdownTracing().catch((err: unknown) => log.warn("trace flush failed", { err }));
  }
}

/**
 * Serves /metrics and /healthz for `body` on the common metrics address;
 * /healthz turns 503 as soon as the stop signal fires (the pod leaves the
 * Service's endpoints while it drains). The worker serves its own (its health
 * follows its lifecycle), so it does not use this.
 */
export async function withMetricsServer(
  ctx: ServiceContext,
  common: CommonConfig,
  body: (registry: Registry) => Promise<number>,
): Promise<number> {
  const registry = createRegistry(ctx.service);
  const server = new MetricsServer({
    registry,
    host: common.metricsHost,
    port: common.metricsPort,
    healthy: () => !ctx.signal.aborted,
    log: ctx.log,
  });
  try {
    await server.start();
    return await body(registry);
  } finally {
    await server.stop();
  }
}
