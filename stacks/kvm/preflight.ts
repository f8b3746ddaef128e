/**
 * KVM's pre-flight: libvirtd and its network answer, hugepages can really be reserved for guests that
 * want them, the guest disks and image fit, guests fit in memory, and the KVM proof (acceleration.ts,
 * kvm-proof.sh) decides KVM or TCG.
 */
import { readFileSync } from "node:fs";
import { shq } from "../../lib/shell.ts";
import type { KindPreflight } from "../kind.ts";
import { GiB, MiB, type Check, type Envs, type Observations } from "../preflight/check.ts";
import type { Experiment } from "../experiment.ts";
import type { KvmOptions } from "./options.ts";
import { guestImage } from "./guest-image.ts";
import { KVM_BOOT_BOUND_S, kvmCheckTitle, parseKvmProof, resolveAcceleration, type KvmProof } from "./acceleration.ts";

// Also the guests of other kinds (a container's guest), whose options carry the same guest fields.
const optionsOf = (e: Envs[number]) => e.options as unknown as Pick<KvmOptions, "hugepages" | "diskFormat">;
const hugepageEnvs = (envs: Envs) => envs.filter((e) => optionsOf(e).hugepages);

/**
 * MiB of hugepages the stack's guests hold at once, whatever their kind (a kvm guest, or the guest a
 * container lives in: any environment whose options ask for hugepages), so one observation judges them all.
 */
export function stackHugepagesMiB(x: Experiment): number {
  return x.environments.filter((e) => (e.options as { hugepages?: unknown }).hugepages === true).length * x.host.memoryMiB;
}

/**
 * The observe calls every kind with guests makes (the same lines, so the pre-flight runs each once):
 * libvirt, the stack's hugepages, and the KVM proof (booting the base guest image's kernel when built).
 */
export function guestObserveCalls(x: Experiment): string[] {
  const huge = stackHugepagesMiB(x);
  return [
    "obs_libvirt", ...(huge ? [`obs_hugepages ${huge}`] : []),
    ...(wantsProof(x) ? [`VIRTPERF_KVM_BOUND_S=${KVM_BOOT_BOUND_S} VIRTPERF_KVM_KERNEL=${shq(guestImage(x).kernel ?? "")} kvm_proof`] : []),
  ];
}

/** The bash functions guestObserveCalls uses (kvm's observe.sh and the proof). */
export const GUEST_OBSERVE_LIBRARY = [readFileSync(new URL("./observe.sh", import.meta.url), "utf8"), readFileSync(new URL("./kvm-proof.sh", import.meta.url), "utf8")].join("\n");

/** The checks every kind with guests makes for its environments: libvirt, their hugepages, the acceleration. */
export function guestChecks(x: Experiment, o: Observations, envs: Envs): Check[] {
  const forWhom = envs.map((e) => e.name);
  return [...libvirtChecks(o, forWhom), ...hugepagesCheck(x, o, envs), ...accelerationChecks(x, proofOf(x, o), forWhom)];
}

/** The KVM proof runs only for guests that may use KVM. */
export const wantsProof = (x: Experiment) => x.acceleration !== "tcg";

/** The proof among the observations (its `kvm.*` lines), or undefined when it did not run. */
export function proofOf(x: Experiment, o: Observations): KvmProof | undefined {
  if (!wantsProof(x) || !o.has("kvm.cpu")) return undefined;
  return parseKvmProof([...o].filter(([k]) => k.startsWith("kvm.")).map(([k, v]) => `${k}=${v}`).join("\n"));
}

function libvirtChecks(o: Observations, forWhom: string[]): Check[] {
  const down = o.get("libvirt.down");
  if (down !== undefined || !o.has("libvirt.version")) {
    return [{ id: "libvirt-daemon", title: "libvirtd answers", for: forWhom, status: "fail", detail: `virsh -c qemu:///system list: ${down ?? "not observed"}`, fix: "start virtlogd and libvirtd: bash scripts/services.sh libvirt (systemd: systemctl start libvirtd)" }];
  }
  const net = o.get("libvirt.network");
  return [
    { id: "libvirt-daemon", title: "libvirtd answers", for: forWhom, status: "ok", detail: `${o.get("libvirt.version") || "libvirt"}` },
    {
      id: "libvirt-network", title: "libvirt network 'default' active", for: forWhom, status: net === "yes" ? "ok" : "fail",
      detail: net === "yes" ? "active" : net === "undefined" ? "not defined" : "defined but inactive",
      ...(net === "yes" ? {} : { fix: net === "undefined" ? "virsh net-define /usr/share/libvirt/networks/default.xml && virsh net-start default (or bash scripts/services.sh libvirt)" : "virsh net-start default (or bash scripts/services.sh libvirt)" }),
    },
  ];
}

function hugepagesCheck(x: Experiment, o: Observations, envs: Envs): Check[] {
  const forWhom = hugepageEnvs(envs).map((e) => e.name);
  if (!forWhom.length) return [];
  if (o.get("hugepages.mounted") !== "yes") {
    return [{ id: "hugepages", title: "hugepages for guest memory", for: forWhom, status: "fail", detail: "no hugetlbfs is mounted", fix: "mkdir -p /dev/hugepages && mount -t hugetlbfs hugetlbfs /dev/hugepages, then restart libvirtd (bash scripts/services.sh does both at start)" }];
  }
  const r = o.get("hugepages.reserve") ?? "not observed";
  const m = /^(\d+)\/(\d+)$/.exec(r);
  const ok = !!m && Number(m[1]) >= Number(m[2]);
  const need = stackHugepagesMiB(x);
  return [{
    id: "hugepages", title: "hugepages for guest memory", for: forWhom, status: ok ? "ok" : "fail",
    detail: ok ? `${m![2]} pages of ${o.get("hugepages.sizeKiB")} KiB reserved and released (${need} MiB)` : m ? `only ${m[1]} of ${m[2]} pages could be reserved (${need} MiB needed)` : `reserving ${need} MiB: ${r}`,
    ...(ok ? {} : { fix: r === "denied" ? "run as root with a writable /proc/sys/vm/nr_hugepages" : "free memory, or reserve the pages at boot (hugepages=N on the kernel command line), or lower virtperf:memoryMiB" }),
  }];
}

/** The acceleration rows: each proof check, then the decision for the stack's guests. */
export function accelerationChecks(x: Experiment, proof: KvmProof | undefined, forWhom: string[]): Check[] {
  if (x.acceleration === "tcg" || !proof) {
    return [{ id: "acceleration", title: "guest acceleration", for: forWhom, status: "ok", detail: "TCG requested (virtperf:acceleration tcg): guests are labelled TCG" }];
  }
  const rows: Check[] = proof.checks.map((c) => ({
    id: `kvm:${c.id}`, title: kvmCheckTitle(c.id), for: forWhom,
    status: c.ok === null ? "skip" : c.ok ? "ok" : x.acceleration === "kvm" ? "fail" : "warn",
    detail: c.detail, ...(c.fix ? { fix: c.fix } : {}),
  }));
  try {
    const r = resolveAcceleration(x.acceleration, proof);
    return [...rows, { id: "acceleration", title: "guest acceleration", for: forWhom, status: r.acceleration === "kvm" ? "ok" : "warn", detail: r.reason }];
  } catch (e) {
    return [...rows, { id: "acceleration", title: "guest acceleration", for: forWhom, status: "fail", detail: (e as Error).message, fix: "fix the failed KVM check above, or set virtperf:acceleration auto/tcg" }];
  }
}

export const kvmPreflight = {
  tools: [
    { command: "virsh", package: "libvirt-clients", probe: "virsh --version" },
    { command: "qemu-system-x86_64", package: "qemu-system-x86", probe: "qemu-system-x86_64 --version" },
    { command: "qemu-img", package: "qemu-utils", probe: "qemu-img --version" },
    { command: "virt-xml-validate", package: "libvirt-clients" }, { command: "xmllint", package: "libxml2-utils" },
    { command: "mmdebstrap", package: "mmdebstrap", probe: "mmdebstrap --version" },
    { command: "mkfs.ext4", package: "e2fsprogs" }, { command: "ssh", package: "openssh-client" },
    { command: "ssh-keygen", package: "openssh-client" }, { command: "jq", package: "jq", probe: "jq --version" },
    { command: "flock", package: "util-linux" }, { command: "setpriv", package: "util-linux" },
  ],
  library: GUEST_OBSERVE_LIBRARY,
  guests: true,
  observe: (x) => [`obs_file guestImage ${shq(guestImage(x).base)}`, ...guestObserveCalls(x)],
  checks: guestChecks,
  disk: (_x, o, envs, data) => [
    ...(o.get("file.guestImage") !== "present" ? [{ label: "scratchDir", bytes: 3 * GiB, for: envs.map((e) => e.name), what: "guest image" }] : []),
    ...envs.map((e) => ({ label: "scratchDir", bytes: data + (optionsOf(e).diskFormat === "raw" ? 1.5 * GiB : 512 * MiB), for: [e.name], what: `${e.name} disk` })),
  ],
  heldMemory: (x, envs) => ({ mib: envs.length * x.host.memoryMiB, what: "guests up at once" }),
} satisfies KindPreflight;
