/**
 * The pre-flight checks of a stack (issue 8), in the spirit of `virt-host-validate`: what the host under
 * test must have for the stack's environments and workloads, judged from the host's observations.
 * Pure: observations in, checks out, so every failure has a unit test. The host's own checks (CPU set,
 * memory, runner and client tools, disk per filesystem) are here; each kind brings its own tools and
 * checks (stacks/<kind>/preflight.ts), gathered through the registry.
 */
import type { Experiment } from "../experiment.ts";
import type { KindName } from "../../model/kinds.ts";
import { WORKLOADS } from "../../workloads/registry.ts";
import { kindModule } from "../kinds.ts";
import { workloadTools } from "../native/preflight.ts";
import { fmtBytes, namesOf, type Check, type DiskNeed, type Observations, type ToolNeed } from "./check.ts";

export type { Check, CheckStatus, Observations, ToolNeed } from "./check.ts";
export { parseObservations } from "./check.ts";

const RUN_TOOLS: readonly ToolNeed[] = [{ command: "timeout", package: "coreutils" }, { command: "bash", package: "bash" }];

export function kindsOf(x: Experiment): KindName[] {
  return [...new Set(x.environments.map((e) => e.options.kind))];
}
const envsOf = (x: Experiment, kind: KindName) => x.environments.filter((e) => e.options.kind === kind);

/** Every tool the host needs for this experiment, grouped by who needs it. */
export function toolNeeds(x: Experiment): { group: string; for: string[]; tools: ToolNeed[] }[] {
  const groups: { group: string; for: string[]; tools: ToolNeed[] }[] = [{ group: "run", for: ["host"], tools: [...RUN_TOOLS] }];
  if (x.client.kind === "host") {
    const tools = workloadTools(x, "client");
    if (tools.length) groups.push({ group: "client", for: ["clients on the host"], tools });
  }
  for (const kind of kindsOf(x)) {
    const p = kindModule(kind).preflight;
    groups.push({ group: kind, for: namesOf(x, kind), tools: [...p.tools, ...(p.workloadTools?.(x) ?? [])] });
  }
  for (const g of groups) g.tools = [...new Map(g.tools.map((t) => [t.command, t])).values()];
  return groups;
}

/** Most bytes one trial writes under its data directory (trials never overlap, and data is removed after each). */
export function maxTrialDataBytes(x: Experiment): number {
  const shape = { cpus: x.host.cpus, memoryMiB: x.host.memoryMiB };
  return Math.max(0, ...x.workloads.map((id) => { const w = WORKLOADS[id]; return w.dataBytes(w.params(x.profile, shape)); }));
}

/** Memory the kinds' environments hold for the whole run (guests are all up at once), MiB. */
export function heldMemory(x: Experiment): { mib: number; what: string[] } {
  const held = kindsOf(x).flatMap((k) => { const h = kindModule(k).preflight.heldMemory?.(x, envsOf(x, k)); return h && h.mib ? [h] : []; });
  return { mib: held.reduce((a, h) => a + h.mib, 0), what: held.map((h) => `${h.mib} MiB for ${h.what}`) };
}

function toolChecks(x: Experiment, o: Observations): Check[] {
  return toolNeeds(x).map(({ group, for: forWhom, tools }) => {
    const bad = tools.map((t) => ({ t, seen: o.get(`tool.${t.command}`) ?? "not observed" })).filter((s) => !s.seen.startsWith("ok"));
    const packages = [...new Set(bad.map((b) => b.t.package))];
    return {
      id: `tools:${group}`, title: `${group === "run" ? "runner" : group} tools`, for: forWhom,
      status: bad.length ? "fail" : "ok",
      detail: bad.length ? bad.map((b) => `${b.t.command}: ${b.seen}`).join("; ") : `${tools.length} commands answer: ${tools.map((t) => t.command).join(", ")}`,
      ...(bad.length ? { fix: `apt-get install ${packages.join(" ")} (or: bash scripts/setup)` } : {}),
    };
  });
}

/** The kinds' disk needs, added up per filesystem (labels on one device share its free space). */
function diskChecks(x: Experiment, o: Observations): Check[] {
  const data = maxTrialDataBytes(x);
  const needs: DiskNeed[] = kindsOf(x).flatMap((k) => kindModule(k).preflight.disk?.(x, o, envsOf(x, k), data) ?? []).filter((n) => n.bytes > 0 && n.for.length);
  const byDevice = new Map<string, { avail: number; path: string; labels: string[]; bytes: number; for: Set<string>; what: string[] }>();
  for (const n of needs) {
    const seen = /^(\d+) (\S+) (.*)$/.exec(o.get(`disk.${n.label}`) ?? "");
    const key = seen ? seen[2]! : `unknown:${n.label}`;
    const d = byDevice.get(key) ?? { avail: seen ? Number(seen[1]) : NaN, path: seen?.[3] ?? n.label, labels: [], bytes: 0, for: new Set<string>(), what: [] };
    if (!d.labels.includes(n.label)) d.labels.push(n.label);
    d.bytes += n.bytes; n.for.forEach((f) => d.for.add(f)); d.what.push(`${n.what} ${fmtBytes(n.bytes)}`);
    byDevice.set(key, d);
  }
  return [...byDevice.values()].map((d) => {
    const ok = Number.isFinite(d.avail) && d.avail >= d.bytes;
    return {
      id: `disk:${d.labels.join("+")}`, title: `free disk for ${d.labels.join(", ")}`, for: [...d.for],
      status: Number.isNaN(d.avail) ? "warn" : ok ? "ok" : "fail",
      detail: `${Number.isNaN(d.avail) ? "free space unknown" : `${fmtBytes(d.avail)} free`} on ${d.path}; needs ${fmtBytes(d.bytes)} (${d.what.join(", ")})`,
      ...(ok ? {} : { fix: `free space on ${d.path}, point virtperf:${d.labels.includes("ioDir") ? "ioDir" : "scratchDir"} elsewhere, or use a smaller profile` }),
    };
  });
}

function hostShapeChecks(x: Experiment, o: Observations): Check[] {
  const out: Check[] = [];
  const online = o.get("cpus.online");
  if (online) {
    const want = x.host.cpuset;
    const onlineSet = new Set(expandCpus(online));
    const missing = expandCpus(want).filter((c) => !onlineSet.has(c));
    out.push({ id: "cpuset", title: "CPU set on the host", for: ["host"], status: missing.length ? "fail" : "ok",
      detail: missing.length ? `CPU ${missing.join(",")} of ${want} not online (online: ${online})` : `${want} of online ${online}`,
      ...(missing.length ? { fix: `set virtperf:cpuset within ${online}` } : {}) });
  }
  const availKiB = Number(o.get("mem.availableKiB"));
  if (Number.isFinite(availKiB) && availKiB > 0) {
    const held = heldMemory(x);
    const needMiB = held.mib + x.host.memoryMiB + 512;
    const ok = availKiB / 1024 >= needMiB;
    out.push({ id: "memory", title: "memory for the environments", for: ["host"], status: ok ? "ok" : "fail",
      detail: `${Math.round(availKiB / 1024)} MiB available; needs ${needMiB} MiB (${[...held.what, `${x.host.memoryMiB} MiB for one trial`, "512 MiB for the host"].join(", ")})`,
      ...(ok ? {} : { fix: "lower virtperf:memoryMiB, or list fewer guests in one stack" }) });
  }
  const root = o.get("root");
  if (root !== undefined && root !== "yes") {
    out.push({ id: "root", title: "runs as root", for: ["host"], status: "warn", detail: `running as ${root}: cgroups, hugepages and daemons need root`, fix: "run as root (sudo)" });
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

/**
 * Checks two kinds made alike (the same id, status, detail and fix: libvirt or the KVM proof for kvm
 * guests and for the guests containers live in) become one row for all their environments.
 */
export function mergeChecks(checks: readonly Check[]): Check[] {
  const out: Check[] = [];
  for (const c of checks) {
    const i = out.findIndex((d) => d.id === c.id && d.status === c.status && d.detail === c.detail && d.fix === c.fix && d.title === c.title);
    if (i < 0) out.push(c);
    else out[i] = { ...out[i]!, for: [...new Set([...out[i]!.for, ...c.for])] };
  }
  return out;
}

/** Every check of the experiment, from the host's observations (the KVM proof's lines among them). */
export function evaluate(x: Experiment, o: Observations): Check[] {
  return [
    ...hostShapeChecks(x, o), ...toolChecks(x, o),
    ...mergeChecks(kindsOf(x).flatMap((k) => kindModule(k).preflight.checks?.(x, o, envsOf(x, k)) ?? [])),
    ...diskChecks(x, o),
  ];
}

export const failures = (checks: readonly Check[]) => checks.filter((c) => c.status === "fail");
