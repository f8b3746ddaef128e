/**
 * Every workload, by id. Typed as a Record over WorkloadId, so a missing or misnamed module fails to
 * compile (awsx resources.ts; PKB's import-time duplicate check).
 */
import type { Workload, WorkloadId } from "./contract.ts";
import { WORKLOAD_IDS } from "./contract.ts";
import { workload as xz } from "./xz/index.ts";
import { workload as linpack } from "./linpack/index.ts";
import { workload as stream } from "./stream/index.ts";
import { workload as randomaccess } from "./randomaccess/index.ts";
import { workload as nuttcp } from "./nuttcp/index.ts";
import { workload as rr } from "./rr/index.ts";
import { workload as fio } from "./fio/index.ts";
import { workload as redis } from "./redis/index.ts";
import { workload as mysql } from "./mysql/index.ts";

// `satisfies`: a missing, extra or misnamed module is a compile error, and each module keeps its own
// params type (the contract takes params by method syntax, so a Workload<XzParams> is a Workload).
const MODULES = { xz, linpack, stream, randomaccess, nuttcp, rr, fio, redis, mysql } satisfies { readonly [K in WorkloadId]: Workload };
export const WORKLOADS: { readonly [K in WorkloadId]: Workload } = MODULES;

for (const id of WORKLOAD_IDS) {
  if (WORKLOADS[id].name !== id) throw new Error(`workloads/registry.ts: module for "${id}" calls itself "${WORKLOADS[id].name}"`);
}

/** Debian packages of every workload, env and client side: what images and hosts install. Sorted, unique. */
export function allPackages(): string[] {
  return [...new Set(WORKLOAD_IDS.flatMap((id) => [...WORKLOADS[id].packages, ...WORKLOADS[id].clientPackages]))].sort();
}
