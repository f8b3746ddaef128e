/**
 * The study's published figures (shared/paper/REFERENCE.md) as data, keyed on our workload, case and
 * metric names, so the report can show them beside a user's numbers. ONE table: fix names here.
 *
 * A figure's absolute value comes from the paper's machine (2 x Xeon E5-2665, 10 GbE, FlashSystem 840),
 * so the comparable quantity is the ratio to the paper's own native figure; the report shows both.
 * Paper configurations are mapped onto our presets: Table I's "Docker" had no limits and touches neither
 * network nor storage, so it stands for every Docker preset; "KVM untuned" is `kvm`, "KVM tuned" is
 * `kvm-tuned`; where the paper has a single "KVM" column it stands for both KVM presets.
 */
import type { WorkloadId } from "../workloads/contract.ts";

export interface ReferenceMeasure {
  readonly workload: WorkloadId;
  /** Our case name. */
  readonly case: string;
  /** Our metric name. */
  readonly metric: string;
  /** Unit of the paper's values (converted to ours when they differ but are convertible). */
  readonly unit: string;
  /** What the paper calls it. */
  readonly label: string;
  readonly source: string;
  /** Paper figure per preset name; `native` is the paper's native figure. */
  readonly values: Readonly<Record<string, number>>;
}

const DOCKER_ALL = ["docker", "docker-host", "docker-volume", "docker-host-volume"] as const;
const KVM_ALL = ["kvm", "kvm-tuned"] as const;

/** One value for several presets. */
function each(presets: readonly string[], value: number): Record<string, number> {
  return Object.fromEntries(presets.map((p) => [p, value]));
}

function cpuRow(workload: WorkloadId, kase: string, metric: string, unit: string, label: string, native: number, docker: number, kvm: Record<string, number>): ReferenceMeasure {
  return { workload, case: kase, metric, unit, label, source: "Felter et al. 2014, Table I", values: { native, ...each(DOCKER_ALL, docker), ...kvm } };
}

export const REFERENCE: readonly ReferenceMeasure[] = [
  cpuRow("xz", "compress", "throughput", "MB/s", "PXZ", 76.2, 73.5, { kvm: 59.2, "kvm-tuned": 62.2 }),
  cpuRow("linpack", "hpl", "gflops", "GFLOPS", "Linpack", 290.8, 290.9, { kvm: 241.3, "kvm-tuned": 284.2 }),
  // RandomAccess: the paper's one table over the whole machine is HPCC's MPI case.
  cpuRow("randomaccess", "mpi", "gups", "GUPS", "RandomAccess", 0.0126, 0.0124, each(KVM_ALL, 0.0125)),
  // STREAM: the paper's 32 threads at once are HPCC's StarSTREAM (case "star").
  cpuRow("stream", "star", "add", "GB/s", "STREAM Add", 45.8, 45.6, each(KVM_ALL, 45.0)),
  cpuRow("stream", "star", "copy", "GB/s", "STREAM Copy", 41.3, 41.2, each(KVM_ALL, 40.1)),
  cpuRow("stream", "star", "scale", "GB/s", "STREAM Scale", 41.2, 41.2, each(KVM_ALL, 40.0)),
  cpuRow("stream", "star", "triad", "GB/s", "STREAM Triad", 45.6, 45.6, each(KVM_ALL, 45.0)),
  ...(["client-to-server", "server-to-client"] as const).map((dir, i) => ({
    workload: "nuttcp" as const, case: dir, metric: "throughput", unit: "Mbit/s", label: `nuttcp ${dir.replaceAll("-", " ")}`,
    source: "Felter et al. 2014, network spreadsheet",
    values: { native: [9348, 9340][i]!, ...each(["docker", "docker-volume"], [9330, 9320][i]!), ...each(KVM_ALL, [9294, 9265][i]!) },
  })),
  ...(["tcp", "udp"] as const).map((proto, i) => ({
    // netperf's round trip is 10^6 / transactions per s: a mean, our rtt_avg.
    workload: "rr" as const, case: proto, metric: "rtt_avg", unit: "us", label: `${proto.toUpperCase()}_RR round trip`,
    source: "Felter et al. 2014, network spreadsheet (netperf, 100/200 B)",
    values: { native: [37.6, 36.0][i]!, ...each(KVM_ALL, [67.9, 64.0][i]!) },
  })),
  ...([
    ["seq-read", "bw", "MB/s", "sequential read", 806.9, 806.7, 801.9],
    ["seq-write", "bw", "MB/s", "sequential write", 751.0, 752.3, 740.2],
    ["rand-read-qd128", "iops", "IO/s", "random read 4K QD128", 84044, 84092, 46173],
    ["rand-write-qd128", "iops", "IO/s", "random write 4K QD128", 112034, 112048, 59321],
    ["rand-mixed-70-30", "iops", "IO/s", "random mixed 70/30", 104553, 104518, 50737],
  ] as const).map(([kase, metric, unit, label, native, docker, kvm]) => ({
    workload: "fio" as const, case: kase, metric, unit, label: `fio ${label}`,
    source: "Felter et al. 2014, fio spreadsheet (one run each)",
    values: { native, ...each(["docker-volume", "docker-host-volume"], docker), ...each(KVM_ALL, kvm) },
  })),
  {
    workload: "mysql", case: "oltp-ro-t290", metric: "tps", unit: "transactions/s", label: "sysbench OLTP read-only, 290 threads",
    source: "Felter et al. 2014, MySQL figure",
    values: { native: 13008, "docker-host-volume": 12877, "docker-volume": 12757, docker: 11305, kvm: 5643 },
  },
];

/** What the study found where it published no single figure, for the curve sections. */
export const REFERENCE_NOTES: Partial<Record<WorkloadId, string>> = {
  redis: "Study (GET, 1..120 connections): Docker with NAT loses about 20-30 % at every connection count; Docker with host networking stays within a few percent of native; KVM (1 vCPU) loses about 40 % at one connection and converges toward native (about -10 %) at 100+ connections.",
  mysql: "Study (sysbench OLTP read-only, 10..290 threads): Docker approaches native within 2 %; KVM is more than 40 % below native at every concurrency (13008 vs 5643 transactions/s at 290 threads).",
  fio: "Study: containers (with volumes) reach native speed; KVM about halves random IOPS.",
  rr: "Study: request-response latency is much worse in KVM (+80 %); Docker's NAT adds overhead at high packet rates.",
};

/** Factors to a base unit, for the few unit pairs the paper and we may spell differently. */
const UNIT_FACTORS: Readonly<Record<string, readonly [string, number]>> = {
  "bit/s": ["bit/s", 1], "Mbit/s": ["bit/s", 1e6], "Gbit/s": ["bit/s", 1e9],
  "B/s": ["B/s", 1], "MB/s": ["B/s", 1e6], "GB/s": ["B/s", 1e9], "MiB/s": ["B/s", 2 ** 20], "GiB/s": ["B/s", 2 ** 30],
  us: ["s", 1e-6], ms: ["s", 1e-3], s: ["s", 1], ns: ["s", 1e-9],
};

/** `value` in `from` expressed in `to`; undefined when the units are not known to be convertible. */
export function convertUnit(value: number, from: string, to: string): number | undefined {
  if (from === to) return value;
  const a = UNIT_FACTORS[from];
  const b = UNIT_FACTORS[to];
  if (!a || !b || a[0] !== b[0]) return undefined;
  return (value * a[1]) / b[1];
}

export interface ReferenceCell {
  readonly label: string;
  readonly source: string;
  /** The paper's figure in our unit. */
  readonly value: number;
  readonly unit: string;
  /** The paper's figure over the paper's native figure (1 for native). */
  readonly ratio: number;
}

const INDEX = new Map(REFERENCE.map((m) => [`${m.workload}\u0000${m.case}\u0000${m.metric}`, m]));

/** The study's figure for one of our cells, or undefined when the study has none for it (or units differ). */
export function referenceFor(workload: string, kase: string, metric: string, environment: string, unit: string): ReferenceCell | undefined {
  const m = INDEX.get(`${workload}\u0000${kase}\u0000${metric}`);
  const raw = m?.values[environment];
  const native = m?.values["native"];
  if (!m || raw === undefined || native === undefined) return undefined;
  const value = convertUnit(raw, m.unit, unit);
  if (value === undefined) return undefined;
  return { label: m.label, source: m.source, value, unit, ratio: raw / native };
}
