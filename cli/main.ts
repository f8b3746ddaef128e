/** The `virtperf` command: one file per verb; errors become one line and an exit code. */
import { Command, CommanderError } from "commander";
import { registerTrial } from "./trial.ts";
import { registerWorkloads } from "./workloads.ts";
import { registerReport } from "./report.ts";
import { registerE2e } from "./e2e.ts";
import { isVerbose, reportError } from "./errors.ts";

const verbose = isVerbose(process.argv);
const settle = (code: Promise<number>) =>
  code.then((c) => (process.exitCode = c), (e) => (process.exitCode = reportError(e, verbose)));

const program = new Command("virtperf")
  .description("what does isolation cost? the same workloads on bare metal, Docker and KVM")
  .option("--verbose", "print error details")
  .exitOverride()
  .showSuggestionAfterError();
registerTrial(program, settle);
registerWorkloads(program);
registerReport(program);
registerE2e(program, settle);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exitCode = e.exitCode === 0 ? 0 : 2;
  else process.exitCode = reportError(e, verbose);
}
