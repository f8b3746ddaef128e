/**
 * stream: STREAM from Debian's hpcc (HPC Challenge), one MPI process per CPU. The paper ran STREAM with
 * 32 OpenMP threads on 1.65 G-element arrays (36.9 GiB). hpcc sizes STREAM from HPL's N (three vectors
 * of N^2 / (3 * procs) doubles per process), so N is chosen for STREAM's sake; see ../hpcc.ts.
 */
import type { HostShape, MetricSpec, ProfileName, Workload } from "../contract.ts";
import { HPCC_WORKLOAD_FIELDS, hpccParams, hpccSteps, type HpccParams } from "../hpcc.ts";
import { parseStream, STREAM_KERNELS } from "./parse.ts";

export type StreamParams = HpccParams;

/**
 * The paper's arrays took 36.9 GiB of 256 GB (14.4%); full gives STREAM that share of the environment's
 * memory unless HPL (which hpcc runs first-class with the same N) would outgrow linpack's full size.
 * Either way each array is hundreds of MB, far beyond any cache.
 */
const MEMORY_SHARE = 0.144;

const DESCRIPTIONS = {
  copy: "a[i] = b[i]", scale: "a[i] = q * b[i]", add: "a[i] = b[i] + c[i]", triad: "a[i] = b[i] + q * c[i]",
} as const;

const metrics: readonly MetricSpec[] = STREAM_KERNELS.map((k) => ({
  name: k, unit: "GB/s", better: "higher" as const,
  description: `STREAM ${k} (${DESCRIPTIONS[k]}), 10^9 B/s; case star: all processes at once, summed; case single: one process`,
}));

export const workload: Workload<StreamParams> = {
  name: "stream",
  title: "STREAM memory bandwidth (hpcc)",
  paper: "STREAM, 1.65 G doubles per array (36.9 GiB), 32 OpenMP threads, best of 10: copy, scale, add, triad GB/s",
  group: "memory",
  ...HPCC_WORKLOAD_FIELDS,
  metrics,
  cases: ["star", "single"],
  params: (profile: ProfileName, shape: HostShape) => hpccParams(profile, shape, MEMORY_SHARE),
  steps: (p) => hpccSteps(p),
  parse: (raw, p) => parseStream(raw, p),
};
