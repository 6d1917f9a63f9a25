import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "../config/parse.js";
import { parseServiceConfig } from "./service.js";
import type { FlagSpecs } from "./args.js";

const FLAGS: FlagSpecs = { tick: { type: "string", env: "KLAGG_TICK", description: "Tick." } };

test("help prints the usage and asks for exit code 0 without parsing the config", () => {
  let out = "";
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
  let parsed = false;
  try {
    const r = parseServiceConfig("gateway", ["--help"], FLAGS, "USAGE TEXT\n", () => ((parsed = true), {}));
    assert.equal(r, 0);
  } finally {
    process.stdout.write = write;
  }
  assert.equal(out, "USAGE TEXT\n");
  assert.equal(parsed, false);
});

test("a bad config or stray argument asks for exit code 2 with a message naming the command and the key", () => {
  let err = "";
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => ((err += chunk), true)) as typeof process.stderr.write;
  try {
    const bad = () => {
      throw new ConfigError("KLAGG_TICK", "x", "must be a duration");
    };
    assert.equal(parseServiceConfig("writer", ["--tick", "x"], FLAGS, "", bad), 2);
    assert.equal(
      parseServiceConfig("writer", ["extra"], FLAGS, "", () => ({})),
      2,
    );
  } finally {
    process.stderr.write = write;
  }
  assert.match(err, /^klagg writer: invalid config KLAGG_TICK="x": must be a duration\n/);
  assert.match(err, /klagg writer: unexpected argument "extra"\n$/);
});

test("flags win over the environment and reach the parser as config keys", () => {
  const r = parseServiceConfig("gateway", ["--tick", "250ms"], FLAGS, "", (src) => ({
    tick: src.KLAGG_TICK,
  }));
  assert.deepEqual(r, { tick: "250ms" });
});
