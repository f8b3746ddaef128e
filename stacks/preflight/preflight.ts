/**
 * Pre-flight: observe the host under test (observe.sh and the kinds' own observation functions, run
 * there: locally, or over SSH for a remote host), judge the observations (checks.ts), and hand the
 * planner the KVM proof.
 * `virtperf doctor` prints the checks; `npm run e2e` and the Pulumi program run them first and stop,
 * with the table, before anything is created when one fails.
 *
 * Tests inject the observations (VIRTPERF_HOST_OBSERVATIONS: the text the script would print), so mock
 * runs never look at the machine they run on.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { shq } from "../../lib/shell.ts";
import { PreflightError, ProvisionError } from "../../lib/errors.ts";
import type { Experiment } from "../experiment.ts";
import { hostSshTarget, knownHostsLines } from "../host-address.ts";
import { sshArgs } from "../../lib/ssh.ts";
import { kindModule } from "../kinds.ts";
import { KVM_BOOT_BOUND_S, notProbed, type KvmProof } from "../kvm/acceleration.ts";
import { proofOf } from "../kvm/preflight.ts";
import { parseGvisorProbe, type GvisorProbe } from "../gvisor/runtime.ts";
import type { HostProbe } from "../plan.ts";
import type { BasicProbe } from "../host-probe.ts";
import { evaluate, failures, kindsOf, parseObservations, toolNeeds, type Check } from "./checks.ts";
import { renderChecks } from "./table.ts";

export const OBSERVATIONS_ENV = "VIRTPERF_HOST_OBSERVATIONS";
const OBSERVE_SH = readFileSync(new URL("./observe.sh", import.meta.url), "utf8");

export interface Preflight {
  readonly checks: readonly Check[];
  /** The KVM proof when the stack has guests and did not ask for TCG. */
  readonly proof?: KvmProof;
  /** The gVisor probe when the stack has gvisor environments. */
  readonly gvisor?: GvisorProbe;
  /** Where it ran: "this machine" or "user@host". */
  readonly where: string;
}

/** The bash that observes what this experiment needs (observe.sh's and the kinds' functions, then the calls). Pure. */
export function observationScript(x: Experiment): string {
  const kinds = kindsOf(x);
  const calls = ["obs_basics"];
  // Each command once: with its probe when any group has one (a later probe-less line would overwrite it).
  const tools = new Map<string, string | undefined>();
  for (const g of toolNeeds(x)) for (const t of g.tools) tools.set(t.command, tools.get(t.command) ?? t.probe);
  for (const [command, probe] of tools) calls.push(`obs_tool ${shq(command)}${probe ? ` ${shq(probe)}` : ""}`);
  calls.push(`obs_disk ioDir ${shq(x.host.ioDir)}`, `obs_disk scratchDir ${shq(x.host.scratchDir)}`);
  const libraries: string[] = [];
  for (const kind of kinds) {
    const p = kindModule(kind).preflight;
    if (p.library) libraries.push(...(typeof p.library === "string" ? [p.library] : p.library));
    calls.push(...(p.observe?.(x, x.environments.filter((e) => e.options.kind === kind)) ?? []));
  }
  // Kinds that share observations (guests of two kinds: libvirt, hugepages, the KVM proof) send the same lines: each runs once.
  return ["set -u", OBSERVE_SH, ...new Set(libraries), ...new Set(calls), ""].join("\n");
}

/**
 * Runs the script on the host under test; returns what it printed. An SSH host is checked against its
 * pinned key from the stack (hostPublicKey), in a known_hosts file of this run's own: the pre-flight
 * comes before the plan's first step writes the stack's.
 */
function runOnHost(x: Experiment, script: string): { text: string; where: string } {
  const a = x.host.address;
  if (a.kind !== "ssh") return spawnOn("bash", ["-s"], script, "this machine", ["is bash installed?"]);
  const dir = mkdtempSync(join(tmpdir(), "virtperf-preflight-"));
  try {
    const knownHostsFile = join(dir, "known_hosts");
    writeFileSync(knownHostsFile, knownHostsLines(a.host, a.port, a.hostPublicKey).join("\n") + "\n", { mode: 0o600 });
    return spawnOn("ssh", [...sshArgs({ ...hostSshTarget(a), knownHostsFile }), "bash", "-s"], script, `${a.user}@${a.host}`,
      [`ssh ${a.user}@${a.host} true  (is the host reachable with the stack's key, and is virtperf:host.hostPublicKey its key?)`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function spawnOn(file: string, args: string[], script: string, where: string, suggestions: string[]): { text: string; where: string } {
  const r = spawnSync(file, args, { input: script, encoding: "utf8", timeout: (KVM_BOOT_BOUND_S + 100) * 1000, maxBuffer: 16 * 2 ** 20 });
  if (r.error || (r.status !== 0 && !r.stdout)) {
    throw new ProvisionError(`pre-flight checks could not run on ${where}: ${r.error?.message ?? `exit ${r.status}`} ${String(r.stderr ?? "").trim().split("\n").pop() ?? ""}`.trim(), { suggestions });
  }
  return { text: r.stdout, where };
}

/** Observes the host (or takes the injected observations) and judges them. */
export function preflight(x: Experiment, env: NodeJS.ProcessEnv = process.env): Preflight {
  const injected = env[OBSERVATIONS_ENV];
  const { text, where } = injected !== undefined ? { text: injected, where: "injected observations" } : runOnHost(x, observationScript(x));
  const o = parseObservations(text);
  const proof = kindsOf(x).some((k) => kindModule(k).preflight.guests) ? proofOf(x, o) : undefined;
  const gvisor = kindsOf(x).includes("gvisor") ? parseGvisorProbe(o) : undefined;
  return { checks: evaluate(x, o), where, ...(proof ? { proof } : {}), ...(gvisor ? { gvisor } : {}) };
}

/** The proof the planner decides acceleration from: the preflight's, else "not probed" (TCG asked, or no guests). */
export function kvmProofOf(p: Preflight): KvmProof {
  return p.proof ?? notProbed("not probed: no guest may use KVM in this stack (acceleration tcg, or no kvm environment)");
}

/** The host probe the planner decides from: the first look at the host, with what the pre-flight proved. */
export function hostProbeOf(basic: BasicProbe, p: Preflight): HostProbe {
  return { ...basic, kvm: kvmProofOf(p), ...(p.gvisor ? { gvisor: p.gvisor } : {}) };
}

/** Throws with the whole table when a check failed; `pulumi preview`, `pulumi up` and e2e stop here. */
export function assertPreflight(x: Experiment, p: Preflight): void {
  const failed = failures(p.checks);
  if (!failed.length) return;
  throw new PreflightError(
    `pre-flight: ${failed.length} check(s) failed on ${p.where} for stack ${x.stack}: ${failed.map((c) => `${c.title} (${c.for.join(", ")})`).join("; ")}`,
    renderChecks(p.checks), { suggestions: [...new Set(failed.flatMap((c) => (c.fix ? [c.fix] : [])))] },
  );
}
