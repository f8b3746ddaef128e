/**
 * `virtperf trial`: one trial of one workload on one environment; prints its record on stdout and
 * appends it to <out>/trials.jsonl. Exit 0 when the trial is ok, 1 when it failed, 2 on bad input.
 *
 * The environment comes as one document (`--environment`, model/environment.ts), as the planner writes
 * it; `--env native` alone is the shortcut for a trial by hand on this machine, as it is.
 */
import { Command } from "commander";
import { appendFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { cpus, totalmem } from "node:os";
import { WORKLOADS } from "../workloads/registry.ts";
import { PROFILES, WORKLOAD_IDS, type ProfileName, type WorkloadId } from "../workloads/contract.ts";
import type { TargetSpec } from "../model/target.ts";
import { environmentProblem, type EnvironmentDescription } from "../model/environment.ts";
import { connect } from "../workloads/runner/targets.ts";
import { runTrial } from "../workloads/runner/trial.ts";
import { hostFingerprint } from "../lib/host.ts";
import { ConfigError } from "../lib/errors.ts";
import { shq } from "../lib/shell.ts";
import { intInRange, jsonOption, MAX_SEED, nameOption, nonNegativeInt, oneOf, pathOption } from "./choices.ts";

export interface TrialOptions {
  environment?: string; env?: string; workload: string; profile: string; rep: string; order: string; seed: string; stack: string; run: string;
  contamination?: boolean; out: string; warmup?: boolean; install?: boolean; timings?: boolean;
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
  const inspect = `${shq(t.engine ?? "docker")} inspect --format '{{.State.Pid}}' ${shq(t.container)} 2>/dev/null`;
  return { rootPidScript: t.user ? `runuser -u ${shq(t.user)} -- ${inspect}` : inspect };
}

export async function trialCommand(o: TrialOptions): Promise<number> {
  const workload = WORKLOADS[oneOf<WorkloadId>("--workload", o.workload, WORKLOAD_IDS)];
  const profile = oneOf<ProfileName>("--profile", o.profile, PROFILES);
  // Every flag is checked before anything connects or runs: one line naming the flag, exit 2.
  nameOption("--stack", o.stack); nameOption("--run", o.run);
  const rep = nonNegativeInt("--rep", o.rep), order = nonNegativeInt("--order", o.order), seed = intInRange("--seed", o.seed, 0, MAX_SEED);
  const out = pathOption("--out", o.out, true);
  const d = environmentOf(o);
  const outcome = await runTrial({
    workload, profile, stack: o.stack, run: o.run, host: await hostFingerprint(),
    rep, order, seed, warmup: !!o.warmup, out, install: !!o.install, client: connect(d.client),
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
  });
  await mkdir(out, { recursive: true });
  const line = JSON.stringify(outcome.record);
  await appendFile(join(out, "trials.jsonl"), line + "\n");
  console.log(line);
  if (o.timings) console.error(`virtperf-timings ${JSON.stringify(outcome.timings)}`);
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
    .action(async (o: TrialOptions) => {
      await run(trialCommand(o));
    });
}
