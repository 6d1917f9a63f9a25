#!/usr/bin/env node
// Copies the single-source CRD (operator/crd/) to the Helm chart and the plain manifests.
// operator/src/crd-sync.test.ts fails when a copy differs; run this after editing the CRD.
import { copyFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const SOURCE = "operator/crd/klineaggregators.klagg.io.yaml";
export const COPIES = ["charts/klagg/crds/klineaggregators.klagg.io.yaml", "deploy/manifests/crd.yaml"];
for (const c of COPIES) {
  copyFileSync(join(root, SOURCE), join(root, c));
  console.log(`${SOURCE} -> ${c}`);
}
