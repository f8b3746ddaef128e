/**
 * STREAM's results from hpcc's output. Pure. Two cases:
 * - `star`: every MPI process (one per CPU) runs STREAM at once on its own arrays, the closest match to the
 *   paper's whole-machine STREAM (32 OpenMP threads). hpcc reports the mean per-process rate; the record
 *   carries the total, mean x processes, the machine's aggregate bandwidth.
 * - `single`: one process runs STREAM while the others wait: one CPU's bandwidth.
 * Content checks: StarSTREAM's "Solution Validates" and no process with a validation error.
 */
import { ParseError } from "../../lib/errors.ts";
import type { Case, Metric, RawRun } from "../contract.ts";
import { caseParams, checkNodeErrors, outputOf, positive, section, summary, type HpccParams } from "../hpcc.ts";

export const STREAM_KERNELS = ["copy", "scale", "add", "triad"] as const;
const SUMMARY_KEY = { copy: "Copy", scale: "Scale", add: "Add", triad: "Triad" } as const;

export function parseStream(raw: RawRun, hp: HpccParams): Case[] {
  const output = outputOf(raw);
  const star = section(output, "StarSTREAM");
  if (!/Solution Validates/.test(star)) throw new ParseError("hpcc", `StarSTREAM's "Solution Validates"`, star);
  checkNodeErrors(star, "StarSTREAM", output);
  checkNodeErrors(section(output, "SingleSTREAM"), "SingleSTREAM", output);
  const values = summary(output);
  const params = { ...caseParams(hp, values, output), vectorSize: positive(values, "STREAM_VectorSize", output) };
  const procs = params.procs;
  // hpcc's STREAM rates are already GB/s = 10^9 B/s (1e-9 * bytes / seconds, as the original STREAM).
  const kernels = (prefix: string, factor: number): Metric[] =>
    STREAM_KERNELS.map((k) => ({
      name: k, value: positive(values, `${prefix}_${SUMMARY_KEY[k]}`, output) * factor, unit: "GB/s", better: "higher" as const,
    }));
  return [
    { case: "star", params, metrics: kernels("StarSTREAM", procs) },
    { case: "single", params, metrics: kernels("SingleSTREAM", 1) },
  ];
}
