/**
 * A supervised child process of `klagg local` (one worker): spawned in its own
 * process group so a terminal's Ctrl-C reaches only `klagg local`, which then
 * stops the children in the right order (a child that got SIGINT from the
 * terminal *and* SIGTERM from us would take the second as "exit now, no drain").
 * Its stderr is forwarded line by line with a prefix; stopping sends SIGTERM and
 * escalates to SIGKILL after a timeout, so nothing is left behind. The child's
 * stdin is a pipe kept open for its lifetime: if this process dies without
 * stopping it, the child sees EOF (see `worker-entry.ts`).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

/** How to start one child. */
export interface ChildSpec {
  /** Short name used as the log prefix, e.g. "worker-0". */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Receives each stderr and stdout line, already prefixed. */
  readonly onLine: (line: string) => void;
}

/** How a child ended. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running child; `exited` resolves when it ended, for whatever reason. */
export class SupervisedChild {
  readonly name: string;
  readonly exited: Promise<ChildExit>;
  private readonly proc: ChildProcess;
  private exitInfo: ChildExit | undefined;
  /** True once `stop()` was called: an exit after that is expected. */
  stopping = false;

  constructor(spec: ChildSpec) {
    this.name = spec.name;
    this.proc = spawn(spec.command, [...spec.args], {
      env: spec.env,
      // stdin is a pipe nobody writes to: it closes when this process dies, which the child can watch.
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    this.exited = new Promise<ChildExit>((resolve) => {
      this.proc.once("exit", (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
      this.proc.once("error", (err) => {
        spec.onLine(`[${spec.name}] failed to start: ${err.message}`);
        this.exitInfo = { code: 127, signal: null };
        resolve(this.exitInfo);
      });
    });
    for (const stream of [this.proc.stdout, this.proc.stderr]) {
      if (stream === null) continue;
      createInterface({ input: stream, crlfDelay: Infinity }).on("line", (l) =>
        spec.onLine(`[${spec.name}] ${l}`),
      );
    }
  }

  /** The OS process id (undefined if spawning failed). */
  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** How it ended, or undefined while running. */
  get exit(): ChildExit | undefined {
    return this.exitInfo;
  }

  /** Sends SIGTERM, waits up to `timeoutMs`, then SIGKILLs the child's process group. */
  async stop(timeoutMs: number): Promise<ChildExit> {
    this.stopping = true;
    if (this.exitInfo !== undefined) return this.exitInfo;
    this.signal("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs)));
    const first = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (first !== "timeout") return first;
    this.signal("SIGKILL");
    return this.exited;
  }

  /** Kills at once (the parent is going away without a graceful stop). */
  kill(): void {
    if (this.exitInfo === undefined) this.signal("SIGKILL");
  }

  private signal(sig: NodeJS.Signals): void {
    const pid = this.proc.pid;
    if (pid === undefined) return;
    try {
      // The child leads its own process group: signal the group, so anything it spawned goes too.
      process.kill(-pid, sig);
    } catch {
      try {
        this.proc.kill(sig);
      } catch {
        // Already gone.
      }
    }
  }
}
