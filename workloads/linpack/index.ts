/**
 * linpack: HPL from Debian's hpcc (HPC Challenge), one MPI process per CPU. The paper ran Intel's
 * optimized LINPACK (MKL) with N = 45000; here HPL runs on OpenBLAS (libopenblas0-serial, one thread per
 * process), the closest optimized BLAS in Debian main. Sizing and MPI settings: ../hpcc.ts.
 */
import type { HostShape, MetricSpec, ProfileName, Workload } from "../contract.ts";
import { HPCC_WORKLOAD_FIELDS, hpccParams, hpccSteps, type HpccParams } from "../hpcc.ts";
import { parseLinpack } from "./parse.ts";

export type LinpackParams = HpccParams;

/**
 * The paper's matrix took 16.2 GB of 256 GB (6.3%); full keeps that share of the environment's memory
 * as the cap on N (the compute rule of ../hpcc.ts usually binds first).
 */
const MEMORY_SHARE = 0.063;

const metrics: readonly MetricSpec[] = [
  { name: "gflops", unit: "GFLOPS", better: "higher", description: "HPL solve rate, 10^9 floating-point operations per second, all processes" },
  { name: "time", unit: "s", better: "lower", description: "HPL wall time to solve the system" },
];

export const workload: Workload<LinpackParams> = {
  name: "linpack",
  title: "HPL dense linear solve (hpcc)",
  paper: "Intel optimized LINPACK (MKL), N = 45000, 32 threads, 10 trials: GFLOPS",
  group: "cpu",
  ...HPCC_WORKLOAD_FIELDS,
  metrics,
  cases: ["hpl"],
  params: (profile: ProfileName, shape: HostShape) => hpccParams(profile, shape, MEMORY_SHARE),
  steps: (p) => hpccSteps(p),
  parse: (raw, p) => parseLinpack(raw, p),
};
