/**
 * The pre-flight checks of a stack (issue 8), in the spirit of `virt-host-validate`: what the host under
 * test must have for the stack's environments and workloads, judged from the host's observations
 * (observe.sh, kvm-proof.sh). Pure: observations in, checks out, so every failure has a unit test.
 *
 * A check is `fail` when a run would break on it (nothing is created then), `warn` when the run goes on
 * but measures something other than asked (TCG instead of KVM, native without a memory limit), `ok`.
 * Each names the environments that need it and, when not ok, the fix.
 */
import type { Experiment } from "../experiment.ts";
import type { EnvironmentKind } from "../environments.ts";
import { WORKLOADS } from "../../workloads/registry.ts";
import { kvmCheckTitle, parseKvmProof, resolveAcceleration, type KvmProof } from "./acceleration.ts";

/** skip: not run, because an earlier check it builds on failed. */
export type CheckStatus = "ok" | "warn" | "fail" | "skip";

export interface Check {
  readonly id: string;
  readonly title: string;
  readonly status: CheckStatus;
  readonly detail: string;
  readonly fix?: string;
  /** Environments that need it ("host" for the run itself). */
  readonly for: readonly string[];
}

export type Observations = ReadonlyMap<string, string>;

/** `<key>=<value>` lines -> map (later lines win; other lines ignored). */
export function parseObservations(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z][\w.:-]*)=(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!.trim());
  }
  return out;
}

/** A command the host must have: the Debian package that brings it, and a probe proving it runs. */
export interface ToolNeed {
  readonly command: string;
  readonly package: string;
  readonly probe?: string;
}

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** Host tools of each environment kind (the workload tools come from the workloads themselves). */
const KIND_TOOLS: Record<EnvironmentKind, readonly ToolNeed[]> = {
  native: [
    { command: "taskset", package: "util-linux" }, { command: "setsid", package: "util-linux" },
  ],
  docker: [
    { command: "docker", package: "docker.io", probe: "docker --version" },
    { command: "mmdebstrap", package: "mmdebstrap", probe: "mmdebstrap --version" },
  ],
  kvm: [
    { command: "virsh", package: "libvirt-clients", probe: "virsh --version" },
    { command: "qemu-system-x86_64", package: "qemu-system-x86", probe: "qemu-system-x86_64 --version" },
    { command: "qemu-img", package: "qemu-utils", probe: "qemu-img --version" },
    { command: "virt-xml-validate", package: "libvirt-clients" }, { command: "xmllint", package: "libxml2-utils" },
    { command: "mmdebstrap", package: "mmdebstrap", probe: "mmdebstrap --version" },
    { command: "mkfs.ext4", package: "e2fsprogs" }, { command: "ssh", package: "openssh-client" },
    { command: "ssh-keygen", package: "openssh-client" }, { command: "jq", package: "jq", probe: "jq --version" },
    { command: "flock", package: "util-linux" }, { command: "setpriv", package: "util-linux" },
  ],
};
const RUN_TOOLS: readonly ToolNeed[] = [{ command: "timeout", package: "coreutils" }, { command: "bash", package: "bash" }];

export function kindsOf(x: Experiment): Set<EnvironmentKind> {
  return new Set(x.environments.map((e) => e.options.kind));
}
const namesOf = (x: Experiment, kind: EnvironmentKind) => x.environments.filter((e) => e.options.kind === kind).map((e) => e.name);

/** Every tool the host needs for this experiment, grouped by who needs it. */
export function toolNeeds(x: Experiment): { group: string; for: string[]; tools: ToolNeed[] }[] {
  const kinds = kindsOf(x);
  const groups: { group: string; for: string[]; tools: ToolNeed[] }[] = [{ group: "run", for: ["host"], tools: [...RUN_TOOLS] }];
  const workloadTools = (side: "env" | "client") => x.workloads.flatMap((id) => {
    const w = WORKLOADS[id];
    return w.requires.filter((r) => r.on === side).map((r) => ({
      command: r.command, package: r.package, ...(w.tool.on === side && r.command === w.tool.name ? { probe: w.tool.versionCommand } : {}),
    }));
  });
  if (kinds.has("native")) groups.push({ group: "native", for: namesOf(x, "native"), tools: [...KIND_TOOLS.native, ...workloadTools("env")] });
  if (x.client.kind === "host") {
    const tools = workloadTools("client");
    if (tools.length) groups.push({ group: "client", for: ["clients on the host"], tools });
  }
  for (const kind of ["docker", "kvm"] as const) if (kinds.has(kind)) groups.push({ group: kind, for: namesOf(x, kind), tools: [...KIND_TOOLS[kind]] });
  for (const g of groups) g.tools = [...new Map(g.tools.map((t) => [t.command, t])).values()];
  return groups;
}

/** Most bytes one trial writes under its data directory (trials never overlap, and data is removed after each). */
export function maxTrialDataBytes(x: Experiment): number {
  const shape = { cpus: x.host.cpus, memoryMiB: x.host.memoryMiB };
  return Math.max(0, ...x.workloads.map((id) => { const w = WORKLOADS[id]; return w.dataBytes(w.params(x.profile, shape)); }));
}

/** Memory that KVM guests hold for the whole run (they are all up at once), MiB; hugepages included. */
export function guestMemoryMiB(x: Experiment): { total: number; hugepages: number } {
  const guests = x.environments.filter((e) => e.options.kind === "kvm");
  const huge = guests.filter((e) => e.options.kind === "kvm" && e.options.hugepages).length;
  return { total: guests.length * x.host.memoryMiB, hugepages: huge * x.host.memoryMiB };
}

const fmtBytes = (b: number) => (b >= GiB ? `${(b / GiB).toFixed(1)} GiB` : `${Math.round(b / MiB)} MiB`);
const check = (c: Check): Check => c;

function toolChecks(x: Experiment, o: Observations): Check[] {
  return toolNeeds(x).map(({ group, for: forWhom, tools }) => {
    const bad = tools.map((t) => ({ t, seen: o.get(`tool.${t.command}`) ?? "not observed" })).filter((s) => !s.seen.startsWith("ok"));
    const packages = [...new Set(bad.map((b) => b.t.package))];
    return check({
      id: `tools:${group}`, title: `${group === "run" ? "runner" : group} tools`, for: forWhom,
      status: bad.length ? "fail" : "ok",
      detail: bad.length ? bad.map((b) => `${b.t.command}: ${b.seen}`).join("; ") : `${tools.length} commands answer: ${tools.map((t) => t.command).join(", ")}`,
      ...(bad.length ? { fix: `apt-get install ${packages.join(" ")} (or: bash scripts/setup)` } : {}),
    });
  });
}

function dockerChecks(x: Experiment, o: Observations): Check[] {
  const forWhom = namesOf(x, "docker");
  if (!forWhom.length) return [];
  const down = o.get("docker.down");
  if (down !== undefined || !o.has("docker.server")) {
    return [check({ id: "docker-daemon", title: "Docker daemon answers", for: forWhom, status: "fail", detail: `docker info: ${down ?? "not observed"}`, fix: "start dockerd: bash scripts/services.sh docker (systemd: systemctl start docker)" })];
  }
  const warnings = o.get("docker.warnings") ?? "";
  const noLimits = /No (memory|cpuset|swap) limit support|cpuset.*not supported/i.test(warnings);
  const proxy = o.get("docker.userlandProxy");
  return [
    check({ id: "docker-daemon", title: "Docker daemon answers", for: forWhom, status: "ok", detail: `Docker ${o.get("docker.server")}, ${o.get("docker.driver")}, cgroup v${o.get("docker.cgroup")}` }),
    check({
      id: "docker-limits", title: "Docker enforces CPU set and memory", for: forWhom, status: noLimits ? "fail" : "ok",
      detail: noLimits ? warnings : "no limit warnings from docker info",
      ...(noLimits ? { fix: "enable the cpuset and memory cgroup controllers (kernel cmdline cgroup_enable=memory swapaccount=1; on cgroup v2 delegate cpuset and memory)" } : {}),
    }),
    check({
      id: "docker-nat-path", title: "published ports through kernel NAT", for: forWhom.filter((n) => { const e = x.environments.find((d) => d.name === n)!; return e.options.kind === "docker" && e.options.network === "bridge"; }),
      status: proxy === "off" ? "ok" : "warn",
      detail: proxy === "off" ? "dockerd runs with --userland-proxy=false" : `userland proxy ${proxy ?? "unknown"}: clients on the host go through docker-proxy (a user-space relay), not NAT`,
      ...(proxy === "off" ? {} : { fix: "start dockerd with --userland-proxy=false, or {\"userland-proxy\": false} in /etc/docker/daemon.json and restart it" }),
    }),
  ].filter((c) => c.for.length);
}

function libvirtChecks(x: Experiment, o: Observations): Check[] {
  const forWhom = namesOf(x, "kvm");
  if (!forWhom.length) return [];
  const down = o.get("libvirt.down");
  if (down !== undefined || !o.has("libvirt.version")) {
    return [check({ id: "libvirt-daemon", title: "libvirtd answers", for: forWhom, status: "fail", detail: `virsh -c qemu:///system list: ${down ?? "not observed"}`, fix: "start virtlogd and libvirtd: bash scripts/services.sh libvirt (systemd: systemctl start libvirtd)" })];
  }
  const net = o.get("libvirt.network");
  return [
    check({ id: "libvirt-daemon", title: "libvirtd answers", for: forWhom, status: "ok", detail: `${o.get("libvirt.version") || "libvirt"}` }),
    check({
      id: "libvirt-network", title: "libvirt network 'default' active", for: forWhom, status: net === "yes" ? "ok" : "fail",
      detail: net === "yes" ? "active" : net === "undefined" ? "not defined" : "defined but inactive",
      ...(net === "yes" ? {} : { fix: net === "undefined" ? "virsh net-define /usr/share/libvirt/networks/default.xml && virsh net-start default (or bash scripts/services.sh libvirt)" : "virsh net-start default (or bash scripts/services.sh libvirt)" }),
    }),
  ];
}

function cgroupCheck(x: Experiment, o: Observations): Check[] {
  const forWhom = namesOf(x, "native");
  if (!forWhom.length) return [];
  const v2 = o.get("cgroup.v2.controllers");
  const v2ok = o.get("cgroup.fs") === "cgroup2fs" && !!v2 && /\bcpuset\b/.test(v2) && /\bmemory\b/.test(v2) && o.get("cgroup.v2.subtreeWritable") === "yes";
  const v1ok = o.get("cgroup.v1.cpuset") === "writable" && o.get("cgroup.v1.memory") === "writable";
  const ok = v2ok || v1ok;
  return [check({
    id: "cgroups", title: "cgroups for native's CPU set and memory limit", for: forWhom, status: ok ? "ok" : "warn",
    detail: ok ? (v2ok ? "cgroup v2: cpuset and memory controllers delegable" : "cgroup v1: cpuset and memory hierarchies writable")
      : `no writable cpuset+memory cgroups (fs ${o.get("cgroup.fs") ?? "?"}, v2 controllers "${v2 ?? ""}", v1 cpuset ${o.get("cgroup.v1.cpuset") ?? "absent"}, memory ${o.get("cgroup.v1.memory") ?? "absent"}): native gets taskset only and NO memory limit`,
    ...(ok ? {} : { fix: "run as root on a host whose cgroup tree is writable (not inside a container), with the cpuset and memory controllers enabled" }),
  })];
}

function hugepagesCheck(x: Experiment, o: Observations): Check[] {
  const forWhom = x.environments.filter((e) => e.options.kind === "kvm" && e.options.hugepages).map((e) => e.name);
  if (!forWhom.length) return [];
  if (o.get("hugepages.mounted") !== "yes") {
    return [check({ id: "hugepages", title: "hugepages for guest memory", for: forWhom, status: "fail", detail: "no hugetlbfs is mounted", fix: "mkdir -p /dev/hugepages && mount -t hugetlbfs hugetlbfs /dev/hugepages, then restart libvirtd (bash scripts/services.sh does both at start)" })];
  }
  const r = o.get("hugepages.reserve") ?? "not observed";
  const m = /^(\d+)\/(\d+)$/.exec(r);
  const ok = !!m && Number(m[1]) >= Number(m[2]);
  const need = guestMemoryMiB(x).hugepages;
  return [check({
    id: "hugepages", title: "hugepages for guest memory", for: forWhom, status: ok ? "ok" : "fail",
    detail: ok ? `${m![2]} pages of ${o.get("hugepages.sizeKiB")} KiB reserved and released (${need} MiB)` : m ? `only ${m[1]} of ${m[2]} pages could be reserved (${need} MiB needed)` : `reserving ${need} MiB: ${r}`,
    ...(ok ? {} : { fix: r === "denied" ? "run as root with a writable /proc/sys/vm/nr_hugepages" : "free memory, or reserve the pages at boot (hugepages=N on the kernel command line), or lower virtperf:memoryMiB" }),
  })];
}

function diskChecks(x: Experiment, o: Observations): Check[] {
  const kinds = kindsOf(x);
  const data = maxTrialDataBytes(x);
  const needs = new Map<string, { bytes: number; for: Set<string>; what: string[] }>();
  const add = (label: string, bytes: number, forWhom: string[], what: string) => {
    if (!forWhom.length || bytes <= 0) return;
    const n = needs.get(label) ?? { bytes: 0, for: new Set<string>(), what: [] };
    n.bytes += bytes; forWhom.forEach((f) => n.for.add(f)); n.what.push(`${what} ${fmtBytes(bytes)}`);
    needs.set(label, n);
  };
  const volumeEnvs = x.environments.filter((e) => e.options.kind === "docker" && e.options.storage === "volume").map((e) => e.name);
  add("ioDir", data + 256 * MiB, [...namesOf(x, "native"), ...volumeEnvs], "trial data");
  if (kinds.has("kvm")) {
    if (o.get("file.guestImage") !== "present") add("scratchDir", 3 * GiB, namesOf(x, "kvm"), "guest image");
    for (const e of x.environments) {
      if (e.options.kind !== "kvm") continue;
      add("scratchDir", data + (e.options.diskFormat === "raw" ? 1.5 * GiB : 512 * MiB), [e.name], `${e.name} disk`);
    }
  }
  const overlayEnvs = x.environments.filter((e) => e.options.kind === "docker" && e.options.storage === "overlay").map((e) => e.name);
  if (kinds.has("docker")) {
    if (o.get("docker.image") !== "present") add("dockerRoot", GiB, namesOf(x, "docker"), "tools image");
    add("dockerRoot", data + 256 * MiB, overlayEnvs, "trial data in overlay");
  }
  // Labels on one filesystem share its free space: add their needs up per device.
  const byDevice = new Map<string, { avail: number; path: string; labels: string[]; bytes: number; for: Set<string>; what: string[] }>();
  for (const [label, n] of needs) {
    const seen = /^(\d+) (\S+) (.*)$/.exec(o.get(`disk.${label}`) ?? "");
    const key = seen ? seen[2]! : `unknown:${label}`;
    const d = byDevice.get(key) ?? { avail: seen ? Number(seen[1]) : NaN, path: seen?.[3] ?? label, labels: [], bytes: 0, for: new Set<string>(), what: [] };
    d.labels.push(label); d.bytes += n.bytes; n.for.forEach((f) => d.for.add(f)); d.what.push(...n.what);
    byDevice.set(key, d);
  }
  return [...byDevice.values()].map((d) => {
    const ok = Number.isFinite(d.avail) && d.avail >= d.bytes;
    return check({
      id: `disk:${d.labels.join("+")}`, title: `free disk for ${d.labels.join(", ")}`, for: [...d.for],
      status: Number.isNaN(d.avail) ? "warn" : ok ? "ok" : "fail",
      detail: `${Number.isNaN(d.avail) ? "free space unknown" : `${fmtBytes(d.avail)} free`} on ${d.path}; needs ${fmtBytes(d.bytes)} (${d.what.join(", ")})`,
      ...(ok ? {} : { fix: `free space on ${d.path}, point virtperf:${d.labels.includes("ioDir") ? "ioDir" : "scratchDir"} elsewhere, or use a smaller profile` }),
    });
  });
}

function hostShapeChecks(x: Experiment, o: Observations): Check[] {
  const out: Check[] = [];
  const online = o.get("cpus.online");
  if (online) {
    const want = x.host.cpuset;
    const onlineSet = new Set(expandCpus(online));
    const missing = expandCpus(want).filter((c) => !onlineSet.has(c));
    out.push(check({ id: "cpuset", title: "CPU set on the host", for: ["host"], status: missing.length ? "fail" : "ok",
      detail: missing.length ? `CPU ${missing.join(",")} of ${want} not online (online: ${online})` : `${want} of online ${online}`,
      ...(missing.length ? { fix: `set virtperf:cpuset within ${online}` } : {}) }));
  }
  const availKiB = Number(o.get("mem.availableKiB"));
  if (Number.isFinite(availKiB) && availKiB > 0) {
    const g = guestMemoryMiB(x);
    const needMiB = g.total + x.host.memoryMiB + 512;
    const ok = availKiB / 1024 >= needMiB;
    out.push(check({ id: "memory", title: "memory for the environments", for: ["host"], status: ok ? "ok" : "fail",
      detail: `${Math.round(availKiB / 1024)} MiB available; needs ${needMiB} MiB (${g.total ? `${g.total} MiB for guests up at once, ` : ""}${x.host.memoryMiB} MiB for one trial, 512 MiB for the host)`,
      ...(ok ? {} : { fix: "lower virtperf:memoryMiB, or list fewer KVM environments in one stack" }) }));
  }
  const root = o.get("root");
  if (root !== undefined && root !== "yes") {
    out.push(check({ id: "root", title: "runs as root", for: ["host"], status: "warn", detail: `running as ${root}: cgroups, hugepages and daemons need root`, fix: "run as root (sudo)" }));
  }
  return out;
}

/** "0-3,6" -> [0,1,2,3,6] (lenient: bad parts are skipped). */
function expandCpus(text: string): number[] {
  return text.split(",").flatMap((p) => {
    const m = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(p);
    if (!m) return [];
    const lo = Number(m[1]), hi = Number(m[2] ?? m[1]);
    return Array.from({ length: Math.max(0, hi - lo + 1) }, (_, i) => lo + i);
  });
}

/** The acceleration rows: each proof check, then the decision for the stack's guests. */
export function accelerationChecks(x: Experiment, proof: KvmProof | undefined): Check[] {
  const forWhom = namesOf(x, "kvm");
  if (!forWhom.length) return [];
  if (x.acceleration === "tcg" || !proof) {
    return [check({ id: "acceleration", title: "guest acceleration", for: forWhom, status: "ok", detail: "TCG requested (virtperf:acceleration tcg): guests are labelled TCG" })];
  }
  const rows = proof.checks.map((c) => check({
    id: `kvm:${c.id}`, title: kvmCheckTitle(c.id), for: forWhom,
    status: c.ok === null ? "skip" : c.ok ? "ok" : x.acceleration === "kvm" ? "fail" : "warn",
    detail: c.detail, ...(c.fix ? { fix: c.fix } : {}),
  }));
  let decision: Check;
  try {
    const r = resolveAcceleration(x.acceleration, proof);
    decision = check({ id: "acceleration", title: "guest acceleration", for: forWhom, status: r.acceleration === "kvm" ? "ok" : "warn", detail: r.reason });
  } catch (e) {
    decision = check({ id: "acceleration", title: "guest acceleration", for: forWhom, status: "fail", detail: (e as Error).message, fix: "fix the failed KVM check above, or set virtperf:acceleration auto/tcg" });
  }
  return [...rows, decision];
}

/** Every check of the experiment, from the host's observations (with the KVM proof's lines among them). */
export function evaluate(x: Experiment, o: Observations, proofText?: string): Check[] {
  const proof = proofText === undefined ? undefined : parseKvmProof(proofText);
  return [
    ...hostShapeChecks(x, o), ...toolChecks(x, o), ...dockerChecks(x, o), ...libvirtChecks(x, o),
    ...cgroupCheck(x, o), ...hugepagesCheck(x, o), ...diskChecks(x, o), ...accelerationChecks(x, proof),
  ];
}

export const failures = (checks: readonly Check[]) => checks.filter((c) => c.status === "fail");
