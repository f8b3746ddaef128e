/**
 * KVM acceleration, decided by proof (DESIGN.md: "KVM is usable when a guest kernel boots under it").
 * A device file proves nothing: hosts were seen with /dev/kvm present and a CPU without vmx/svm (QEMU as
 * libvirt's user: "Could not access KVM kernel module: Permission denied"; as root: an MSR assertion), and
 * with a KVM guest that starts and never boots. KVM is usable only when, in order:
 *   1. cpu-virt:   the CPU advertises vmx (Intel VT-x) or svm (AMD-V);
 *   2. kvm-device: /dev/kvm is a character device;
 *   3. qemu-user:  the user libvirt runs QEMU as (qemu.conf `user`; Debian: libvirt-qemu) opens it read-write;
 *   4. kvm-boot:   a throwaway QEMU with `-accel kvm` boots a kernel (the guest image's, else the host's;
 *                  without either, the firmware) to its first console line within a bound.
 * The first failure ends the proof; the later checks are "not run". The proof itself is bash
 * (kvm-proof.sh, run on the host under test); here its `kvm.<key>=<value>` lines become checks. Pure.
 */
import { ProvisionError } from "../../lib/errors.ts";
import type { Acceleration } from "../experiment.ts";

export type KvmCheckId = "cpu-virt" | "kvm-device" | "qemu-user" | "kvm-boot";

export interface KvmCheck {
  readonly id: KvmCheckId;
  /** true passed, false failed, null not run (an earlier check failed). */
  readonly ok: boolean | null;
  /** What was seen, one line. */
  readonly detail: string;
  /** What to do about a failure. */
  readonly fix?: string;
}

export interface KvmProof {
  readonly usable: boolean;
  readonly checks: readonly KvmCheck[];
}

/** Seconds the throwaway guest gets to print its first console line (KVM does it in well under 1 s). */
export const KVM_BOOT_BOUND_S = 20;

const TITLES: Record<KvmCheckId, string> = {
  "cpu-virt": "CPU advertises vmx/svm",
  "kvm-device": "/dev/kvm is a KVM device",
  "qemu-user": "libvirt's QEMU user opens /dev/kvm",
  "kvm-boot": "a guest kernel boots under -accel kvm",
};
export const kvmCheckTitle = (id: KvmCheckId) => TITLES[id];

/** `kvm.<key>=<value>` lines (anything else ignored) -> key/value map. */
export function proofFields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^kvm\.([a-z]+)=(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!.trim());
  }
  return out;
}

type Step = Omit<KvmCheck, "id">;

function cpuVirt(f: Map<string, string>): Step {
  const cpu = f.get("cpu");
  if (cpu === undefined) return { ok: false, detail: "the proof printed nothing (could not read /proc/cpuinfo?)", fix: "run `virtperf doctor --verbose` on the host" };
  if (cpu === "vmx" || cpu === "svm") return { ok: true, detail: `${cpu} (${f.get("vendor") || "unknown vendor"})` };
  const firmware = /AMD/i.test(f.get("vendor") ?? "") ? "AMD-V (SVM)" : "VT-x (Intel VMX)";
  return {
    ok: false, detail: `the CPU (${f.get("vendor") || "unknown vendor"}) advertises neither vmx nor svm`,
    fix: `enable ${firmware} in the firmware (BIOS/UEFI) setup; in a VM, turn on nested virtualization in its hypervisor; or set virtperf:acceleration tcg (guests then run under QEMU TCG, labelled so)`,
  };
}

function kvmDevice(f: Map<string, string>): Step {
  const device = f.get("device");
  const module = /kvm_amd/.test(f.get("modules") ?? "") ? "kvm_amd" : /kvm_intel/.test(f.get("modules") ?? "") ? "kvm_intel" : undefined;
  const load = f.get("cpu") === "svm" ? "modprobe kvm_amd" : "modprobe kvm_intel";
  if (device === "absent") return { ok: false, detail: `/dev/kvm does not exist (modules loaded: ${f.get("modules") || "none"})`, fix: `${load}; if it fails, see dmesg ("kvm: disabled by bios": enable virtualization in the firmware)` };
  if (!device || device.startsWith("not ")) return { ok: false, detail: `/dev/kvm is ${device ?? "unknown"}`, fix: `${load}, and let udev create /dev/kvm` };
  return { ok: true, detail: `${device}${module ? `, ${module}` : ""}` };
}

function qemuUser(f: Map<string, string>): Step {
  const user = f.get("user") ?? "unknown";
  const name = user.split(":")[0]!.split(" ")[0]!;
  if (f.get("open") === "ok") return { ok: true, detail: `${user} opens /dev/kvm (${f.get("device") ?? ""})` };
  return {
    ok: false, detail: `${user} cannot open /dev/kvm (${f.get("device") ?? "?"})`,
    fix: `give the kvm group access and put ${name} in it: chgrp kvm /dev/kvm && chmod 0660 /dev/kvm (udev: KERNEL=="kvm", GROUP="kvm", MODE="0660"); usermod -aG kvm ${name}`,
  };
}

function kvmBoot(f: Map<string, string>, boundS: number): Step {
  const payload = f.get("payload") ?? "a kernel";
  const ms = Number(f.get("ms"));
  const took = Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : "?";
  const stderr = f.get("stderr") ? ` (QEMU: ${f.get("stderr")})` : "";
  switch (f.get("boot")) {
    case "ok": return { ok: true, detail: `${payload}: "${(f.get("line") ?? "").slice(0, 60)}" after ${took}` };
    case "timeout": return {
      ok: false, detail: `${payload}: no console line within ${boundS} s${stderr}: the guest started but did not boot`,
      fix: "the host's KVM cannot run guests (a nested hypervisor without VT-x/AMD-V passthrough?): enable nested virtualization on the outer hypervisor, or set virtperf:acceleration tcg",
    };
    default: return {
      ok: false, detail: `${payload}: QEMU exited (code ${f.get("rc") ?? "?"}) before the first console line${stderr}`,
      fix: "run the host's `virt-host-validate qemu`; check dmesg for kvm errors; or set virtperf:acceleration tcg",
    };
  }
}

/** The proof's output -> its four checks, in order; everything after the first failure is "not run". */
export function parseKvmProof(text: string, boundS = KVM_BOOT_BOUND_S): KvmProof {
  const f = proofFields(text);
  const steps: [KvmCheckId, () => Step][] = [
    ["cpu-virt", () => cpuVirt(f)], ["kvm-device", () => kvmDevice(f)], ["qemu-user", () => qemuUser(f)], ["kvm-boot", () => kvmBoot(f, boundS)],
  ];
  const checks: KvmCheck[] = [];
  let failed: KvmCheck | undefined;
  for (const [id, step] of steps) {
    if (failed) { checks.push({ id, ok: null, detail: `not run (${failed.id} failed)` }); continue; }
    const c = { id, ...step() };
    checks.push(c);
    if (c.ok === false) failed = c;
  }
  return { usable: !failed, checks };
}

/** The first failed check of a proof, if any. */
export function failedCheck(proof: KvmProof): KvmCheck | undefined {
  return proof.checks.find((c) => c.ok === false);
}

/** A proof for hosts whose KVM is not in question (tests, TCG requested): nothing was run. */
export function notProbed(why: string): KvmProof {
  return { usable: false, checks: [{ id: "cpu-virt", ok: false, detail: why }] };
}

export interface ResolvedAcceleration {
  readonly acceleration: "kvm" | "tcg";
  /** Why: "KVM: the proof passed", or for TCG the request or the failed check. */
  readonly reason: string;
}

/** Acceleration of the guests: KVM only when the proof passed; demanding KVM on a host that failed it is refused. */
export function resolveAcceleration(requested: Acceleration, proof: KvmProof): ResolvedAcceleration {
  if (requested === "tcg") return { acceleration: "tcg", reason: "TCG requested (virtperf:acceleration tcg)" };
  const failed = failedCheck(proof);
  if (!failed && proof.usable) return { acceleration: "kvm", reason: `KVM proven: ${proof.checks.find((c) => c.id === "kvm-boot")?.detail ?? "all checks passed"}` };
  const why = failed ? `${failed.id}: ${failed.detail}` : "KVM not proven";
  if (requested === "kvm") {
    throw new ProvisionError(`virtperf:acceleration is "kvm" but KVM is not usable on this host: ${why}`, {
      suggestions: [...(failed?.fix ? [failed.fix] : []), "or set virtperf:acceleration to \"auto\" (TCG where KVM fails, labelled) or \"tcg\""],
    });
  }
  return { acceleration: "tcg", reason: `KVM not usable, so QEMU TCG: ${why}` };
}
