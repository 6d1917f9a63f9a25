import { test } from "node:test";
import assert from "node:assert/strict";
import { parseKafkaConnection, parseRedisPassword } from "./connections.js";
import { ConfigReader, type ConfigSource } from "./parse.js";

const kafka = (src: ConfigSource, required = false) =>
  parseKafkaConnection(src, new ConfigReader(src), required);
const redisPassword = (src: ConfigSource, url: string | undefined) =>
  parseRedisPassword(new ConfigReader(src), url);

test("brokers are optional for the gateway and required for the writer", () => {
  assert.deepEqual(kafka({}), { brokers: [], sasl: undefined });
  assert.throws(() => kafka({}, true), /KLAGG_KAFKA_BROKERS="": is required/);
  assert.deepEqual(kafka({ KLAGG_KAFKA_BROKERS: "k1:9092, k2:9092" }, true).brokers, ["k1:9092", "k2:9092"]);
  assert.throws(
    () => kafka({ KLAGG_KAFKA_BROKERS: "k1" }),
    /KLAGG_KAFKA_BROKERS="k1": "k1" is not host:port/,
  );
});

test("SASL needs a known mechanism plus username and password", () => {
  const full = {
    KLAGG_KAFKA_BROKERS: "k:9093",
    KLAGG_KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
    KLAGG_KAFKA_SASL_USERNAME: "klagg",
    KLAGG_KAFKA_SASL_PASSWORD: "s3cret",
  };
  assert.deepEqual(kafka(full).sasl, { mechanism: "scram-sha-512", username: "klagg", password: "s3cret" });
  assert.throws(
    () => kafka({ ...full, KLAGG_KAFKA_SASL_MECHANISM: "gssapi" }),
    /KLAGG_KAFKA_SASL_MECHANISM="gssapi": must be one of plain, scram-sha-256, scram-sha-512/,
  );
  assert.throws(
    () => kafka({ ...full, KLAGG_KAFKA_SASL_PASSWORD: "" }),
    /KLAGG_KAFKA_SASL_PASSWORD="": is required with SASL scram-sha-512/,
  );
  assert.throws(
    () => kafka({ KLAGG_KAFKA_SASL_USERNAME: "klagg" }),
    /KLAGG_KAFKA_SASL_MECHANISM="": is required when/,
  );
});

test("the Redis password is accepted once, and its value never appears in an error", () => {
  assert.equal(redisPassword({}, "redis://r:6379"), undefined);
  assert.equal(redisPassword({ KLAGG_REDIS_PASSWORD: "pw" }, "redis://r:6379"), "pw");
  assert.throws(
    () => redisPassword({ KLAGG_REDIS_PASSWORD: "topsecret" }, undefined),
    (e: Error) =>
      /KLAGG_REDIS_PASSWORD.*KLAGG_REDIS_URL is not/.test(e.message) && !e.message.includes("topsecret"),
  );
  assert.throws(
    () => redisPassword({ KLAGG_REDIS_PASSWORD: "topsecret" }, "redis://:other@r:6379"),
    (e: Error) => /already has a password/.test(e.message) && !e.message.includes("topsecret"),
  );
  assert.equal(redisPassword({ KLAGG_REDIS_PASSWORD: "pw" }, "redis://user@r:6379/0"), "pw");
});
