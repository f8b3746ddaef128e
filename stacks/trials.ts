/**
 * `virtperf:stacks:Trials`: one `local.Command` per scheduled trial (DESIGN.md, Data flow 3-5).
 *
 * - Serialized: each trial depends on the one before it (dependsOn), and carries the previous trial's
 *   resource id in its `triggers`, so the order is visible in inputs (mocks do not see dependsOn).
 * - Resumable: a trial's command exits 0 even when the trial fails (its record says `failed`), so the
 *   resource exists and the run goes on. Its `triggers` also carry a retry token read from the run's
 *   trials.jsonl and attempts.log: it changes exactly when the trial failed once more, so the next
 *   `pulumi up` replaces (re-runs) exactly the failed trials, into the same run.
 * - Results outlive `pulumi destroy`: no trial has a delete command.
 */
import * as pulumi from "@pulumi/pulumi";
import type { local } from "@pulumi/command";
import { chainCommands } from "./command-chain.ts";
import { resolve } from "node:path";
import type { TrialRecord } from "../model/record.ts";
import type { TrialPlan } from "./plan.ts";
import { countStates, readAttempts, readTrials, retryToken, trialStates, type TrialStatus } from "./results.ts";

export interface TrialsArgs {
  /** The planner's trials, in schedule order. */
  readonly trials: readonly TrialPlan[];
  /** The run's results folder (relative to `dir`), read for retry tokens and for the outputs. */
  readonly resultsDir: string;
  /** Working directory of every trial command: the project root (bin/virtperf is relative to it). */
  readonly dir: string;
  /** Resources that must exist before the first trial: every environment (and its facts). */
  readonly after: readonly pulumi.Resource[];
}

export interface TrialsSummary {
  readonly counts: Record<TrialStatus, number>;
  readonly records: TrialRecord[];
}

/** Reads the run's results folder: status counts over the planned trials, and the records. */
export function summarize(trials: readonly TrialPlan[], dirOnDisk: string): TrialsSummary {
  const records = readTrials(dirOnDisk);
  return { counts: countStates(trialStates(trials, records, readAttempts(dirOnDisk))), records };
}

export class Trials extends pulumi.ComponentResource {
  /** One command per trial, in schedule order. */
  public readonly commands: local.Command[];
  /** ok / failed / pending over the planned trials, read after the last trial ran. */
  public readonly counts: pulumi.Output<Record<TrialStatus, number>>;
  /** Every trial record of the run, read after the last trial ran. */
  public readonly records: pulumi.Output<TrialRecord[]>;

  constructor(name: string, args: TrialsArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("virtperf:stacks:Trials", name, {}, opts);
    const onDisk = resolve(args.dir, args.resultsDir);
    const states = trialStates(args.trials, readTrials(onDisk), readAttempts(onDisk));
    // Local commands (trials run where `pulumi up` runs) chained in schedule order; a failed trial gets a
    // new retry token, so the next `pulumi up` replaces exactly it (the chain's URN rule keeps the rest).
    const specs = states.map(({ trial, ...state }) => ({ role: trial.id, on: "local" as const, create: trial.command, triggers: [retryToken({ trial, ...state })] }));
    this.commands = chainCommands(name, specs, { address: { kind: "local" }, dir: args.dir }, { parent: this, after: args.after }) as local.Command[];
    const previous = this.commands[this.commands.length - 1];
    // Read the results only once the last trial is done (an apply on its output waits for it).
    const done: pulumi.Output<unknown> = previous ? previous.stdout : pulumi.output("no trials");
    const summary = done.apply(() => summarize(args.trials, onDisk));
    this.counts = summary.apply((s) => s.counts);
    this.records = summary.apply((s) => s.records);
    this.registerOutputs({ counts: this.counts, records: this.records });
  }
}
