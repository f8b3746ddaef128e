/**
 * The ONE planner (DESIGN.md, Data flow): Experiment + host probe -> Plan. Plain TypeScript, no Pulumi.
 * The Pulumi program (index.ts) maps the Plan onto resources; `npm run e2e` runs the very same commands.
 *
 * Order of bring-up: host preparation (native's), the images the stack's kinds need (each once), then
 * each environment in stack order, planned by its kind's module (stacks/kinds.ts); facts; then the trials
 * in schedule order. Teardown runs delete scripts in reverse.
 */
import { join } from "node:path";
import { heredoc, shJoin, shq } from "../lib/shell.ts";
import { WORKLOADS, allPackages } from "../workloads/registry.ts";
import type { ProfileName } from "../workloads/contract.ts";
import type { SshTargetSpec, TargetSpec } from "../model/target.ts";
import type { EnvironmentDescription } from "../model/environment.ts";
import { sshArgs } from "../lib/ssh.ts";
import type { CommandSpec, Experiment } from "./experiment.ts";
import type { EnvironmentPlan, HostProbe, NotMeasured, Plan, Schedule, TrialPlan } from "./plan.ts";
import { buildSchedule } from "./schedule.ts";
import { resultsDir, runId, ATTEMPTS_FILE } from "./results.ts";
import { planNative, type NativePaths } from "./native/spec.ts";
import { hostSshTarget, knownHostsCommand, knownHostsStep } from "./host-address.ts";
import { kindModule, PRESETS } from "./kinds.ts";
import type { ImagePlan } from "./plan.ts";

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

/** The host under test as the runner reaches it: this machine, or its SSH host. */
function hostTarget(x: Experiment): TargetSpec {
  const a = x.host.address;
  return a.kind === "ssh" ? hostSshTarget(a) : { kind: "local" };
}

/** The environment description a trial of `env` gets (model/environment.ts): its plan, as one document. */
export function environmentDescription(x: Experiment, env: EnvironmentPlan): EnvironmentDescription {
  return {
    name: env.def.name, kind: env.kind, ...(env.def.calibrationOf ? { calibrationOf: env.def.calibrationOf } : {}),
    ...(env.references?.length ? { references: env.references } : {}),
    acceleration: env.acceleration, ...(env.accelerationReason ? { accelerationReason: env.accelerationReason } : {}),
    ...(env.isolation ? { isolation: env.isolation } : {}), ...(env.isolationReason ? { isolationReason: env.isolationReason } : {}),
    target: env.target,
    // Network clients run on a named second machine, else on the host under test.
    client: x.client.kind === "ssh" ? x.client.target : hostTarget(x),
    host: hostTarget(x),
    ports: env.ports, dataDir: env.dataDir, workRoot: env.workRoot, shape: env.shape,
  };
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
    VIRTPERF_BIN, "trial", "--environment", JSON.stringify(environmentDescription(x, env)),
    "--workload", t.workload, "--profile", x.profile, "--rep", t.rep, "--order", t.order, "--seed", x.seed,
    "--stack", x.stack, "--run", ctx.run, "--out", ctx.dir,
  ];
  if (t.warmup) words.push("--warmup");
  if (x.retryContaminated) words.push("--retry-contaminated", x.retryContaminated);
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
  // Host preparation and host facts come from native's plan whether or not native is measured; that
  // native environment's own commands are then the host's (the others, A/A copies, have their own).
  const nativeDef = x.environments.find((e) => e.options.kind === "native") ?? { name: "native", options: PRESETS.native };
  const native: EnvironmentPlan<NativePaths> = planNative(x, nativeDef, allPackages());
  const environments: EnvironmentPlan[] = x.environments.map((def, index) => {
    const m = kindModule(def.options.kind);
    const references = m.references?.(x, def) ?? [];
    const planned = { ...m.plan(x, def, { probe, index }), ...(references.length ? { references } : {}) };
    return def === nativeDef ? { ...planned, commands: [] } : planned;
  });
  // Each image once, in the order the kinds first ask for it; an image comes after those it is made from.
  const images = new Map<string, ImagePlan>();
  for (const def of x.environments) for (const i of kindModule(def.options.kind).images?.(x) ?? []) {
    if (images.has(i.id)) continue;
    const missing = (i.after ?? []).filter((id) => !images.has(id));
    if (missing.length) throw new Error(`planner: image ${i.id} is made from ${missing.join(", ")}, which its kind must list before it`);
    images.set(i.id, i);
  }
  const notMeasured: NotMeasured[] = environments.flatMap((e) => x.workloads.flatMap((workload) => {
    const reason = e.notRun?.[workload];
    return reason ? [{ environment: e.def.name, workload, reason }] : [];
  }));
  const schedule = buildSchedule({
    environments: x.environments.map((e) => e.name), workloads: x.workloads, repetitions: x.repetitions, seed: x.seed,
    needsWarmup: (w) => WORKLOADS[w].warmup,
    runs: (environment, w) => !notMeasured.some((n) => n.environment === environment && n.workload === w),
  });
  // Host-side facts (native's, a guest's, a container's) run on an SSH host, over its pinned SSH.
  const a = x.host.address;
  const remote = a.kind === "ssh" ? hostSshTarget(a) : undefined;
  const facts = [factsCommand("host", native.facts, dir, remote),
    ...environments.filter((e) => e.kind !== "native").map((e) => factsCommand(e.def.name, e.facts, dir, remote))];
  // The first (local) steps pin the SSH host's key and the client machine's in the known_hosts files every ssh target uses.
  const c = x.client;
  const pins = [
    ...(a.kind === "ssh" ? [knownHostsCommand(a)] : []),
    ...(c.kind === "ssh" && c.hostPublicKey ? [knownHostsStep("client-known-hosts", c.target.knownHostsFile, c.target.host, c.target.port ?? 22, c.hostPublicKey)] : []),
  ];
  const host = pins.length ? { ...native, commands: [...pins, ...native.commands] } : native;
  return { experiment: x, runId: run, resultsDir: dir, host, images: [...images.values()],
    environments, facts, schedule, trials: planTrials(x, schedule, environments, run, dir), notMeasured };
}
