/** The `virtperf` command: one file per verb; errors become one line and an exit code. */
import { Command, CommanderError } from "commander";
import { isVerbose, reportError } from "./errors.ts";

const verbose = isVerbose(process.argv);
const settle = (code: Promise<number>) =>
  code.then((c) => (process.exitCode = c), (e) => (process.exitCode = reportError(e, verbose)));

const program = new Command("virtperf")
  .description("what does isolation cost? the same workloads on bare metal, Docker and KVM")
  .option("--verbose", "print error details")
  .exitOverride()
  .showSuggestionAfterError();

type Register = (program: Command, run: typeof settle) => void;
// `trial` starts once per trial, hundreds of times a run: only the verb given is loaded (report's
// analysis and e2e's planner cost it 0.3 s); help and unknown verbs load them all.
const VERBS: Record<string, () => Promise<Register>> = {
  trial: async () => (await import("./trial.ts")).registerTrial,
  workloads: async () => (await import("./workloads.ts")).registerWorkloads,
  report: async () => (await import("./report.ts")).registerReport,
  e2e: async () => (await import("./e2e.ts")).registerE2e,
  doctor: async () => (await import("./doctor.ts")).registerDoctor,
};
const verb = process.argv.slice(2).find((a) => !a.startsWith("-"));
for (const name of verb && verb in VERBS ? [verb] : Object.keys(VERBS)) (await VERBS[name]!())(program, settle);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exitCode = e.exitCode === 0 ? 0 : 2;
  else process.exitCode = reportError(e, verbose);
}
