/**
 * Typed, validated configuration parsing shared by every klagg binary and by
 * the operator (which renders the same keys and checks them with these
 * parsers). Configuration comes from a flat string map (the process
 * environment, or a map the operator renders); errors always name the key and
 * the offending value.
 */

/** A flat key/value source, e.g. `process.env`. */
export type ConfigSource = Readonly<Record<string, string | undefined>>;

/** Thrown for any invalid configuration; the message names key and value. */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    readonly value: string | undefined,
    reason: string,
  ) {
    super(`invalid config ${key}=${JSON.stringify(value ?? "")}: ${reason}`);
    this.name = "ConfigError";
  }
}

/** Reads keys from a source, collecting typed values. */
export class ConfigReader {
  constructor(private readonly src: ConfigSource) {}

  raw(key: string): string | undefined {
    const v = this.src[key];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  }

  string(key: string, def?: string): string {
    const v = this.raw(key) ?? def;
    if (v === undefined) throw new ConfigError(key, undefined, "is required");
    return v;
  }

  optionalString(key: string): string | undefined {
    return this.raw(key);
  }

  int(
    key: string,
    def: number | undefined,
    min = Number.MIN_SAFE_INTEGER,
    max = Number.MAX_SAFE_INTEGER,
  ): number {
    const v = this.raw(key);
    if (v === undefined) {
      if (def === undefined) throw new ConfigError(key, v, "is required");
      return def;
    }
    if (!/^-?\d+$/.test(v)) throw new ConfigError(key, v, "must be an integer");
    const n = Number(v);
    if (n < min || n > max) throw new ConfigError(key, v, `must be between ${min} and ${max}`);
    return n;
  }

  number(key: string, def: number | undefined, min = -Infinity, max = Infinity): number {
    const v = this.raw(key);
    if (v === undefined) {
      if (def === undefined) throw new ConfigError(key, v, "is required");
      return def;
    }
    const n = Number(v);
    if (!Number.isFinite(n)) throw new ConfigError(key, v, "must be a number");
    if (n < min || n > max) throw new ConfigError(key, v, `must be between ${min} and ${max}`);
    return n;
  }

  bool(key: string, def: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined) return def;
    if (/^(1|true|yes|on)$/i.test(v)) return true;
    if (/^(0|false|no|off)$/i.test(v)) return false;
    throw new ConfigError(key, v, "must be true or false");
  }

  /** Comma-separated list; empty items are dropped. */
  list(key: string, def: readonly string[] | undefined): string[] {
    const v = this.raw(key);
    if (v === undefined) {
      if (def === undefined) throw new ConfigError(key, v, "is required");
      return [...def];
    }
    return v
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], def: T | undefined): T {
    const v = this.raw(key) ?? def;
    if (v === undefined) throw new ConfigError(key, v, "is required");
    if (!(allowed as readonly string[]).includes(v)) {
      throw new ConfigError(key, v, `must be one of ${allowed.join(", ")}`);
    }
    return v as T;
  }

  /** Duration like "100ms", "2s", "5m" or a bare number of milliseconds. */
  durationMs(key: string, def: number | undefined, minMs = 0): number {
    const v = this.raw(key);
    if (v === undefined) {
      if (def === undefined) throw new ConfigError(key, v, "is required");
      return def;
    }
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v);
    if (!m) throw new ConfigError(key, v, 'must be a duration such as "100ms", "2s" or "5m"');
    const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "ms") as "ms" | "s" | "m" | "h"];
    const ms = Number(m[1]) * mult;
    if (ms < minMs) throw new ConfigError(key, v, `must be at least ${minMs}ms`);
    return ms;
  }
}

/** Deep-freezes a parsed config so nothing mutates it after startup. */
export function freeze<T>(obj: T): Readonly<T> {
  if (obj && typeof obj === "object" && !Object.isFrozen(obj)) {
    for (const v of Object.values(obj as object)) freeze(v);
    Object.freeze(obj);
  }
  return obj;
}
