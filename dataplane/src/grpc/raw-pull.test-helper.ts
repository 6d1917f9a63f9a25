/**
 * Test support: one Pull through a plain grpc-js client that hands back every
 * PullChunk as it came off the wire (WorkerClient assembles them), so tests can
 * check the chunking itself.
 */
import * as grpc from "@grpc/grpc-js";
import type { PullChunk, PullRequest } from "../gen/klagg/v1/worker_pb.js";
import { workerServiceDefinition } from "./service-def.js";

/** A full-state Pull (no epoch, nothing acked) with `maxKlinesPerChunk`; resolves with the chunks in order. */
export async function pullRawChunks(address: string, maxKlinesPerChunk: number): Promise<PullChunk[]> {
  const Raw = grpc.makeGenericClientConstructor(workerServiceDefinition, "WorkerService");
  const raw = new Raw(address, grpc.credentials.createInsecure());
  const req: PullRequest = {
    $typeName: "klagg.v1.PullRequest",
    epoch: 0n,
    ackVersion: 0n,
    sinceVersion: 0n,
    maxKlinesPerChunk,
  };
  try {
    return await new Promise((resolve, reject) => {
      const got: PullChunk[] = [];
      const call = raw["pull"]!(req) as grpc.ClientReadableStream<PullChunk>;
      call.on("data", (c: PullChunk) => got.push(c));
      call.on("error", reject);
      call.on("end", () => resolve(got));
    });
  } finally {
    raw.close();
  }
}
