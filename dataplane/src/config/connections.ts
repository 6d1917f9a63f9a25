/**
 * Connection settings shared by the gateway and the writer: Kafka brokers with
 * optional SASL, and the Redis password. The operator renders these keys (the
 * credentials only from Secrets); both binaries parse them here so the keys,
 * the validation and the messages are the same everywhere.
 */
import { ConfigError, type ConfigReader, type ConfigSource } from "./parse.js";

/** SASL mechanisms kafkajs supports without plugins (the CRD's enum). */
export const SASL_MECHANISMS = ["plain", "scram-sha-256", "scram-sha-512"] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** SASL credentials for Kafka. */
export interface KafkaSasl {
  readonly mechanism: SaslMechanism;
  readonly username: string;
  readonly password: string;
}

/** How to reach Kafka. */
export interface KafkaConnection {
  /** Bootstrap brokers, host:port. */
  readonly brokers: readonly string[];
  /** Undefined: no authentication. */
  readonly sasl: KafkaSasl | undefined;
}

/** host:port as accepted for brokers and worker addresses. */
export const HOST_PORT = /^[A-Za-z0-9._-]+:\d{1,5}$/;

/** Secret values never appear in error messages. */
const HIDDEN = "(hidden)";

/**
 * Parses KLAGG_KAFKA_BROKERS and the KLAGG_KAFKA_SASL_* keys. `required`:
 * the writer cannot run without brokers; the gateway can (nothing is persisted
 * then, and it warns).
 */
export function parseKafkaConnection(src: ConfigSource, r: ConfigReader, required: boolean): KafkaConnection {
  const brokers = r.list("KLAGG_KAFKA_BROKERS", required ? undefined : []);
  for (const b of brokers) {
    if (!HOST_PORT.test(b))
      throw new ConfigError("KLAGG_KAFKA_BROKERS", src.KLAGG_KAFKA_BROKERS, `"${b}" is not host:port`);
  }
  const mechanism = r.optionalString("KLAGG_KAFKA_SASL_MECHANISM")?.toLowerCase();
  const username = r.optionalString("KLAGG_KAFKA_SASL_USERNAME");
  const password = r.optionalString("KLAGG_KAFKA_SASL_PASSWORD");
  if (mechanism === undefined) {
    if (username !== undefined || password !== undefined) {
      throw new ConfigError(
        "KLAGG_KAFKA_SASL_MECHANISM",
        undefined,
        "is required when KLAGG_KAFKA_SASL_USERNAME or KLAGG_KAFKA_SASL_PASSWORD is set",
      );
    }
    return { brokers, sasl: undefined };
  }
  if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
    throw new ConfigError(
      "KLAGG_KAFKA_SASL_MECHANISM",
      src.KLAGG_KAFKA_SASL_MECHANISM,
      `must be one of ${SASL_MECHANISMS.join(", ")}`,
    );
  }
  if (username === undefined)
    throw new ConfigError("KLAGG_KAFKA_SASL_USERNAME", undefined, `is required with SASL ${mechanism}`);
  if (password === undefined)
    throw new ConfigError("KLAGG_KAFKA_SASL_PASSWORD", undefined, `is required with SASL ${mechanism}`);
  return { brokers, sasl: { mechanism: mechanism as SaslMechanism, username, password } };
}

/**
 * KLAGG_REDIS_PASSWORD: kept out of the URL so it can come from a Secret.
 * A URL that already carries a password and this key at once is ambiguous and rejected.
 */
export function parseRedisPassword(r: ConfigReader, redisUrl: string | undefined): string | undefined {
  const password = r.optionalString("KLAGG_REDIS_PASSWORD");
  if (password === undefined) return undefined;
  if (redisUrl === undefined)
    throw new ConfigError("KLAGG_REDIS_PASSWORD", HIDDEN, "is set but KLAGG_REDIS_URL is not");
  if (/^rediss?:\/\/[^/@]*:[^/@]*@/.test(redisUrl)) {
    throw new ConfigError(
      "KLAGG_REDIS_PASSWORD",
      HIDDEN,
      "is set but KLAGG_REDIS_URL already has a password",
    );
  }
  return password;
}
