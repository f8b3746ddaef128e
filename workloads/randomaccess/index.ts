/**
 * randomaccess: HPCC RandomAccess (GUPS) from Debian's hpcc, one MPI process per CPU. The paper ran the
 * HPCC-derived GUPS on a 2^33-word (64 GiB) table with 10^9 updates. hpcc gives RandomAccess half of
 * the memory HPL's N implies; see ../hpcc.ts for sizing and MPI settings.
 */
import type { HostShape, MetricSpec, ProfileName, Workload } from "../contract.ts";
import { HPCC_WORKLOAD_FIELDS, hpccParams, hpccSteps, type HpccParams } from "../hpcc.ts";
import { parseRandomAccess } from "./parse.ts";

export type RandomAccessParams = HpccParams;

/**
 * The paper's table took 64 GiB of 256 GB (25%); hpcc's table is half of the matrix's memory, so full
 * lets the matrix take 50% of the environment's memory, unless HPL (run with the same N) would outgrow
 * linpack's full size, which binds first on most shapes.
 */
const MEMORY_SHARE = 0.5;

const metrics: readonly MetricSpec[] = [
  { name: "gups", unit: "GUPS", better: "higher", description: "giga (10^9) updates per second of random table entries; case mpi: one table over all processes; star: all processes on their own tables, summed; single: one process" },
];

export const workload: Workload<RandomAccessParams> = {
  name: "randomaccess",
  title: "RandomAccess GUPS (hpcc)",
  paper: "HPCC-derived RandomAccess, 2^33-word (64 GiB) table, 10^9 updates: GUPS",
  group: "memory",
  ...HPCC_WORKLOAD_FIELDS,
  metrics,
  cases: ["mpi", "star", "single"],
  params: (profile: ProfileName, shape: HostShape) => hpccParams(profile, shape, MEMORY_SHARE),
  steps: (p) => hpccSteps(p),
  parse: (raw, p) => parseRandomAccess(raw, p),
};
