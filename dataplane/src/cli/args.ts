/**
 * A tiny command-line flag parser shared by every `klagg` subcommand.
 *
 * Supports `--flag value`, `--flag=value`, repeated flags (`--input a --input b`),
 * boolean flags (`--follow`, `--follow=false`), `--help`/`-h` and `--` to end the
 * flags. Flags may name the config key they set (`env`), so a command can
 * overlay its flags on the environment and hand one flat map to its config
 * parser: flags and environment variables then share one validation path.
 */
import type { ConfigSource } from "../config/parse.js";

/** Describes one flag of a command. */
export interface FlagSpec {
  /** "string" flags take a value; "boolean" flags take none (or `=true`/`=false`). */
  readonly type: "string" | "boolean";
  /** May be given more than once; `getAll` returns every value in order. */
  readonly multiple?: boolean;
  /** One line for `--help`. */
  readonly description: string;
  /** The config key this flag sets (e.g. "KLAGG_SYMBOLS"); see `toConfigSource`. */
  readonly env?: string;
  /** Placeholder shown in `--help`, e.g. "FILE". */
  readonly valueName?: string;
}

/** Flag specs by flag name (without the leading dashes). */
export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

/** Thrown for unknown flags, missing values or values given to a non-repeatable flag twice. */
export class ArgsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ArgsError";
  }
}

/** The result of parsing a command line. */
export class ParsedArgs {
  constructor(
    private readonly values: ReadonlyMap<string, readonly string[]>,
    /** Arguments that are not flags, in order. */
    readonly positionals: readonly string[],
    /** `--help` or `-h` was given. */
    readonly help: boolean,
  ) {}

  /** The (last) value of a flag, or undefined when absent. */
  get(name: string): string | undefined {
    const v = this.values.get(name);
    return v === undefined ? undefined : v[v.length - 1];
  }

  /** Every value of a repeatable flag, in command-line order. */
  getAll(name: string): string[] {
    return [...(this.values.get(name) ?? [])];
  }

  /** True when the flag was given (for a boolean flag: given and not `=false`). */
  has(name: string): boolean {
    const v = this.get(name);
    return v !== undefined && v !== "false";
  }

  /** Whether the flag appeared at all (even as `--x=false`). */
  given(name: string): boolean {
    return this.values.has(name);
  }
}

/** Parses `argv` (without the command name) against `specs`. */
export function parseArgs(argv: readonly string[], specs: FlagSpecs): ParsedArgs {
  const values = new Map<string, string[]>();
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    if (!arg.startsWith("--") || arg.length === 2) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    if (spec === undefined) throw new ArgsError(`unknown flag --${name}`);
    let value: string;
    if (spec.type === "boolean") {
      value = eq < 0 ? "true" : arg.slice(eq + 1).toLowerCase();
      if (value !== "true" && value !== "false") {
        throw new ArgsError(`flag --${name} takes true or false, got "${arg.slice(eq + 1)}"`);
      }
    } else if (eq >= 0) {
      value = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      // A following "--x" is a flag, not a value: `--out-dir --input f` is a missing value.
      if (next === undefined || (next.startsWith("--") && next.length > 2)) {
        throw new ArgsError(`flag --${name} needs a value`);
      }
      value = next;
      i++;
    }
    const list = values.get(name);
    if (list === undefined) values.set(name, [value]);
    else if (spec.multiple) list.push(value);
    else throw new ArgsError(`flag --${name} given more than once`);
  }
  return new ParsedArgs(values, positionals, help);
}

/**
 * Overlays the flags that name a config key on `env`: a flag wins over the
 * environment variable of the same key. Repeated values are joined with ",".
 */
export function toConfigSource(parsed: ParsedArgs, specs: FlagSpecs, env: ConfigSource): ConfigSource {
  const out: Record<string, string | undefined> = { ...env };
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.env === undefined || !parsed.given(name)) continue;
    out[spec.env] = parsed.getAll(name).join(",");
  }
  return out;
}

/** Renders `--help` text: usage line, summary, one line per flag. */
export function formatUsage(usageLine: string, summary: string, specs: FlagSpecs): string {
  const rows = Object.entries(specs).map(([name, s]) => {
    const left = s.type === "boolean" ? `--${name}` : `--${name} ${s.valueName ?? "VALUE"}`;
    const extra = [s.multiple ? "repeatable" : "", s.env ? `env ${s.env}` : ""].filter((x) => x !== "");
    return { left, right: s.description + (extra.length > 0 ? ` (${extra.join("; ")})` : "") };
  });
  rows.push({ left: "--help, -h", right: "Show this help." });
  const width = Math.max(...rows.map((r) => r.left.length)) + 2;
  const lines = rows.map((r) => `  ${r.left.padEnd(width)}${r.right}`);
  return `usage: ${usageLine}\n\n${summary}\n\noptions:\n${lines.join("\n")}\n`;
}

/** Flags every long-running command accepts: logging, tracing and metrics (keys of config/common.ts). */
export const COMMON_FLAGS: FlagSpecs = {
  "log-level": {
    type: "string",
    env: "KLAGG_LOG_LEVEL",
    valueName: "LEVEL",
    description: "debug|info|warn|error.",
  },
  "otlp-endpoint": {
    type: "string",
    env: "OTEL_EXPORTER_OTLP_ENDPOINT",
    valueName: "URL",
    description: "OTLP/HTTP trace endpoint.",
  },
  "trace-sample-ratio": {
    type: "string",
    env: "KLAGG_TRACE_SAMPLE_RATIO",
    valueName: "R",
    description: "0..1.",
  },
  "metrics-host": {
    type: "string",
    env: "KLAGG_METRICS_HOST",
    valueName: "HOST",
    description: "Metrics interface.",
  },
  "metrics-port": {
    type: "string",
    env: "KLAGG_METRICS_PORT",
    valueName: "PORT",
    description: "Metrics port.",
  },
};
