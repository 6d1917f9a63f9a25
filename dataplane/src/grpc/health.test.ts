import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import type { HealthCheckRequest, HealthCheckResponse } from "../gen/grpc/health/v1/health_pb.js";
import { FakeEngine } from "./fake-engine.test-helper.js";
import { ServingStatus } from "./health.js";
import { healthServiceDefinition } from "./service-def.js";
import { WorkerClient, WorkerPullError } from "./worker-client.js";
import { WorkerGrpcServer } from "./worker-server.js";

const server = new WorkerGrpcServer({
  host: "127.0.0.1",
  port: 0,
  workerName: "h",
  engine: new FakeEngine(1),
  symbols: ["BTCUSDT"],
});
let client: WorkerClient;
let port = 0;

before(async () => {
  port = await server.start();
  client = new WorkerClient(`127.0.0.1:${port}`);
});
after(async () => {
  client.close();
  await server.stop(200);
});

const req = (service: string): HealthCheckRequest => ({
  $typeName: "grpc.health.v1.HealthCheckRequest",
  service,
});

test("Check answers SERVING for the server and the worker service once started", async () => {
  assert.equal(await client.checkHealth(""), "SERVING");
  assert.equal(await client.checkHealth("klagg.v1.WorkerService"), "SERVING");
});

test("Check of an unknown service fails with NOT_FOUND", async () => {
  await assert.rejects(client.checkHealth("nope.Service"), (e: unknown) => {
    return e instanceof WorkerPullError && e.code === "NOT_FOUND";
  });
});

test("Watch streams the current status, then NOT_SERVING on shutdown, then ends", async () => {
  const Raw = grpc.makeGenericClientConstructor(healthServiceDefinition, "Health");
  const raw = new Raw(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    const seen: ServingStatus[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      const call = raw["watch"]!(
        req("klagg.v1.WorkerService"),
      ) as grpc.ClientReadableStream<HealthCheckResponse>;
      call.on("data", (r: HealthCheckResponse) => {
        seen.push(r.status);
        if (r.status === ServingStatus.SERVING) server.setNotServing();
      });
      call.on("error", reject);
      call.on("end", resolve);
    });
    // Once NOT_SERVING arrived, stopping the server ends the watch cleanly.
    while (seen.length < 2) await new Promise((r) => setTimeout(r, 10));
    await server.stop(200);
    await ended;
    assert.deepEqual(seen, [ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
  } finally {
    raw.close();
  }
});

test("Watch of an unregistered service answers SERVICE_UNKNOWN", async () => {
  const s = new WorkerGrpcServer({
    host: "127.0.0.1",
    port: 0,
    workerName: "h2",
    engine: new FakeEngine(1),
    symbols: [],
  });
  const p = await s.start();
  const Raw = grpc.makeGenericClientConstructor(healthServiceDefinition, "Health");
  const raw = new Raw(`127.0.0.1:${p}`, grpc.credentials.createInsecure());
  try {
    const first = await new Promise<HealthCheckResponse>((resolve, reject) => {
      const call = raw["watch"]!(req("other.Service")) as grpc.ClientReadableStream<HealthCheckResponse>;
      call.on("data", (r: HealthCheckResponse) => {
        resolve(r);
        call.cancel();
      });
      call.on("error", (e: grpc.ServiceError) => {
        if (e.code !== grpc.status.CANCELLED) reject(e);
      });
    });
    assert.equal(first.status, ServingStatus.SERVICE_UNKNOWN);
  } finally {
    raw.close();
    await s.stop(200);
  }
});
