/**
 * Pre-flight: observe the host under test (observe.sh and kvm-proof.sh, run there: locally, or over SSH
 * for a remote host), judge the observations (checks.ts), and hand the planner the KVM proof.
 * `virtperf doctor` prints the checks; `npm run e2e` and the Pulumi program run them first and stop,
 * with the table, before anything is created when one fails.
 *
 * Tests inject the observations (VIRTPERF_HOST_OBSERVATIONS: the text the script would print), so mock
 * runs never look at the machine they run on.
 */
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { shq } from "../../lib/shell.ts";
import { PreflightError, ProvisionError } from "../../lib/errors.ts";
import type { Experiment } from "../experiment.ts";
import { allPackages } from "../../workloads/registry.ts";
import { planDockerImage } from "../docker/spec.ts";
import { guestImage } from "../kvm/guest-image.ts";
import { hostSshTarget } from "../native/spec.ts";
import { sshArgs } from "../../lib/ssh.ts";
import { KVM_BOOT_BOUND_S, notProbed, parseKvmProof, type KvmProof } from "./acceleration.ts";
import { evaluate, failures, guestMemoryMiB, kindsOf, parseObservations, toolNeeds, type Check } from "./checks.ts";
import { renderChecks } from "./table.ts";

export const OBSERVATIONS_ENV = "VIRTPERF_HOST_OBSERVATIONS";
const OBSERVE_SH = readFileSync(new URL("./observe.sh", import.meta.url), "utf8");
const KVM_PROOF_SH = readFileSync(new URL("./kvm-proof.sh", import.meta.url), "utf8");

export interface Preflight {
  readonly checks: readonly Check[];
  /** The KVM proof when the stack has guests and did not ask for TCG. */
  readonly proof?: KvmProof;
  /** Where it ran: "this machine" or "user@host". */
  readonly where: string;
}

/** The KVM proof needs running only for guests that may use KVM. */
function wantsProof(x: Experiment): boolean {
  return kindsOf(x).has("kvm") && x.acceleration !== "tcg";
}

/** The bash that observes what this experiment needs (functions from the two .sh files, then the calls). Pure. */
export function observationScript(x: Experiment): string {
  const kinds = kindsOf(x);
  const calls = ["obs_basics"];
  // Each command once: with its probe when any group has one (a later probe-less line would overwrite it).
  const tools = new Map<string, string | undefined>();
  for (const g of toolNeeds(x)) for (const t of g.tools) tools.set(t.command, tools.get(t.command) ?? t.probe);
  for (const [command, probe] of tools) calls.push(`obs_tool ${shq(command)}${probe ? ` ${shq(probe)}` : ""}`);
  calls.push(`obs_disk ioDir ${shq(x.host.ioDir)}`, `obs_disk scratchDir ${shq(x.host.scratchDir)}`);
  if (kinds.has("native")) calls.push("obs_cgroups");
  if (kinds.has("docker")) {
    const tag = planDockerImage(x, allPackages()).tag;
    calls.push("obs_docker", `obs docker.image "$(docker image inspect ${shq(tag)} >/dev/null 2>&1 && echo present || echo absent)"`,
      `obs_disk dockerRoot "$(docker info --format '{{.DockerRootDir}}' 2>/dev/null || echo /var/lib/docker)"`);
  }
  if (kinds.has("kvm")) {
    const img = guestImage(x);
    calls.push("obs_libvirt", `obs_file guestImage ${shq(img.base)}`);
    const huge = guestMemoryMiB(x).hugepages;
    if (huge) calls.push(`obs_hugepages ${huge}`);
    if (wantsProof(x)) {
      calls.push(`VIRTPERF_KVM_BOUND_S=${KVM_BOOT_BOUND_S} VIRTPERF_KVM_KERNEL=${shq(img.kernel ?? "")} kvm_proof`);
    }
  }
  return ["set -u", OBSERVE_SH, KVM_PROOF_SH, ...calls, ""].join("\n");
}

/** Runs the script on the host under test; returns what it printed. */
function runOnHost(x: Experiment, script: string): { text: string; where: string } {
  const a = x.host.address;
  const [file, args, where] = a.kind === "ssh"
    ? ["ssh", [...sshArgs(hostSshTarget(a)), "bash", "-s"], `${a.user}@${a.host}`]
    : ["bash", ["-s"], "this machine"];
  const r = spawnSync(file, args, { input: script, encoding: "utf8", timeout: (KVM_BOOT_BOUND_S + 100) * 1000, maxBuffer: 16 * 2 ** 20 });
  if (r.error || (r.status !== 0 && !r.stdout)) {
    throw new ProvisionError(`pre-flight checks could not run on ${where}: ${r.error?.message ?? `exit ${r.status}`} ${String(r.stderr ?? "").trim().split("\n").pop() ?? ""}`.trim(), {
      suggestions: a.kind === "ssh" ? [`ssh ${a.user}@${a.host} true  (is the host reachable with the stack's key?)`] : ["is bash installed?"],
    });
  }
  return { text: r.stdout, where };
}

/** Observes the host (or takes the injected observations) and judges them. */
export function preflight(x: Experiment, env: NodeJS.ProcessEnv = process.env): Preflight {
  const injected = env[OBSERVATIONS_ENV];
  const { text, where } = injected !== undefined ? { text: injected, where: "injected observations" } : runOnHost(x, observationScript(x));
  const proof = wantsProof(x) && /^kvm\.cpu=/m.test(text) ? parseKvmProof(text) : undefined;
  return { checks: evaluate(x, parseObservations(text), proof ? text : undefined), where, ...(proof ? { proof } : {}) };
}

/** The proof the planner decides acceleration from: the preflight's, else "not probed" (TCG asked, or no guests). */
export function kvmProofOf(p: Preflight): KvmProof {
  return p.proof ?? notProbed("not probed: no guest may use KVM in this stack (acceleration tcg, or no kvm environment)");
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
