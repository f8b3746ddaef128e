/**
 * KVM proofs for tests, from the proof's real output captured here (test/fixtures/host/): this machine's
 * (a CPU without vmx/svm), and the boot check's real output under TCG with the lines of a host that
 * passed the first three checks put in front (what a KVM host prints, in the same format).
 */
import { readFileSync } from "node:fs";
import { parseKvmProof, type KvmProof } from "../../stacks/kvm/acceleration.ts";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/host/${name}`, import.meta.url), "utf8");

/** This machine's real proof text: AuthenticAMD, no vmx/svm. */
export const NO_VMX_TEXT = fixture("observations-dev-2cpu-no-vmx.txt").split("\n").filter((l) => l.startsWith("kvm.")).join("\n");

/** A host whose checks all pass: the boot check's real lines, after passing cpu, device and user lines. */
export const PROVEN_TEXT = fixture("kvm-proof-boot-check-under-tcg.txt")
  .replace("kvm.cpu=none", "kvm.cpu=svm")
  .replace("kvm.modules=kvm ", "kvm.modules=kvm kvm_amd \nkvm.device=crw-rw---- root:kvm\nkvm.open=ok");

export const KVM_PROVEN: KvmProof = parseKvmProof(PROVEN_TEXT);
export const KVM_NOT_USABLE: KvmProof = parseKvmProof(NO_VMX_TEXT);

/** The proof text with some `kvm.<key>=` lines replaced (value undefined: line removed). */
export function proofWith(base: string, changes: Record<string, string | undefined>): string {
  const lines = base.split("\n").filter((l) => !Object.keys(changes).some((k) => l.startsWith(`kvm.${k}=`)));
  for (const [k, v] of Object.entries(changes)) if (v !== undefined) lines.push(`kvm.${k}=${v}`);
  return lines.join("\n");
}
