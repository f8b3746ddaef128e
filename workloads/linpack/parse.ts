/**
 * HPL's result from hpcc's output (hpccoutf.txt). Pure. Content checks: the HPL section must report
 * every test run and passed the scaled-residual check, none failed or skipped; the Summary must carry a
 * positive HPL_Tflops (hpcc writes -1 when HPL did not complete).
 */
import { ParseError } from "../../lib/errors.ts";
import type { Case, RawRun } from "../contract.ts";
import { caseParams, outputOf, positive, section, summary, type HpccParams } from "../hpcc.ts";

/** hpcc reports Tflops; records carry GFLOPS (10^9 floating-point operations per second). */
const tflopsToGflops = (t: number): number => t * 1000;

export function parseLinpack(raw: RawRun, hp: HpccParams): Case[] {
  const output = outputOf(raw);
  const hpl = section(output, "HPL");
  checkResiduals(hpl, output);
  const values = summary(output);
  const gflops = tflopsToGflops(positive(values, "HPL_Tflops", output));
  const timeS = positive(values, "HPL_time", output);
  return [{
    case: "hpl",
    params: caseParams(hp, values, output),
    metrics: [
      { name: "gflops", value: gflops, unit: "GFLOPS", better: "higher" },
      { name: "time", value: timeS, unit: "s", better: "lower" },
    ],
  }];
}

/** HPL's closing tally: "<k> tests completed and passed residual checks," and zero failed or skipped. */
function checkResiduals(hpl: string, output: string): void {
  const count = (what: RegExp): number | undefined => {
    const m = what.exec(hpl);
    return m ? Number(m[1]) : undefined;
  };
  const passed = count(/(\d+) tests? completed and passed residual checks/);
  const failed = count(/(\d+) tests? completed and failed residual checks/);
  const skipped = count(/(\d+) tests? skipped because of illegal input values/);
  if (passed === undefined || failed === undefined || skipped === undefined) {
    throw new ParseError("hpcc", "HPL's tally of passed, failed and skipped tests", output);
  }
  if (failed > 0 || skipped > 0 || passed < 1 || !/\.\.\.\.\.\. PASSED/.test(hpl)) {
    throw new ParseError("hpcc", `HPL to pass its residual check (passed ${passed}, failed ${failed}, skipped ${skipped})`, hpl);
  }
}
