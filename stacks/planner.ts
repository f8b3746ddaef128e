/**
 * The ONE planner (DESIGN.md, Data flow): Experiment + host probe -> Plan. Plain TypeScript, no Pulumi.
 * The Pulumi program (index.ts) maps the Plan onto resources; `npm run e2e` runs the very same commands.
 *
 * Order of bring-up: host preparation (native), images (Docker tools, guest base), then each environment
 * in stack order; facts; then the trials in schedule order. Teardown runs delete scripts in reverse.
 */
import { join } from "node:path";
import { heredoc, shJoin, shq } from "../lib/shell.ts";
import { WORKLOADS, allPackages } from "../workloads/registry.ts";
import type { ProfileName } from "../workloads/contract.ts";
import type { SshTargetSpec, TargetSpec } from "../workloads/runner/target.ts";
import { sshArgs } from "../lib/ssh.ts";
import type { CommandSpec, Experiment } from "./experiment.ts";
import type { EnvironmentPlan, HostProbe, Plan, Schedule, TrialPlan } from "./plan.ts";
import { buildSchedule } from "./schedule.ts";
import { resultsDir, runId, ATTEMPTS_FILE } from "./results.ts";
import { hostSshTarget, knownHostsCommand, knownHostsStep, planNative } from "./native-spec.ts";
import { PRESETS } from "./environments.ts";
import { planDocker, planDockerImage } from "./docker-spec.ts";
import { planKvm } from "./kvm-plan.ts";
import { planGuestImage } from "./guest-image.ts";

/** The virtperf command, relative to the project root where both `pulumi up` and e2e run. */
export const VIRTPERF_BIN = "bin/virtperf";

/**
 * Rough seconds per trial, for "time left" only (DESIGN.md, Facts: under TCG a guest runs the suite
 * about 3x slower than native). e2e corrects it with measured durations as the run goes.
 */
const SECONDS_PER_TRIAL: Record<ProfileName, number> = { smoke: 12, quick: 60, full: 400 };
const SLOWDOWN: Record<EnvironmentPlan["acceleration"], number> = { none: 1, kvm: 1.2, tcg: 3 };

export function estimateSeconds(profile: ProfileName, env: EnvironmentPlan): number {
  return Math.round(SECONDS_PER_TRIAL[profile] * SLOWDOWN[env.acceleration]);
}

/** Where network clients run: a named second machine, else the host under test (this machine when local). */
function clientTarget(x: Experiment): TargetSpec | undefined {
  if (x.client.kind === "ssh") return x.client.target;
  const a = x.host.address;
  return a.kind === "ssh" ? hostSshTarget(a) : undefined;
}

function minutesLeft(seconds: number): string {
  return seconds < 60 ? "<1 min left" : `~${Math.round(seconds / 60)} min left`;
}

/**
 * The bash a trial resource runs: progress line, the runner, the attempt logged. Exits 0 whether the
 * trial is ok or failed (see results.ts); passes on 3 (its record could not be written to the results
 * folder: the run must stop) and 4 (another run holds the stack's lock), so the run stops there.
 */
export function trialScript(t: Omit<TrialPlan, "command">, x: Experiment, env: EnvironmentPlan, ctx: { run: string; dir: string; total: number; leftS: number }): string {
  const words: (string | number)[] = [
    VIRTPERF_BIN, "trial", "--env", env.def.name, "--kind", env.def.options.kind, "--target", JSON.stringify(env.target),
    "--workload", t.workload, "--profile", x.profile, "--rep", t.rep, "--order", t.order, "--seed", x.seed,
    "--stack", x.stack, "--run", ctx.run, "--data-dir", env.dataDir, "--work-root", env.workRoot,
    "--cpus", env.shape.cpus, "--memory-mib", env.shape.memoryMiB, "--acceleration", env.acceleration, "--out", ctx.dir,
  ];
  if (env.accelerationReason) words.push("--acceleration-reason", env.accelerationReason);
  if (env.def.calibrationOf) words.push("--calibration-of", env.def.calibrationOf);
  if (env.ports.length) words.push("--ports", env.ports.join(","));
  const client = clientTarget(x);
  if (client) words.push("--client", JSON.stringify(client));
  const a = x.host.address;
  if (a.kind === "ssh") words.push("--host-target", JSON.stringify(hostSshTarget(a)));
  if (t.warmup) words.push("--warmup");
  const what = `${env.def.name} ${t.workload} ${t.warmup ? "warm-up" : `rep ${t.rep}`}`;
  return [
    `echo ${shq(`trial ${t.order + 1}/${ctx.total} ${what}, ${minutesLeft(ctx.leftS)}`)} >&2`,
    `rc=0; ${shJoin(words)} || rc=$?`,
    // The attempt is logged whatever happened: a runner that died without a record still counts.
    `{ mkdir -p ${shq(ctx.dir)} && echo ${shq(t.id)} "$rc" >> ${shq(join(ctx.dir, ATTEMPTS_FILE))}; } 2>/dev/null || echo 'attempt not logged: the results folder cannot be written' >&2`,
    `case $rc in 3|4) echo ${shq(`trial ${t.id}: exit `)}"$rc"' - the run stops here (see the message above)' >&2; exit "$rc";; esac`,
    `[ "$rc" = 0 ] || echo ${shq(`trial ${t.id} did not succeed (exit `)}"$rc"') - recorded; the run goes on' >&2`,
    "exit 0",
  ].join("\n");
}

export function trialId(order: number, environment: string, workload: string, rep: number, warmup: boolean): string {
  return `${String(order).padStart(3, "0")}-${environment}-${workload}-${warmup ? "warmup" : `r${rep}`}`;
}

function planTrials(x: Experiment, schedule: Schedule, envs: readonly EnvironmentPlan[], run: string, dir: string): TrialPlan[] {
  const byName = new Map(envs.map((e) => [e.def.name, e]));
  const estimates = schedule.entries.map((e) => estimateSeconds(x.profile, byName.get(e.environment)!));
  let leftS = estimates.reduce((a, b) => a + b, 0);
  return schedule.entries.map((entry, i) => {
    const env = byName.get(entry.environment)!;
    const base = { ...entry, id: trialId(entry.order, entry.environment, entry.workload, entry.rep, entry.warmup), kind: env.def.options.kind, estimateS: estimates[i]! };
    const command = trialScript(base, x, env, { run, dir, total: schedule.entries.length, leftS });
    leftS -= estimates[i]!;
    return { ...base, command };
  });
}

/** `ssh <args> -- dest bash -s <<'VIRTPERF_FACTS'` with the script as the heredoc: runs it on that host. */
function sshWithScript(on: SshTargetSpec, script: string): string {
  const doc = heredoc(script, "VIRTPERF_FACTS");
  return `ssh ${shJoin([...sshArgs(on), "bash", "-s"])} ${doc.start}\n${doc.text}`;
}

/**
 * One facts command: the environment's facts script, its JSON kept in `<dir>/facts/<name>.json` here.
 * With `on`, the script runs on that SSH host (host-side facts of a remote host); the file is still local.
 */
function factsCommand(name: string, script: string, dir: string, on?: SshTargetSpec): CommandSpec {
  const file = join(dir, "facts", `${name}.json`);
  const body = on ? sshWithScript(on, script.trim()) : script.trim();
  return {
    role: `facts-${name}`, on: "local",
    create: [
      `mkdir -p ${shq(join(dir, "facts"))}`,
      `if ( ${body}\n) > ${shq(`${file}.tmp`)}; then mv ${shq(`${file}.tmp`)} ${shq(file)}; else rm -f ${shq(`${file}.tmp`)}; echo ${shq(`facts of ${name} failed`)} >&2; fi`,
    ].join("\n"),
  };
}

/** Experiment + what the host is -> every command of bring-up, trials and teardown. Pure. */
export function plan(x: Experiment, probe: HostProbe): Plan {
  const run = runId(x);
  const dir = resultsDir(x, run);
  // Host preparation and host facts come from native's plan whether or not native is measured.
  const nativeDef = x.environments.find((e) => e.options.kind === "native") ?? { name: "native", options: PRESETS.native };
  const native = planNative(x, nativeDef, allPackages());
  const kinds = new Set(x.environments.map((e) => e.options.kind));
  const image = kinds.has("docker") ? planDockerImage(x, allPackages()) : undefined;
  const kvmProbe = { kvm: probe.kvm, threadsPerCore: probe.threadsPerCore ?? 1 };
  const environments: EnvironmentPlan[] = x.environments.map((def, index) => {
    switch (def.options.kind) {
      case "native": return def === nativeDef ? { ...native, commands: [] } : planNative(x, def, []);
      case "docker": return planDocker(x, def, index, image!.tag);
      case "kvm": return planKvm(x, def, index, kvmProbe);
    }
  });
  const schedule = buildSchedule({
    environments: x.environments.map((e) => e.name), workloads: x.workloads, repetitions: x.repetitions, seed: x.seed,
    needsWarmup: (w) => WORKLOADS[w].warmup,
  });
  // Host-side facts (native's, a guest's, a container's) run on an SSH host, over its pinned SSH.
  const a = x.host.address;
  const remote = a.kind === "ssh" ? hostSshTarget(a) : undefined;
  const facts = [factsCommand("host", native.facts, dir, remote),
    ...environments.filter((e) => e.def.options.kind !== "native").map((e) => factsCommand(e.def.name, e.facts, dir, remote))];
  // The first (local) steps pin the SSH host's key and the client machine's in the known_hosts files every ssh target uses.
  const c = x.client;
  const pins = [
    ...(a.kind === "ssh" ? [knownHostsCommand(a)] : []),
    ...(c.kind === "ssh" && c.hostPublicKey ? [knownHostsStep("client-known-hosts", c.target.knownHostsFile, c.target.host, c.target.port ?? 22, c.hostPublicKey)] : []),
  ];
  const host = pins.length ? { ...native, commands: [...pins, ...native.commands] } : native;
  return { experiment: x, runId: run, resultsDir: dir, host,
    ...(image ? { dockerImage: image } : {}), ...(kinds.has("kvm") ? { guestImage: planGuestImage(x) } : {}),
    environments, facts, schedule, trials: planTrials(x, schedule, environments, run, dir) };
}
