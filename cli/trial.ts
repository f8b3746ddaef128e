/**
 * `virtperf trial`: one trial of one workload on one environment; prints its record on stdout and
 * appends it to <out>/trials.jsonl (fsynced; see workloads/record-store.ts). Exit 0 when the trial is ok,
 * 1 when it failed, 2 on bad input, 3 when its record could not be written to --out (it is then kept in
 * the pending file and printed; the next trial or run on that folder moves it in), 4 when another run
 * of the stack holds the stack's lock.
 *
 * Interrupts: SIGINT and SIGTERM stop the trial where it is (its far side is stopped, cleanup runs) and
 * the record says it was interrupted. With VIRTPERF_TRIAL_LIFELINE=stdin (npm run e2e sets it), stdin
 * closing means the run that started this trial is gone: the same.
 */
import { Command } from "commander";
import { basename, dirname, join } from "node:path";
import { cpus, totalmem } from "node:os";
import { WORKLOADS } from "../workloads/registry.ts";
import { PROFILES, WORKLOAD_IDS, type ProfileName, type WorkloadId } from "../workloads/contract.ts";
import type { TrialRecord } from "../workloads/record.ts";
import type { TargetSpec } from "../workloads/runner/target.ts";
import { connect } from "../workloads/runner/targets.ts";
import { notRunRecord, runTrial, type TrialRequest } from "../workloads/runner/trial.ts";
import { flushPending, keepPending, outProblem, writeRecord } from "../workloads/record-store.ts";
import { acquireRunLock, LockError, type RunLock } from "../lib/run-lock.ts";
import { PRESETS, PRESET_NAMES } from "../stacks/environments.ts";
import { hostFingerprint } from "../lib/host.ts";
import { ConfigError } from "../lib/errors.ts";
import { shq } from "../lib/shell.ts";
import { intInRange, jsonOption, MAX_SEED, nameOption, nonNegativeInt, oneOf, pathOption, portList, positiveInt } from "./choices.ts";
import { targetProblem } from "../workloads/runner/target-check.ts";

const KINDS = ["native", "docker", "kvm"] as const;
const ACCELERATIONS = ["none", "kvm", "tcg"] as const;

export interface TrialOptions {
  env: string; workload: string; profile: string; rep: string; order: string; seed: string; stack: string; run: string;
  target?: string; client?: string; hostTarget?: string; contamination?: boolean; ports?: string; dataDir?: string; workRoot?: string; cpus?: string; memoryMib?: string;
  acceleration?: string; accelerationReason?: string; calibrationOf?: string; kind?: string; out: string; warmup?: boolean; install?: boolean; timings?: boolean;
  maxStepS?: string;
}

/** --target/--client: JSON of a TargetSpec whose every field matches its grammar (target-check.ts). */
function targetOption(option: string, value: string): TargetSpec {
  const spec = jsonOption<TargetSpec>(option, value);
  const problem = targetProblem(spec);
  if (problem) throw new ConfigError(option, `${option}: ${problem}`);
  return spec;
}

/** The environment's kind: from --kind, else from its preset, else native for a local target. */
function environmentKind(o: TrialOptions, target: TargetSpec): TrialRecord["kind"] {
  if (o.kind) return oneOf("--kind", o.kind, KINDS);
  const preset = PRESETS[o.env as keyof typeof PRESETS];
  if (preset) return preset.kind;
  return target.kind === "docker" ? "docker" : target.kind === "guest" ? "kvm" : "native";
}

/** Bash for the host that prints the environment's root pid: its container's init, its guest's QEMU. */
function rootPidOf(t: TargetSpec): { rootPidScript?: string } {
  if (t.kind === "docker") return { rootPidScript: `docker inspect --format '{{.State.Pid}}' ${shq(t.container)} 2>/dev/null` };
  if (t.kind === "guest") return { rootPidScript: `cat ${shq(`/run/libvirt/qemu/${t.domain}.pid`)} 2>/dev/null` };
  return {};
}

export async function trialCommand(o: TrialOptions): Promise<number> {
  const workload = WORKLOADS[oneOf<WorkloadId>("--workload", o.workload, WORKLOAD_IDS)];
  const profile = oneOf<ProfileName>("--profile", o.profile, PROFILES);
  // Every flag is checked before anything connects or runs: one line naming the flag, exit 2.
  nameOption("--env", o.env); nameOption("--stack", o.stack); nameOption("--run", o.run);
  const rep = nonNegativeInt("--rep", o.rep), order = nonNegativeInt("--order", o.order), seed = intInRange("--seed", o.seed, 0, MAX_SEED);
  const out = pathOption("--out", o.out, true);
  const dataDir = o.dataDir === undefined ? undefined : pathOption("--data-dir", o.dataDir);
  const workRoot = pathOption("--work-root", o.workRoot ?? "/tmp");
  const cpuCount = o.cpus === undefined ? cpus().length : positiveInt("--cpus", o.cpus);
  const memoryMiB = o.memoryMib === undefined ? Math.floor(totalmem() / 2 ** 20) : positiveInt("--memory-mib", o.memoryMib);
  if (!o.target && o.env !== "native") {
    throw new ConfigError("--env", `environment "${o.env}" needs --target (how to reach it); without --target the valid value is: native` +
      ` (presets: ${PRESET_NAMES.join(", ")})`);
  }
  const targetSpec: TargetSpec = o.target ? targetOption("--target", o.target) : { kind: "local" };
  const clientSpec: TargetSpec = o.client ? targetOption("--client", o.client) : { kind: "local" };
  const kind = environmentKind(o, targetSpec);
  // The host the environments live on: this machine, or the SSH host the planner names.
  const hostSpec: TargetSpec = o.hostTarget ? targetOption("--host-target", o.hostTarget) : { kind: "local" };
  const acceleration = o.acceleration ? oneOf("--acceleration", o.acceleration, ACCELERATIONS) : kind === "kvm" ? "kvm" : "none";
  if (kind === "kvm" && acceleration === "none") throw new ConfigError("--acceleration", `a kvm environment runs with acceleration kvm or tcg, not none`);
  const ports = o.ports === undefined ? [] : portList("--ports", o.ports);
  const req: TrialRequest = {
    workload, profile, stack: o.stack, run: o.run, host: await hostFingerprint(),
    rep, order, seed, warmup: !!o.warmup, out, install: !!o.install, client: connect(clientSpec),
    ...(o.maxStepS === undefined ? {} : { maxStepS: positiveInt("--max-step-s", o.maxStepS) }),
    ...(o.contamination === false ? {} : { hostTarget: { target: connect(hostSpec), ours: hostSpec.kind === "local" ? [process.pid] : [] } }),
    env: {
      name: o.env, kind, acceleration, target: connect(targetSpec), ports,
      ...(o.accelerationReason ? { accelerationReason: o.accelerationReason } : {}),
      ...(o.calibrationOf ? { calibrationOf: nameOption("--calibration-of", o.calibrationOf) } : {}),
      ...rootPidOf(targetSpec),
      dataDir: dataDir ?? (kind === "docker" ? "/data" : "/var/tmp/virtperf-data"),
      workRoot,
      shape: { cpus: cpuCount, memoryMiB },
    },
  };
  let lock: RunLock;
  try {
    lock = stackLock(out, o.stack, o.run);
  } catch (e) {
    if (!(e instanceof LockError)) throw e;
    console.error(`virtperf: refused: ${e.shortMessage}`);
    return 4;
  }
  const stop = new AbortController();
  const unwatch = watchInterrupts(stop);
  try {
    return await trialInFolder(req, out, stop.signal, !!o.timings);
  } finally {
    unwatch();
    lock.release();
  }
}

/**
 * A trial whose --out is `<root>/<stack>/<run>` (a stack run's layout) runs under the stack's lock:
 * its own, or that of the run that started it (e2e). Ad hoc folders take none.
 */
function stackLock(out: string, stack: string, run: string): RunLock {
  if (basename(out) !== run || basename(dirname(out)) !== stack) return { inherited: false, release: () => {} };
  return acquireRunLock(join(dirname(out), ".lock"), `a run of stack ${stack}`, process.argv.slice(1).join(" ").slice(0, 300));
}

/** SIGINT, SIGTERM and (when asked) the end of stdin abort the trial; returns the undo. */
function watchInterrupts(stop: AbortController): () => void {
  const onSignal = (sig: NodeJS.Signals) => {
    if (!stop.signal.aborted) console.error(`virtperf: ${sig}: stopping the trial (cleanup runs, the record says so)`);
    stop.abort(sig);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const onEnd = () => stop.abort("the run that started this trial went away");
  if (process.env["VIRTPERF_TRIAL_LIFELINE"] === "stdin") {
    process.stdin.on("end", onEnd).on("error", onEnd).resume();
    process.stdin.unref();
  }
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.stdin.off("end", onEnd);
  };
}

/**
 * Pending records of the folder first (a full disk earlier), then a check that the folder takes a
 * write, then the trial; its record is appended, or kept pending (exit 3) when it cannot be.
 */
async function trialInFolder(req: TrialRequest, out: string, signal: AbortSignal, timings: boolean): Promise<number> {
  const flushed = flushPending(out);
  if (flushed.moved) console.error(`virtperf: moved ${flushed.moved} pending record(s) into ${join(out, "trials.jsonl")}`);
  const problem = flushed.problem ?? outProblem(out);
  const outcome = problem
    ? { record: notRunRecord(req, `not run: ${problem}`), timings: { totalMs: 0, scriptsMs: 0 } }
    : await runTrial({ ...req, signal });
  const line = JSON.stringify(outcome.record);
  const written = problem ? { written: false as const, reason: problem, pending: keepPending(out, line) } : await writeRecord(out, line);
  console.log(line);
  if (timings) console.error(`virtperf-timings ${JSON.stringify(outcome.timings)}`);
  if (!written.written) {
    console.error(`virtperf: the record was not written: ${written.reason}; ${written.pending ? `kept in ${written.pending} (moved in by the next trial or run on ${out})` : "it is only on stdout above"}; the run should stop: fix the folder (free space, permissions) and run again`);
    return 3;
  }
  if (outcome.record.status === "failed") {
    console.error(`virtperf: trial failed: ${outcome.record.error?.message.split("\n")[0]}`);
    return 1;
  }
  return 0;
}

export function registerTrial(program: Command, run: (code: Promise<number>) => Promise<unknown>): void {
  program
    .command("trial")
    .description("run one trial of a workload on an environment and print its trial record")
    .requiredOption("--env <name>", "environment name (native, or any with --target)")
    .requiredOption("--workload <id>", `workload: ${WORKLOAD_IDS.join(", ")}`)
    .option("--profile <name>", `profile: ${PROFILES.join(", ")}`, "smoke")
    .option("--target <json>", "how to reach the environment: TargetSpec JSON (local, ssh, docker, guest)")
    .option("--client <json>", "where network clients run: TargetSpec JSON (default: this machine)")
    .option("--host-target <json>", "the host the environments live on, for the contamination checks: TargetSpec JSON (default: this machine)")
    .option("--no-contamination", "skip the contamination checks around the run step")
    .option("--kind <kind>", "environment kind: native, docker, kvm (default: from the preset or target)")
    .option("--acceleration <a>", "none, kvm or tcg (guests; a TCG guest is never reported as KVM)")
    .option("--acceleration-reason <text>", "why this acceleration (recorded with the trial)")
    .option("--calibration-of <env>", "this environment is an A/A copy of <env> (recorded with the trial)")
    .option("--ports <list>", "fixed server ports of the environment (1..65535), comma separated")
    .option("--data-dir <dir>", "data directory inside the environment (on the I/O path under test)")
    .option("--work-root <dir>", "where trial work directories go inside the environment", "/tmp")
    .option("--cpus <n>", "CPUs the environment has (default: this machine's)")
    .option("--memory-mib <n>", "memory the environment has, MiB (default: this machine's)")
    .option("--rep <n>", "repetition number", "0")
    .option("--order <n>", "position in the schedule", "0")
    .option("--seed <n>", "schedule seed (0..4294967295), recorded", "0")
    .option("--stack <name>", "stack name, recorded", "local")
    .option("--run <id>", "run id, recorded", "adhoc")
    .option("--out <dir>", "results folder: trials.jsonl and raw/", "results/local/adhoc")
    .option("--warmup", "a warm-up trial (recorded, never in statistics)")
    .option("--install", "apt-get install missing Debian packages")
    .option("--timings", "print the runner's timings to stderr")
    .option("--max-step-s <n>", "cap every step's time limit at n seconds (to see a hung tool stopped quickly; the workload's own limits otherwise)")
    .action(async (o: TrialOptions) => {
      await run(trialCommand(o));
    });
}
