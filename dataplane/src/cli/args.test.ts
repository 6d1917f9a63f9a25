import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgsError, formatUsage, parseArgs, toConfigSource, type FlagSpecs } from "./args.js";

const SPECS: FlagSpecs = {
  input: { type: "string", multiple: true, description: "Input file.", valueName: "FILE" },
  "out-dir": { type: "string", description: "Output directory.", valueName: "DIR" },
  symbols: { type: "string", description: "Symbols.", env: "KLAGG_SYMBOLS" },
  source: { type: "string", multiple: true, description: "Source.", env: "KLAGG_SOURCE" },
  follow: { type: "boolean", description: "Follow.", env: "KLAGG_FOLLOW" },
};

test("parses --flag value and --flag=value forms", () => {
  const p = parseArgs(["--out-dir", "/tmp/x", "--symbols=BTCUSDT,ETHUSDT"], SPECS);
  assert.equal(p.get("out-dir"), "/tmp/x");
  assert.equal(p.get("symbols"), "BTCUSDT,ETHUSDT");
  assert.equal(p.help, false);
});

test("collects repeated values of a repeatable flag in order", () => {
  const p = parseArgs(["--input", "a.gz", "--input=b.gz", "--input", "c.csv"], SPECS);
  assert.deepEqual(p.getAll("input"), ["a.gz", "b.gz", "c.csv"]);
  assert.equal(p.get("input"), "c.csv");
});

test("keeps an equals sign inside a value", () => {
  assert.equal(parseArgs(["--out-dir=a=b"], SPECS).get("out-dir"), "a=b");
});

test("rejects a non-repeatable flag given twice", () => {
  assert.throws(
    () => parseArgs(["--out-dir", "a", "--out-dir", "b"], SPECS),
    /--out-dir given more than once/,
  );
});

test("rejects unknown flags with the flag's name", () => {
  assert.throws(
    () => parseArgs(["--nope", "1"], SPECS),
    (e: unknown) => {
      return e instanceof ArgsError && /unknown flag --nope/.test(e.message);
    },
  );
});

test("rejects a string flag without a value, including when the next word is a flag", () => {
  assert.throws(() => parseArgs(["--out-dir"], SPECS), /--out-dir needs a value/);
  assert.throws(() => parseArgs(["--out-dir", "--input", "a"], SPECS), /--out-dir needs a value/);
});

test("accepts a value that starts with a single dash", () => {
  assert.equal(parseArgs(["--symbols", "-x"], SPECS).get("symbols"), "-x");
});

test("boolean flags take no value, or an explicit true/false", () => {
  assert.equal(parseArgs(["--follow"], SPECS).has("follow"), true);
  const off = parseArgs(["--follow=false"], SPECS);
  assert.equal(off.has("follow"), false);
  assert.equal(off.given("follow"), true);
  assert.throws(() => parseArgs(["--follow=maybe"], SPECS), /takes true or false/);
});

test("recognises --help and -h and collects positionals, everything after -- included", () => {
  const p = parseArgs(["pos1", "-h", "--", "--input", "x"], SPECS);
  assert.equal(p.help, true);
  assert.deepEqual(p.positionals, ["pos1", "--input", "x"]);
  assert.deepEqual(p.getAll("input"), []);
});

test("toConfigSource overlays flags on the environment, flags winning, repeats joined with commas", () => {
  const p = parseArgs(["--symbols", "BTCUSDT", "--source", "replay:a", "--source", "replay:b"], SPECS);
  const env = { KLAGG_SYMBOLS: "ETHUSDT", KLAGG_MARKET: "usdm", KLAGG_FOLLOW: "true" };
  const src = toConfigSource(p, SPECS, env);
  assert.equal(src.KLAGG_SYMBOLS, "BTCUSDT");
  assert.equal(src.KLAGG_SOURCE, "replay:a,replay:b");
  assert.equal(src.KLAGG_MARKET, "usdm");
  assert.equal(src.KLAGG_FOLLOW, "true", "an absent flag leaves the environment value");
  assert.equal(env.KLAGG_SYMBOLS, "ETHUSDT", "the environment map is not mutated");
});

test("formatUsage lists every flag with its value name and config key", () => {
  const text = formatUsage("klagg x [options]", "Does x.", SPECS);
  assert.match(text, /^usage: klagg x \[options\]/);
  assert.match(text, /--input FILE\s+Input file\. \(repeatable\)/);
  assert.match(text, /--symbols VALUE\s+Symbols\. \(env KLAGG_SYMBOLS\)/);
  assert.match(text, /--follow\s+Follow\./);
  assert.match(text, /--help, -h/);
});
