/**
 * `npm run e2e`: the real run without the Pulumi engine. Reads the stack file as Pulumi would, plans with
 * the ONE planner, and runs exactly the planner's commands in the program's order: host preparation,
 * images, environments, facts, every trial in schedule order (skipping trials already ok in the run's
 * trials.jsonl, so a killed run resumes), then teardown in reverse, also on failure and SIGINT/SIGTERM.
 *
 * Faults (issue 10): one run per stack at a time (`<resultsRoot>/<stack>/.lock`, the holder named when
 * refused); leftovers of a killed run are reaped in every environment before the first trial; SIGINT or
 * SIGTERM starts no further trial, stops the running one (it records itself as interrupted) and tears
 * down; a trial whose record cannot be written (a full disk) stops the run, its record kept pending for
 * the next run; torn lines and duplicate records of trials.jsonl are reported, never fatal.
 *
 *   npm run e2e -- [--profile smoke] [--stack dev] [--config Pulumi.dev.yaml] [--environments a,b]
 *                  [--workloads a,b] [--repetitions N] [--seed N] [--results-root DIR] [--keep] [--remove-images]
 */
import { Command } from "commander";
import { appendFileSync, readFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { ConfigError, ProvisionError, tail } from "../lib/errors.ts";
import { namespaceKeys, parseExperiment } from "../stacks/config.ts";
import { plan } from "../stacks/planner.ts";
import { probeHost } from "../stacks/host-probe.ts";
import { assertPreflight, hostProbeOf, preflight } from "../stacks/preflight/preflight.ts";
import { renderChecks } from "../stacks/preflight/table.ts";
import { readAttempts, readTrials, readTrialsChecked, trialStates, writeRunFiles } from "../stacks/results.ts";
import { dedupeTrials } from "../model/record.ts";
import { flushPending, outProblem, pendingFile } from "../workloads/record-store.ts";
import { connect } from "../workloads/runner/targets.ts";
import { leftoverScript, parseLeftovers } from "../workloads/runner/contamination.ts";
import { acquireRunLock } from "../lib/run-lock.ts";
import { shq } from "../lib/shell.ts";
import type { Plan } from "../stacks/plan.ts";
import { bringUpSteps, type Step } from "./e2e-steps.ts";
import { isVerbose, reportError } from "./errors.ts";
import { intInRange, MAX_SEED, oneOf, pathOption } from "./choices.ts";
import { PROFILES, WORKLOAD_IDS } from "../workloads/contract.ts";
import { PRESET_NAMES } from "../stacks/kinds.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export interface E2eOptions {
  stack: string; config?: string; profile?: string; environments?: string; workloads?: string;
  repetitions?: string; seed?: string; resultsRoot?: string; calibration?: string; retryContaminated?: string; keep?: boolean; removeImages?: boolean;
}

/** The stack's `virtperf:` config from its YAML, with the command line's overrides on top (each flag checked). */
export function stackConfig(o: E2eOptions): Record<string, unknown> {
  if (!/^[a-z][a-z0-9-]{0,30}$/.test(o.stack)) throw new ConfigError("--stack", `--stack ${JSON.stringify(o.stack)}: must be lowercase letters, digits and '-', starting with a letter, at most 31 characters`);
  const file = resolve(ROOT, o.config ?? `Pulumi.${o.stack}.yaml`);
  let doc: { config?: Record<string, unknown> } | null;
  try {
    doc = parseYaml(readFileSync(file, "utf8")) as typeof doc;
  } catch (e) {
    throw new ConfigError("--config", `cannot read stack file ${file}: ${(e as Error).message}`);
  }
  const raw = namespaceKeys(doc?.config ?? {});
  const list = (flag: string, s: string) => {
    const words = s.split(",").map((w) => w.trim());
    if (words.some((w) => !w)) throw new ConfigError(flag, `${flag} ${JSON.stringify(s)}: a comma-separated list without empty items`);
    return words;
  };
  if (o.profile !== undefined) raw.profile = oneOf("--profile", o.profile, PROFILES);
  if (o.workloads !== undefined) raw.workloads = list("--workloads", o.workloads).map((w) => oneOf("--workloads", w, WORKLOAD_IDS, "workload"));
  if (o.repetitions !== undefined) raw.repetitions = intInRange("--repetitions", o.repetitions, 1, 1000);
  if (o.seed !== undefined) raw.seed = intInRange("--seed", o.seed, 0, MAX_SEED);
  if (o.resultsRoot !== undefined) raw.resultsRoot = pathOption("--results-root", o.resultsRoot, true);
  if (o.calibration !== undefined) raw.calibration = list("--calibration", o.calibration);
  if (o.retryContaminated !== undefined) raw.retryContaminated = intInRange("--retry-contaminated", o.retryContaminated, 0, 3);
  if (o.environments !== undefined) {
    // A name the stack defines keeps its definition; any other name must be a preset.
    const defined = new Map((Array.isArray(raw.environments) ? raw.environments : []).map((e: unknown) =>
      [typeof e === "string" ? e : (e as { name?: string }).name, e]));
    const known = [...new Set([...defined.keys()].filter((n): n is string => typeof n === "string").concat(PRESET_NAMES))];
    raw.environments = list("--environments", o.environments).map((n) => defined.get(n) ?? oneOf("--environments", n, known, "environment (the stack's names or a preset)"));
  }
  return raw;
}

let logFailed = false;
/** Appends to the run's log; a log that cannot be written (a full disk) is said once and never stops the run. */
function toLog(log: string, b: Buffer | string): void {
  try {
    appendFileSync(log, b);
  } catch (e) {
    if (!logFailed) console.log(`(cannot write ${log}: ${(e as Error).message}; output is not logged from here on)`);
    logFailed = true;
  }
}

/**
 * Runs bash in the project root; output goes to the run's log. Resolves with the exit code. With
 * `lifeline`, its stdin stays open and VIRTPERF_TRIAL_LIFELINE=stdin tells a trial to stop when it
 * closes (this process died, or `stop` below, which first writes the signal's name so the trial
 * records the same reason whether the signal or the closed lifeline reaches it first).
 */
function bash(script: string, log: string, opts: { lifeline?: (stop: (reason: NodeJS.Signals) => void) => void } = {}): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    const child = spawn("bash", ["-c", script], {
      cwd: ROOT, stdio: [opts.lifeline ? "pipe" : "ignore", "pipe", "pipe"],
      ...(opts.lifeline ? { env: { ...process.env, VIRTPERF_TRIAL_LIFELINE: "stdin" } } : {}),
    });
    child.stdin?.on("error", () => {});
    opts.lifeline?.((reason) => child.stdin?.end(`${reason}\n`));
    let output = "";
    const keep = (b: Buffer) => { output += b.toString(); toLog(log, b); };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    child.on("close", (code, signal) => { child.stdin?.end(); done({ code: code ?? (signal ? 128 : 1), output }); });
  });
}

const fmtS = (s: number) => (s < 60 ? `${Math.round(s)} s` : `~${Math.round(s / 60)} min`);

async function bringUp(steps: readonly Step[], log: string, stopped: () => NodeJS.Signals | undefined): Promise<void> {
  for (const s of steps) {
    const sig = stopped();
    if (sig) throw new ProvisionError(`bring-up stopped by ${sig} before ${s.label}`);
    const started = performance.now();
    process.stdout.write(`up   ${s.label} ... `);
    const r = await bash(s.create, log);
    const took = (performance.now() - started) / 1000;
    if (r.code !== 0) {
      console.log(`FAILED (exit ${r.code})`);
      throw new ProvisionError(`${s.label} failed with exit code ${r.code}`, { detail: tail(r.output, 30) });
    }
    // A facts script that fails does not stop the run (trials do not need it), but it must be seen.
    const factsFailed = s.phase === "facts" && /^facts of .* failed$/m.test(r.output);
    console.log(factsFailed ? `FAILED, no facts recorded (see ${log})` : `ok ${took.toFixed(1)}s`);
  }
}

/** Delete scripts in reverse; errors are reported, never stop the teardown. */
async function tearDown(steps: readonly Step[], log: string, quiet = false): Promise<void> {
  for (const s of [...steps].reverse()) {
    if (!s.delete) continue;
    const r = await bash(s.delete, log);
    if (!quiet) console.log(`down ${s.label} ${r.code === 0 ? "ok" : `failed (exit ${r.code}), see ${log}`}`);
  }
}

/** How the trial loop is told to stop, and how it stops the running trial. */
interface Stop {
  /** The signal that asked to stop, once one did. */
  readonly signal: () => NodeJS.Signals | undefined;
  /** Set while a trial runs: stops it (it records itself as interrupted by that signal). */
  current?: (reason: NodeJS.Signals) => void;
}

/** Torn lines and duplicate records of the run's trials.jsonl, as warnings (never fatal: the reader skips them). */
function warnAboutRecords(dir: string): void {
  const read = readTrialsChecked(dir);
  for (const s of read.skipped) console.log(`warning: ${s.file}:${s.line} skipped: ${s.reason}`);
  for (const d of dedupeTrials(read.records).duplicates) console.log(`warning: ${d.file}:${d.line}: ${d.reason}`);
}

async function runTrials(p: Plan, log: string, stop: Stop): Promise<{ ok: number; failed: number; halted?: string }> {
  const dir = resolve(ROOT, p.resultsDir);
  warnAboutRecords(dir);
  const before = trialStates(p.trials, readTrials(dir), readAttempts(dir));
  const todo = before.filter((s) => s.status !== "ok");
  const total = p.trials.length;
  if (todo.length < total) console.log(`resuming run ${p.runId}: ${total - todo.length} of ${total} trials already ok`);
  let estLeft = todo.reduce((a, s) => a + s.trial.estimateS, 0), spentEst = 0, spentReal = 0;
  const counts = { ok: 0, failed: 0 };
  for (const { trial: t } of todo) {
    const sig = stop.signal();
    if (sig) return { ...counts, halted: `${sig}: no further trials started` };
    const what = `${t.environment} ${t.workload} ${t.warmup ? "warm-up" : `r${t.rep}`}`;
    process.stdout.write(`[${t.order + 1}/${total}] ${what} ... `);
    const started = performance.now();
    const r = await bash(t.command, log, { lifeline: (end) => { stop.current = end; } });
    delete stop.current;
    const took = (performance.now() - started) / 1000;
    const state = trialStates([t], readTrials(dir), readAttempts(dir))[0]!;
    const ok = state.status === "ok";
    counts[ok ? "ok" : "failed"]++;
    estLeft -= t.estimateS; spentEst += t.estimateS; spentReal += took;
    // Time left: the planner's estimates, scaled by how this run's trials compared with them so far.
    const left = estLeft * (spentReal / spentEst);
    const why = ok ? "" : r.code === 3 ? " (its record could not be written to the results folder: kept pending)"
      : ` (${state.record?.error?.message.split("\n")[0] ?? "no record; see e2e.log"})`;
    console.log(`${ok ? "ok" : "FAILED"} ${took.toFixed(1)}s, ${fmtS(left)} left${why}`);
    if (r.code === 3) {
      return { ...counts, halted: `the record of trial ${t.id} could not be written to ${p.resultsDir}: kept in ${pendingFile(dir)}; ` +
        `free the space (or fix the folder) and run again: the next run moves it in and runs only what is missing` };
    }
    if (r.code === 4) return { ...counts, halted: `trial ${t.id} was refused: another run holds the stack's lock (see ${log})` };
  }
  return counts;
}

/**
 * Processes of an earlier, killed run left in any environment's work root (contamination.ts's
 * leftoverScript): named and killed before the first trial, so none shares the host with this run.
 */
async function reapLeftovers(p: Plan): Promise<void> {
  for (const env of p.environments) {
    try {
      const r = await connect(env.target).exec(leftoverScript(env.workRoot, shq), { timeoutS: 60 });
      const found = parseLeftovers(r.stdout);
      if (found.length) console.log(`reaped in ${env.def.name}, left by an earlier run: ${found.join(", ")}`);
    } catch (e) {
      console.log(`could not look for leftovers in ${env.def.name}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
}

export async function e2e(o: E2eOptions): Promise<number> {
  const basic = probeHost();
  const x = parseExperiment(stackConfig(o), o.stack, basic);
  if (x.host.address.kind !== "local") throw new ConfigError("virtperf:host", "npm run e2e runs on this machine only; use `npm run up` (Pulumi) for an SSH host");
  // One run per stack: a second one would tear down the first one's containers and guests.
  const lock = acquireRunLock(resolve(ROOT, x.resultsRoot, x.stack, ".lock"), `a run of stack ${x.stack}`,
    `npm run e2e -- ${process.argv.slice(2).join(" ")}`.slice(0, 300));
  try {
    return await lockedRun(o, x, basic);
  } finally {
    lock.release();
  }
}

async function lockedRun(o: E2eOptions, x: ReturnType<typeof parseExperiment>, basic: ReturnType<typeof probeHost>): Promise<number> {
  // Pre-flight first: nothing is created when a check fails (the table says which and how to fix it).
  const checked = preflight(x);
  assertPreflight(x, checked);
  const p = plan(x, hostProbeOf(basic, checked));
  const dir = resolve(ROOT, p.resultsDir);
  // The results folder must take records before anything is brought up; records a full disk left pending go in first.
  const problem = outProblem(dir);
  if (problem) throw new ProvisionError(`${problem}; nothing was started`, { suggestions: ["free space on that file system, or give --results-root elsewhere"] });
  const flushed = flushPending(dir);
  if (flushed.problem) throw new ProvisionError(`records kept pending in ${flushed.pending} cannot be moved into ${p.resultsDir}: ${flushed.problem}; nothing was started`);
  writeRunFiles(dir, x, p.schedule, p.runId, p.notMeasured);
  const log = join(dir, "e2e.log");
  const steps = bringUpSteps(p);
  const envSteps = steps.filter((s) => s.phase === "environment");
  const downSteps = steps.filter((s) => o.removeImages || s.phase !== "image");
  console.log(`virtperf e2e: stack ${x.stack}, run ${p.runId}, ${p.trials.length} trials, profile ${x.profile}, results ${p.resultsDir}`);
  if (flushed.moved) console.log(`moved ${flushed.moved} record(s) kept pending by an earlier run (a full disk) into trials.jsonl`);
  const notOk = checked.checks.filter((c) => c.status === "warn");
  if (notOk.length) console.log(`pre-flight warnings:\n${renderChecks(notOk)}`);
  for (const env of p.environments) if (env.accelerationReason) console.log(`${env.def.name}: ${env.acceleration.toUpperCase()} (${env.accelerationReason})`);
  for (const env of p.environments) if (env.isolation) console.log(`${env.def.name}: ${env.isolation} (${env.isolationReason})`);
  for (const n of p.notMeasured) console.log(`${n.environment}: ${n.workload} not measured (left out of the schedule): ${n.reason}`);
  let stopping: NodeJS.Signals | undefined;
  const stop: Stop = { signal: () => stopping };
  // A signal starts no further trial and stops the running one (a terminal's Ctrl-C reaches it too);
  // it records itself as interrupted, then the teardown below runs. More signals change nothing.
  const onSignal = (sig: NodeJS.Signals) => {
    if (!stopping) console.log(`\n${sig}: stopping: no further trial, the running one is stopped and recorded${o.keep ? "" : ", then teardown"}`);
    stopping ??= sig;
    stop.current?.(stopping);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    // Leftovers of a killed run (containers, domains) would block bring-up: remove them first.
    await tearDown(envSteps, log, true);
    await bringUp(steps, log, stop.signal);
    await reapLeftovers(p);
    const c = await runTrials(p, log, stop);
    const all = trialStates(p.trials, readTrials(dir), readAttempts(dir));
    const missing = all.filter((s) => s.status !== "ok").length;
    if (c.halted) console.log(`stopped: ${c.halted}`);
    console.log(`done: ${c.ok} ok, ${c.failed} failed this time; run ${p.runId} has ${all.length - missing}/${all.length} ok; results in ${p.resultsDir}`);
    return stopping ? (stopping === "SIGINT" ? 130 : 143) : missing || c.halted ? 1 : 0;
  } finally {
    if (!o.keep) await tearDown(downSteps, log);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

function options(cmd: Command): Command {
  return cmd
    .option("--stack <name>", "stack name", "dev")
    .option("--config <file>", "stack file (default Pulumi.<stack>.yaml)")
    .option("--profile <name>", "profile: smoke, quick, full (default: the stack's)")
    .option("--environments <list>", "environments to run, comma separated (names the stack defines, or presets)")
    .option("--workloads <list>", "workloads to run, comma separated")
    .option("--repetitions <n>", "repetitions")
    .option("--seed <n>", "schedule seed")
    .option("--results-root <dir>", "results root (default: the stack's, else results)")
    .option("--calibration <list>", "A/A calibration: run an identical second copy (<name>-aa) of these environments")
    .option("--retry-contaminated <n>", "run a trial again at once, up to n times (0..3), while it comes out ok but ran on a busy host")
    .option("--keep", "leave the environments up at the end")
    .option("--remove-images", "also remove the Docker tools image and guest base image (caches)")
    .option("--verbose", "print error details");
}

/** `virtperf e2e`, for cli/main.ts. */
export function registerE2e(program: Command, run: (code: Promise<number>) => Promise<unknown>): void {
  options(program.command("e2e").description("bring up the stack's environments here, run the schedule, tear down"))
    .action(async (o: E2eOptions) => {
      await run(e2e(o));
    });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const program = options(new Command("e2e")).exitOverride();
  const verbose = isVerbose(process.argv);
  try {
    program.parse(process.argv);
    process.exitCode = await e2e(program.opts<E2eOptions>());
  } catch (e) {
    const c = e as { code?: string; exitCode?: number };
    process.exitCode = c.code?.startsWith("commander.") ? (c.exitCode === 0 ? 0 : 2) : reportError(e, verbose);
  }
}
