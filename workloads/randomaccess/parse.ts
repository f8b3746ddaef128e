/**
 * RandomAccess (GUPS) results from hpcc's output. Pure. Three cases:
 * - `mpi`: MPIRandomAccess, one table spread over all processes (half of their memory), updates sent
 *   as MPI messages: HPCC's headline RandomAccess figure.
 * - `star`: every process updates its own table at once; hpcc reports the mean per process, the record
 *   carries the total (mean x processes).
 * - `single`: one process alone.
 * Content checks: MPI and Star verification "(passed)" (HPCC tolerates up to 1% of wrong table entries,
 * since updates may race), and no process with an error.
 */
import { ParseError } from "../../lib/errors.ts";
import type { Case, RawRun } from "../contract.ts";
import { caseParams, checkNodeErrors, outputOf, positive, section, summary, type HpccParams } from "../hpcc.ts";

const gups = (value: number) => ({ name: "gups", value, unit: "GUPS", better: "higher" as const });

export function parseRandomAccess(raw: RawRun, hp: HpccParams): Case[] {
  const output = outputOf(raw);
  const mpi = section(output, "MPIRandomAccess");
  if (!/\(passed\)/.test(mpi)) throw new ParseError("hpcc", `MPIRandomAccess's verification "(passed)"`, mpi);
  const star = section(output, "StarRandomAccess");
  if (!/\(passed\)/.test(star)) throw new ParseError("hpcc", `StarRandomAccess's verification "(passed)"`, star);
  checkNodeErrors(star, "StarRandomAccess", output);
  checkNodeErrors(section(output, "SingleRandomAccess"), "SingleRandomAccess", output);
  const values = summary(output);
  const base = caseParams(hp, values, output);
  const perProcessTable = positive(values, "RandomAccess_N", output);
  return [
    {
      case: "mpi",
      params: { ...base, tableWords: positive(values, "MPIRandomAccess_N", output), updates: positive(values, "MPIRandomAccess_ExeUpdates", output) },
      metrics: [gups(positive(values, "MPIRandomAccess_GUPs", output))],
    },
    { case: "star", params: { ...base, tableWords: perProcessTable }, metrics: [gups(positive(values, "StarRandomAccess_GUPs", output) * base.procs)] },
    { case: "single", params: { ...base, tableWords: perProcessTable }, metrics: [gups(positive(values, "SingleRandomAccess_GUPs", output))] },
  ];
}
