/**
 * `klagg local`'s orchestration: N worker subprocesses (each a `klagg worker`
 * owning one shard of the symbols), the gateway in this process, the writer
 * when ClickHouse and Kafka are given, and a read scheduler feeding the live
 * view, on the Redis bus when `--redis` is given and the in-process bus
 * otherwise.
 *
 * Shutdown order (Ctrl-C, SIGTERM, --exit-when-done, a failed child): workers
 * first, while the gateway still pulls, so their drain is acknowledged; then
 * the gateway (publishes its newest snapshot, flushes Kafka); then the writer
 * (flushes to ClickHouse); then the scheduler and the bus.
 */
import { parseGatewayConfig } from "../config/gateway.js";
import type { ConfigSource } from "../config/parse.js";
import { symbolsOfShard } from "../core/shard.js";
import type { Gateway } from "../gateway/gateway.js";
import type { Logger } from "../obs/log.js";
import { InProcessSnapshotBus } from "../scheduler/in-process-bus.js";
import { ReadScheduler } from "../scheduler/read-scheduler.js";
import type { SnapshotBus } from "../scheduler/snapshot-bus.js";
import { SupervisedChild } from "./child-process.js";
import { freeLoopbackPorts, waitForPort } from "./free-port.js";
import { LiveView, type ViewOutput } from "./live-view.js";
import type { LocalOptions } from "./local-options.js";

/** What a local run needs from its surroundings. */
export interface LocalRunDeps {
  /** The node binary and the script to start workers with (`worker-entry.js`, which runs the CLI). */
  readonly nodePath: string;
  readonly workerEntry: string;
  /** The environment passed to children (plus their own keys) and to the writer's config. */
  readonly env: ConfigSource;
  readonly log: Logger;
  /** Receives forwarded child output lines (already prefixed). */
  readonly childLine: (line: string) => void;
  readonly viewOut: ViewOutput;
  /** The newest log lines to show under the live table (table mode only). */
  readonly recentLogs?: () => readonly string[];
  /** How long a worker may take to stop before it is killed. */
  readonly workerStopMs?: number;
}

/** One planned worker. */
export interface WorkerPlan {
  readonly name: string;
  readonly shardIndex: number;
  readonly symbols: readonly string[];
}

/** Shards `symbols` over `workers`; shards that own no symbol are left out (a worker refuses to run empty). */
export function planWorkers(
  symbols: readonly string[],
  workers: number,
): { plans: WorkerPlan[]; empty: number[] } {
  const plans: WorkerPlan[] = [];
  const empty: number[] = [];
  for (let i = 0; i < workers; i++) {
    const mine = symbolsOfShard(symbols, i, workers);
    if (mine.length === 0) empty.push(i);
    else plans.push({ name: `worker-${i}`, shardIndex: i, symbols: mine });
  }
  return { plans, empty };
}

/** A signal (or a dead worker) arrived before the workers were ready. */
class StartupInterrupted extends Error {}

/** Why a run ended. */
type EndReason = "signal" | "done" | "child-failed";

/** A local run; `run` resolves with the process exit code. */
export class LocalRun {
  private readonly children: SupervisedChild[] = [];
  private endReason: EndReason | undefined;
  private endRun!: (r: EndReason) => void;
  private readonly ended = new Promise<EndReason>((r) => (this.endRun = r));

  constructor(
    private readonly opts: LocalOptions,
    private readonly deps: LocalRunDeps,
  ) {}

  private end(reason: EndReason): void {
    if (this.endReason !== undefined) return;
    this.endReason = reason;
    this.endRun(reason);
  }

  /** Runs until `signal` aborts, the replay is done (--exit-when-done) or a worker dies. */
  async run(signal: AbortSignal): Promise<number> {
    const { opts, deps } = this;
    const log = deps.log;
    signal.addEventListener("abort", () => this.end("signal"), { once: true });
    const { plans, empty } = planWorkers(opts.symbols, opts.workers);
    if (empty.length > 0) {
      log.warn("some shards own no symbol; starting fewer workers", {
        empty_shards: empty,
        symbols: opts.symbols.length,
        workers: opts.workers,
      });
    }
    const ports = await freeLoopbackPorts(plans.length);
    plans.forEach((p, i) => this.spawnWorker(p, ports[i]!));

    const gatewayEnv: Record<string, string | undefined> = {
      KLAGG_NAME: opts.name,
      KLAGG_WORKERS: plans.map((p, i) => `${p.name}=127.0.0.1:${ports[i]}`).join(","),
      KLAGG_TICK: opts.tick,
      KLAGG_SYMBOLS: opts.symbols.join(","),
      KLAGG_INTERVALS: opts.intervals.join(","),
      KLAGG_REDIS_URL: opts.redisUrl,
      KLAGG_KAFKA_BROKERS: opts.kafkaBrokers,
      KLAGG_KAFKA_TOPIC: opts.kafkaTopic,
    };
    const gatewayConfig = parseGatewayConfig(gatewayEnv);

    // Readers' side: Redis when the gateway publishes there, the in-process bus otherwise.
    let bus: SnapshotBus;
    const { InProcessPublisher } = await import("../gateway/in-process-publisher.js");
    const publishers = [];
    if (opts.redisUrl !== undefined) {
      const { RedisSnapshotBus } = await import("../scheduler/redis-bus.js");
      bus = new RedisSnapshotBus({ url: opts.redisUrl, name: opts.name, log });
    } else {
      const inProc = new InProcessSnapshotBus();
      publishers.push(new InProcessPublisher(inProc, log));
      bus = inProc;
    }

    let writer: { start(): Promise<void>; stop(): Promise<void>; flushed(): Promise<void> } | undefined;
    if (opts.clickhouseUrl !== undefined && opts.kafkaBrokers !== undefined) {
      const { parseWriterConfig } = await import("../config/writer.js");
      const { createWriter } = await import("../writer/writer.js");
      const writerConfig = parseWriterConfig({
        ...deps.env,
        KLAGG_KAFKA_BROKERS: opts.kafkaBrokers,
        KLAGG_CLICKHOUSE_URL: opts.clickhouseUrl,
        KLAGG_KAFKA_TOPIC: opts.kafkaTopic ?? deps.env.KLAGG_KAFKA_TOPIC,
      });
      writer = createWriter(writerConfig, { log: log.child({ component: "writer" }) });
    }

    const { createGateway } = await import("../gateway/create.js");
    const gateway: Gateway = createGateway(gatewayConfig, {
      log: log.child({ component: "gateway" }),
      publishers,
    });
    const scheduler = new ReadScheduler(bus, { log: log.child({ component: "scheduler" }) });
    const view =
      opts.view === "none"
        ? undefined
        : new LiveView(deps.viewOut, {
            title: `klagg local: ${plans.length} worker(s), ${opts.sourceKind}, ${opts.symbols.length} symbols`,
            interval: opts.viewInterval,
            top: opts.top,
            mode: opts.view,
            status: () => {
              const logs = deps.recentLogs?.() ?? [];
              const tail = logs.length > 0 ? `\n\nrecent log lines:\n${logs.join("\n")}` : "";
              return `${workerStatusLine(gateway)}\nCtrl-C to stop.${tail}`;
            },
          });

    let code = 0;
    try {
      // Pulling before the workers listen would only log failures and raise degraded alerts.
      const ready = await Promise.race([
        Promise.all(
          this.children.map((c, i) =>
            waitForPort("127.0.0.1", ports[i]!, 30_000, () =>
              c.exit !== undefined ? `${c.name} exited during startup (code ${c.exit.code})` : undefined,
            ),
          ),
        ).then(() => true),
        this.ended.then(() => false),
      ]);
      if (!ready) throw new StartupInterrupted();
      if (writer !== undefined) await writer.start();
      gateway.start();
      if (opts.exitWhenDone) {
        gateway.onTick(() => {
          if (gateway.drained()) this.end("done");
        });
      }
      if (view !== undefined) scheduler.register("live-view", view.handler);
      await scheduler.start();
      view?.start();
      const reason = this.endReason ?? (await this.ended);
      log.info("local run ending", { reason });
      if (reason === "child-failed") code = 1;
    } catch (err) {
      if (err instanceof StartupInterrupted) {
        if (this.endReason === "child-failed") code = 1;
      } else {
        log.error("local run failed", { err });
        code = 1;
      }
    } finally {
      code = Math.max(code, await this.shutdown(gateway, writer, scheduler, bus, view));
    }
    return code;
  }

  /** Kills every worker at once (second Ctrl-C). */
  killAll(): void {
    for (const c of this.children) c.kill();
  }

  private spawnWorker(p: WorkerPlan, port: number): void {
    const { opts, deps } = this;
    const env: Record<string, string | undefined> = {
      ...deps.env,
      KLAGG_WORKER_NAME: p.name,
      KLAGG_SYMBOLS: opts.symbols.join(","),
      KLAGG_SHARD_INDEX: String(p.shardIndex),
      KLAGG_SHARD_COUNT: String(opts.workers),
      KLAGG_INTERVALS: opts.intervals.join(","),
      KLAGG_SOURCE: opts.source,
      KLAGG_GRPC_HOST: "127.0.0.1",
      KLAGG_GRPC_PORT: String(port),
      KLAGG_METRICS_HOST: "127.0.0.1",
      KLAGG_METRICS_PORT: "0",
      KLAGG_LOG_LEVEL: opts.logLevel,
      KLAGG_SYNTHETIC_RATE: opts.rate,
    };
    if (opts.speed !== undefined) env.KLAGG_REPLAY_SPEED = opts.speed;
    if (opts.market !== undefined) env.KLAGG_MARKET = opts.market;
    const child = new SupervisedChild({
      name: p.name,
      command: deps.nodePath,
      args: [deps.workerEntry, "worker"],
      env,
      onLine: deps.childLine,
    });
    this.children.push(child);
    void child.exited.then((exit) => {
      if (child.stopping) return;
      deps.log.error("worker exited unexpectedly; stopping", {
        worker: p.name,
        code: exit.code,
        signal: exit.signal,
      });
      this.end("child-failed");
    });
  }

  private async shutdown(
    gateway: Gateway,
    writer: { stop(): Promise<void>; flushed(): Promise<void> } | undefined,
    scheduler: ReadScheduler,
    bus: SnapshotBus,
    view: LiveView | undefined,
  ): Promise<number> {
    const log = this.deps.log;
    let code = 0;
    const stopMs = this.deps.workerStopMs ?? 10_000;
    const exits = await Promise.all(this.children.map((c) => c.stop(stopMs)));
    exits.forEach((e, i) => {
      if (e.code !== 0 && this.endReason !== "child-failed") {
        log.warn("worker did not stop cleanly", {
          worker: this.children[i]?.name,
          code: e.code,
          signal: e.signal,
        });
      }
    });
    await gateway.stop().catch((err: unknown) => {
      log.error("gateway stop failed", { err });
      code = 1;
    });
    if (writer !== undefined) {
      if (this.endReason === "done") {
        await writer.flushed().catch((err: unknown) => {
          log.error("writer flush failed", { err });
          code = 1;
        });
      }
      await writer.stop().catch((err: unknown) => {
        log.error("writer stop failed", { err });
        code = 1;
      });
    }
    // Let the scheduler see the final snapshot before the view's last draw.
    const final = gateway.latestSnapshot();
    if (final !== undefined) {
      const ac = new AbortController();
      const seen = scheduler
        .waitFor(
          (s) => Number(s.seq) >= final.seq || Number(s.gatewayEpoch) !== final.gatewayEpoch,
          ac.signal,
        )
        .catch(() => undefined);
      const timer = setTimeout(() => ac.abort(), 1000);
      await seen;
      clearTimeout(timer);
    }
    view?.stop();
    await scheduler.stop();
    await bus.close();
    return code;
  }
}

function workerStatusLine(gateway: Gateway): string {
  return gateway
    .workerStatus()
    .map(
      (w) =>
        `${w.name}: ${w.degraded ? "DEGRADED" : w.epoch === 0 ? "connecting" : "ok"}${w.sourceDone ? " (done)" : ""}`,
    )
    .join("   ");
}
