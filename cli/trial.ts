/**
 * `virtperf trial`: one trial of one workload on one environment; prints its record on stdout and
 * appends it to <out>/trials.jsonl (fsynced; see workloads/record-store.ts). Exit 0 when the trial is ok,
 * 1 when it failed, 2 on bad input, 3 when its record could not be written to --out (it is then kept in
 * the pending file and printed; the next trial or run on that folder moves it in), 4 when another run
 * of the stack holds the stack's lock.
 *
 * The environment comes as one document (`--environment`, model/environment.ts), as the planner writes
 * it; `--env native` alone is the shortcut for a trial by hand on this machine, as it is.
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
import type { TargetSpec } from "../model/target.ts";
import type { TrialRecord } from "../model/record.ts";
import { environmentProblem, type EnvironmentDescription } from "../model/environment.ts";
import { connect, engineCommand } from "../workloads/runner/targets.ts";
import { notRunRecord, runTrial, type TrialRequest } from "../workloads/runner/trial.ts";
import { flushPending, keepPending, outProblem, writeRecord } from "../workloads/record-store.ts";
import { acquireRunLock, LockError, type RunLock } from "../lib/run-lock.ts";
import { hostFingerprint } from "../lib/host.ts";
import { ConfigError } from "../lib/errors.ts";
import { shJoin, shq } from "../lib/shell.ts";
import { intInRange, jsonOption, MAX_SEED, nameOption, nonNegativeInt, oneOf, pathOption, positiveInt } from "./choices.ts";

export interface TrialOptions {
  environment?: string; env?: string; workload: string; profile: string; rep: string; order: string; seed: string; stack: string; run: string;
  contamination?: boolean; out: string; warmup?: boolean; install?: boolean; timings?: boolean; maxStepS?: string; retryContaminated?: string;
}

/** `--env native` by hand: this machine as it is (its CPUs and memory, no cgroup), data under /var/tmp. */
function nativeByHand(): EnvironmentDescription {
  return {
    name: "native", kind: "native", acceleration: "none", target: { kind: "local" }, client: { kind: "local" }, host: { kind: "local" },
    ports: [], dataDir: "/var/tmp/virtperf-data", workRoot: "/tmp", shape: { cpus: cpus().length, memoryMiB: Math.floor(totalmem() / 2 ** 20) },
  };
}

/** The environment: `--environment` (checked field by field), or `--env native` by hand. */
function environmentOf(o: TrialOptions): EnvironmentDescription {
  if (o.environment !== undefined) {
    if (o.env !== undefined) throw new ConfigError("--env", "give either --environment (the planner's description) or --env native (by hand), not both");
    const d = jsonOption<EnvironmentDescription>("--environment", o.environment);
    const problem = environmentProblem(d);
    if (problem) throw new ConfigError("--environment", `--environment: ${problem}`);
    return d;
  }
  if (o.env === "native") return nativeByHand();
  throw new ConfigError(o.env === undefined ? "--environment" : "--env", `${o.env === undefined ? "no environment given" : `--env ${JSON.stringify(o.env)}: only native can be run without its description`}; ` +
    "give --environment '<JSON of an environment description>' (the planner writes them: see the trial commands of a plan) or --env native");
}

/**
 * Bash for the host that prints the environment's root pid: its container's init (as the engine's user
 * for rootless Podman), its guest's QEMU (also for a container inside a guest: the host sees the guest).
 */
function rootPidOf(t: TargetSpec): { rootPidScript?: string } {
  const guestPid = (domain: string) => `cat ${shq(`/run/libvirt/qemu/${domain}.pid`)} 2>/dev/null`;
  if (t.kind === "guest") return { rootPidScript: guestPid(t.domain) };
  if (t.kind !== "docker") return {};
  if (t.via?.kind === "guest") return { rootPidScript: guestPid(t.via.domain) };
  return { rootPidScript: `${shJoin([...engineCommand(t), "inspect", "--format", "{{.State.Pid}}", t.container])} 2>/dev/null` };
}

export async function trialCommand(o: TrialOptions): Promise<number> {
  const workload = WORKLOADS[oneOf<WorkloadId>("--workload", o.workload, WORKLOAD_IDS)];
  const profile = oneOf<ProfileName>("--profile", o.profile, PROFILES);
  // Every flag is checked before anything connects or runs: one line naming the flag, exit 2.
  nameOption("--stack", o.stack); nameOption("--run", o.run);
  const rep = nonNegativeInt("--rep", o.rep), order = nonNegativeInt("--order", o.order), seed = intInRange("--seed", o.seed, 0, MAX_SEED);
  const out = pathOption("--out", o.out, true);
  const d = environmentOf(o);
  const retries = o.retryContaminated === undefined ? 0 : intInRange("--retry-contaminated", o.retryContaminated, 0, 3);
  const req: TrialRequest = {
    workload, profile, stack: o.stack, run: o.run, host: await hostFingerprint(),
    rep, order, seed, warmup: !!o.warmup, out, install: !!o.install, client: connect(d.client),
    ...(o.maxStepS === undefined ? {} : { maxStepS: positiveInt("--max-step-s", o.maxStepS) }),
    ...(o.contamination === false ? {} : { hostTarget: { target: connect(d.host), ours: d.host.kind === "local" ? [process.pid] : [] } }),
    env: {
      name: d.name, kind: d.kind, acceleration: d.acceleration, target: connect(d.target), ports: d.ports,
      ...(d.accelerationReason ? { accelerationReason: d.accelerationReason } : {}),
      ...(d.calibrationOf ? { calibrationOf: d.calibrationOf } : {}),
      ...(d.references?.length ? { references: d.references } : {}),
      ...(d.isolation ? { isolation: d.isolation } : {}), ...(d.isolationReason ? { isolationReason: d.isolationReason } : {}),
      ...rootPidOf(d.target),
      dataDir: d.dataDir, workRoot: d.workRoot, shape: d.shape,
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
    return await trialWithRetries(req, out, stop.signal, !!o.timings, retries);
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
  // The run closes the lifeline after writing the signal that stopped it (e2e); closed without one,
  // the run itself is gone.
  let said = "";
  const onData = (b: Buffer) => { said += b.toString(); };
  const onEnd = () => {
    const sig = /^(SIG[A-Z]+)$/m.exec(said)?.[1];
    stop.abort(sig ?? "the run that started this trial went away");
  };
  if (process.env["VIRTPERF_TRIAL_LIFELINE"] === "stdin") {
    process.stdin.on("data", onData).on("end", onEnd).on("error", onEnd);
    process.stdin.unref();
  }
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.stdin.off("data", onData).off("end", onEnd);
  };
}

/**
 * The trial, and up to `retries` more attempts while it comes out ok but flagged (it ran on a busy host):
 * every attempt's record is kept (the report counts a clean one, shows the others as superseded); the
 * exit code is the last attempt's.
 */
async function trialWithRetries(req: TrialRequest, out: string, signal: AbortSignal, timings: boolean, retries: number): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const { code, record } = await trialInFolder(req, out, signal, timings);
    const flagged = code === 0 && record.contamination?.flagged === true;
    if (!flagged || attempt >= retries || signal.aborted) return code;
    console.error(`virtperf: the trial ran on a busy host (${record.contamination!.reasons.join("; ")}): running it again (retry ${attempt + 1} of ${retries})`);
  }
}

/**
 * Pending records of the folder first (a full disk earlier), then a check that the folder takes a
 * write, then the trial; its record is appended, or kept pending (exit 3) when it cannot be.
 */
async function trialInFolder(req: TrialRequest, out: string, signal: AbortSignal, timings: boolean): Promise<{ code: number; record: TrialRecord }> {
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
  const record = outcome.record;
  if (!written.written) {
    console.error(`virtperf: the record was not written: ${written.reason}; ${written.pending ? `kept in ${written.pending} (moved in by the next trial or run on ${out})` : "it is only on stdout above"}; the run should stop: fix the folder (free space, permissions) and run again`);
    return { code: 3, record };
  }
  if (record.status === "failed") {
    console.error(`virtperf: trial failed: ${record.error?.message.split("\n")[0]}`);
    return { code: 1, record };
  }
  return { code: 0, record };
}

export function registerTrial(program: Command, run: (code: Promise<number>) => Promise<unknown>): void {
  program
    .command("trial")
    .description("run one trial of a workload on an environment and print its trial record")
    .option("--environment <json>", "the environment, as the planner describes it (JSON: name, kind, target, client, host, ports, dataDir, workRoot, shape, acceleration...)")
    .option("--env <name>", "native: a trial by hand on this machine, as it is (instead of --environment)")
    .requiredOption("--workload <id>", `workload: ${WORKLOAD_IDS.join(", ")}`)
    .option("--profile <name>", `profile: ${PROFILES.join(", ")}`, "smoke")
    .option("--rep <n>", "repetition number", "0")
    .option("--order <n>", "position in the schedule", "0")
    .option("--seed <n>", "schedule seed (0..4294967295), recorded", "0")
    .option("--stack <name>", "stack name, recorded", "local")
    .option("--run <id>", "run id, recorded", "adhoc")
    .option("--out <dir>", "results folder: trials.jsonl and raw/", "results/local/adhoc")
    .option("--warmup", "a warm-up trial (recorded, never in statistics)")
    .option("--install", "apt-get install missing Debian packages")
    .option("--no-contamination", "skip the contamination checks around the run step")
    .option("--timings", "print the runner's timings to stderr")
    .option("--retry-contaminated <n>", "run the trial again, up to n times (0..3), while it comes out ok but ran on a busy host (every attempt is recorded)")
    .option("--max-step-s <n>", "cap every step's time limit at n seconds (to see a hung tool stopped quickly; the workload's own limits otherwise)")
    .action(async (o: TrialOptions) => {
      await run(trialCommand(o));
    });
}
