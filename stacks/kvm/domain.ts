/**
 * KVM guests, pure part: the domain spec of an environment and its libvirt domain XML
 * (DESIGN.md, Environments: `kvm` and `kvm-tuned`, and custom combinations of the same options).
 *
 * Choices written down here:
 * - Every guest is confined to the environment's CPU set: `<vcpu cpuset=...>` when not pinned (the
 *   vCPUs float over the set, like an untuned guest's), `<vcpupin>` 1:1 plus `<emulatorpin>` when pinned.
 * - `generic` CPU model: a named baseline, `Nehalem` (x86-64-v2: SSE4.2, no AVX), vCPUs as sockets: what
 *   an untuned guest sees, without the host's vector units. Not libvirt's bare default (qemu64): that
 *   model claims AMD features (svm, 3dnowprefetch), OpenBLAS then picks its Opteron kernel, and under TCG
 *   hpcc died of SIGILL here (e2e run of 2026-11-26).
 * - `host-passthrough` under TCG is impossible (QEMU's `-cpu host` needs KVM): the domain gets
 *   `<cpu mode='maximum'>` (QEMU `-cpu max`, every feature TCG emulates) and the metadata says so.
 * - The MAC address is derived from the domain name, so the guest's DHCP lease can be told apart.
 * - The serial console is logged to a file beside the disk: a guest that never answers SSH says why.
 */
import { createHash } from "node:crypto";
import type { KvmOptions } from "./options.ts";

export type DomainType = "kvm" | "qemu";

export interface DomainSpec {
  /** libvirt domain name, `virtperf-<stack>-<environment>`. */
  readonly name: string;
  /** "kvm" with KVM acceleration, "qemu" for TCG (software emulation). */
  readonly type: DomainType;
  readonly stack: string;
  readonly environment: string;
  readonly options: KvmOptions;
  /** Host CPUs of the environment; the guest gets one vCPU per CPU. */
  readonly cpus: readonly number[];
  readonly memoryMiB: number;
  /** Host threads per core, for a topology that matches the host. */
  readonly threadsPerCore: number;
  readonly disk: { readonly path: string; readonly format: "qcow2" | "raw" };
  /** The guest's seed disk (its own SSH host key and root key), attached read-only as vdb; built images only. */
  readonly seed?: string;
  /** Direct kernel boot (built images); absent: boot from the disk (user cloud images). */
  readonly boot?: { readonly kernel: string; readonly initrd: string; readonly cmdline: string };
  readonly mac: string;
  /** libvirt network the NIC is on. */
  readonly network: string;
  readonly consoleLog: string;
}

/** A locally administered libvirt-style MAC (52:54:00:xx:xx:xx) derived from the domain name. */
export function macFor(domainName: string): string {
  const h = createHash("sha256").update(domainName).digest();
  return ["52", "54", "00", ...[0, 1, 2].map((i) => h[i]!.toString(16).padStart(2, "0"))].join(":");
}

/** Escapes text for XML attribute values and element content. */
export function xmlEscape(value: string | number): string {
  return String(value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

/** Guest CPU topology matching the host: one socket, cores x threads = vCPUs (threads only when they divide). */
export function topologyFor(vcpus: number, threadsPerCore: number): { sockets: number; cores: number; threads: number } {
  const threads = threadsPerCore > 1 && vcpus % threadsPerCore === 0 ? threadsPerCore : 1;
  return { sockets: 1, cores: vcpus / threads, threads };
}

/** The `generic` CPU model (see the header). */
export const GENERIC_CPU_MODEL = "Nehalem";

/** What the guest's CPU element becomes, given the options and the domain type. */
export function cpuModeFor(options: KvmOptions, type: DomainType): "custom" | "host-passthrough" | "maximum" {
  if (options.cpuModel === "generic") return "custom";
  return type === "kvm" ? "host-passthrough" : "maximum";
}

function cpuXml(s: DomainSpec): string[] {
  const mode = cpuModeFor(s.options, s.type);
  const topo = s.options.topology ? topologyFor(s.cpus.length, s.threadsPerCore) : undefined;
  const topoXml = topo ? `<topology sockets='${topo.sockets}' dies='1' cores='${topo.cores}' threads='${topo.threads}'/>` : "";
  if (mode === "custom") return [`  <cpu mode='custom' match='exact' check='partial'><model fallback='forbid'>${GENERIC_CPU_MODEL}</model>${topoXml}</cpu>`];
  const check = mode === "host-passthrough" ? " check='none' migratable='off'" : "";
  return [`  <cpu mode='${mode}'${check}>${topoXml}</cpu>`];
}

function cpuTuneXml(s: DomainSpec): string[] {
  const set = s.cpus.join(",");
  if (!s.options.pinning) return [`  <vcpu placement='static' cpuset='${set}'>${s.cpus.length}</vcpu>`];
  return [
    `  <vcpu placement='static'>${s.cpus.length}</vcpu>`,
    "  <cputune>",
    ...s.cpus.map((cpu, vcpu) => `    <vcpupin vcpu='${vcpu}' cpuset='${cpu}'/>`),
    `    <emulatorpin cpuset='${set}'/>`,
    "  </cputune>",
  ];
}

function osXml(s: DomainSpec): string[] {
  const lines = ["  <os>", "    <type arch='x86_64'>hvm</type>"];
  if (s.boot) {
    lines.push(`    <kernel>${xmlEscape(s.boot.kernel)}</kernel>`, `    <initrd>${xmlEscape(s.boot.initrd)}</initrd>`);
    lines.push(`    <cmdline>${xmlEscape(s.boot.cmdline)}</cmdline>`);
  } else {
    lines.push("    <boot dev='hd'/>");
  }
  return [...lines, "  </os>"];
}

function devicesXml(s: DomainSpec): string[] {
  const cache = s.options.diskCache === "none" ? " cache='none' io='native'" : "";
  const queues = s.options.multiqueue && s.cpus.length > 1 ? `<driver queues='${s.cpus.length}'/>` : "";
  return [
    "  <devices>",
    "    <disk type='file' device='disk'>",
    `      <driver name='qemu' type='${s.disk.format}'${cache}/>`,
    `      <source file='${xmlEscape(s.disk.path)}'/>`,
    "      <target dev='vda' bus='virtio'/>",
    "    </disk>",
    ...(s.seed ? [
      "    <disk type='file' device='disk'>",
      "      <driver name='qemu' type='raw'/>",
      `      <source file='${xmlEscape(s.seed)}'/>`,
      "      <target dev='vdb' bus='virtio'/>",
      "      <readonly/>",
      "    </disk>",
    ] : []),
    "    <interface type='network'>",
    `      <mac address='${s.mac}'/>`,
    `      <source network='${xmlEscape(s.network)}'/>`,
    `      <model type='virtio'/>${queues}`,
    "    </interface>",
    `    <serial type='pty'><log file='${xmlEscape(s.consoleLog)}' append='off'/></serial>`,
    "    <console type='pty'/>",
    "    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>",
    "  </devices>",
  ];
}

/** Human label of the acceleration, carried in the domain's description and the facts. */
export function accelerationLabel(type: DomainType): string {
  return type === "kvm" ? "KVM (hardware-accelerated)" : "QEMU TCG (software emulation, NOT KVM: not comparable with KVM numbers)";
}

/** The libvirt domain XML of a guest. Pure; validated by `virt-xml-validate` before `virsh define`. */
export function renderDomainXml(s: DomainSpec): string {
  const accel = s.type === "kvm" ? "kvm" : "tcg";
  return [
    `<domain type='${s.type}'>`,
    `  <name>${xmlEscape(s.name)}</name>`,
    `  <title>virtperf ${xmlEscape(s.stack)} ${xmlEscape(s.environment)}</title>`,
    `  <description>virtperf guest, stack ${xmlEscape(s.stack)}, environment ${xmlEscape(s.environment)}; acceleration: ${xmlEscape(accelerationLabel(s.type))}</description>`,
    "  <metadata>",
    `    <virtperf:guest xmlns:virtperf='https://virtperf.dev/xmlns/guest/1' stack='${xmlEscape(s.stack)}' environment='${xmlEscape(s.environment)}' acceleration='${accel}' cpumode='${cpuModeFor(s.options, s.type)}'/>`,
    "  </metadata>",
    `  <memory unit='MiB'>${s.memoryMiB}</memory>`,
    `  <currentMemory unit='MiB'>${s.memoryMiB}</currentMemory>`,
    ...(s.options.hugepages ? ["  <memoryBacking><hugepages/></memoryBacking>"] : []),
    ...cpuTuneXml(s),
    ...osXml(s),
    "  <features><acpi/><apic/></features>",
    ...cpuXml(s),
    "  <clock offset='utc'/>",
    "  <on_poweroff>destroy</on_poweroff>",
    "  <on_reboot>restart</on_reboot>",
    "  <on_crash>destroy</on_crash>",
    ...devicesXml(s),
    "</domain>",
    "",
  ].join("\n");
}
