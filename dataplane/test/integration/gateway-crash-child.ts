/**
 * A gateway process for the crash test: the real wiring (`createGateway`, gRPC
 * workers, the kafkajs producer, durable acks) configured from the environment
 * like `klagg gateway`, with one test hook: after SIGUSR2 every Kafka send
 * hangs, as with a broker that stopped answering (the shared broker itself is
 * never touched). Prints one JSON status line per tick on stdout; the test
 * SIGKILLs it.
 */
import { Registry } from "prom-client";
import { parseGatewayConfig } from "../../src/config/gateway.js";
import { createGateway } from "../../src/gateway/create.js";
import { KafkaJsProducer } from "../../src/gateway/kafka-producer.js";
import type { KafkaProducerPort, KafkaRecord } from "../../src/gateway/ports.js";
import { createLogger } from "../../src/obs/log.js";

/** A producer whose sends hang forever once `held`. */
class HoldableProducer implements KafkaProducerPort {
  held = false;
  sentKlinesRecords = 0;
  constructor(private readonly inner: KafkaProducerPort) {}
  async send(records: readonly KafkaRecord[]): Promise<void> {
    if (this.held) await new Promise<never>(() => undefined);
    await this.inner.send(records);
    this.sentKlinesRecords += records.length;
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

const config = parseGatewayConfig(process.env);
const log = createLogger("gateway", { level: "warn" });
const registry = new Registry();
const producer = new HoldableProducer(
  new KafkaJsProducer({ brokers: config.kafkaBrokers, topic: config.kafkaTopic }, log),
);
const gw = createGateway(config, { log, registry, kafkaProducer: producer });
process.on("SIGUSR2", () => {
  producer.held = true;
});
gw.onTick((r) => {
  void (async () => {
    const depth = registry.getSingleMetric("klagg_gateway_kafka_queue_depth");
    const closed = (await depth?.get())?.values.find((v) => v.labels.kind === "closed")?.value ?? 0;
    process.stdout.write(
      `${JSON.stringify({
        seq: r.snapshot.seq,
        held: producer.held,
        records_confirmed: producer.sentKlinesRecords,
        closed_queued: closed,
        workers: gw.workerStatus().map((w) => ({ name: w.name, epoch: w.epoch, handed: w.ackVersion })),
      })}\n`,
    );
  })();
});
gw.start();
