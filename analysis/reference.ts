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
  /** Our case name, or PEAK: the headline case at native's peak (its concurrency depends on the host). */
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
  /** Where the study published no figure, only words: its ratio range per preset, approximate. */
  readonly ranges?: Readonly<Record<string, readonly [number, number]>>;
  /** How the study's point compares to ours (concurrency matched by load, not by count). */
  readonly note?: string;
}

/** The case of a curve workload where native peaks: the study's figure is matched to it, not to a count. */
export const PEAK = "@peak";

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
    // The study's 290 threads ran on 32 CPUs (9 per CPU) near its plateau; a smaller host never runs 290,
    // so the figure stands beside our case at native's peak, whatever its thread count.
    workload: "mysql", case: PEAK, metric: "tps", unit: "transactions/s", label: "sysbench OLTP read-only at peak load",
    source: "Felter et al. 2014, MySQL figure (290 threads on 32 CPUs)",
    values: { native: 13008, "docker-host-volume": 12877, "docker-volume": 12757, docker: 11305, kvm: 5643 },
    note: "study at 290 threads on 32 CPUs (9 per CPU); ours at native's peak",
  },
  {
    // No table: the study says it in words (Redis section). Ranges are our reading of those words.
    workload: "redis", case: PEAK, metric: "rps", unit: "requests/s", label: "Redis GET at high connection counts",
    source: "Felter et al. 2014, Redis section (text; approximate)",
    values: {},
    ranges: { docker: [0.7, 0.8], "docker-volume": [0.7, 0.8], "docker-host": [0.95, 1.0], "docker-host-volume": [0.95, 1.0], kvm: [0.85, 0.95], "kvm-tuned": [0.85, 0.95] },
    note: "approximate, read from the study's text: Docker NAT -20..-30 %, host network within a few percent, KVM about -10 % at 100+ connections",
  },
];

/** What the study found where it published no single figure, for the curve sections. */
export const REFERENCE_NOTES: Partial<Record<WorkloadId, string>> = {
  redis: "Study (GET, 1..120 connections): Docker with NAT loses about 20-30 % at every connection count; Docker with host networking stays within a few percent of native; KVM (1 vCPU) loses about 40 % at one connection and converges toward native (about -10 %) at 100+ connections.",
  mysql: "Study (sysbench OLTP read-only, 10..290 threads on 32 CPUs): Docker approaches native within 2 %; KVM is more than 40 % below native at every concurrency (13008 vs 5643 transactions/s at 290 threads, 9 threads per CPU). Our thread counts scale with the host's CPUs, so the study's figure stands beside our peak, not beside a thread count.",
  fio: "Study: containers (with volumes) reach native speed; KVM about halves random IOPS.",
  rr: "Study: request-response latency is much worse in KVM (+80 %); Docker's NAT adds overhead at high packet rates.",
};

/**
 * What the study says of its Redis and MySQL curves, as ratio bands against native to draw beside ours:
 * `at` says where along the concurrency axis (every count, the lowest, or the peak). Figures (`low` equal to
 * `high`) are the study's; ranges are our reading of its text, drawn and labelled as approximate.
 */
export interface StudyBand {
  readonly workload: WorkloadId;
  readonly metric: string;
  readonly environment: string;
  readonly low: number | null;
  readonly high: number;
  readonly at: "all" | "lowest" | "peak";
  readonly approximate: boolean;
}

const band = (workload: WorkloadId, metric: string, envs: readonly string[], low: number | null, high: number, at: StudyBand["at"], approximate: boolean): StudyBand[] =>
  envs.map((environment) => ({ workload, metric, environment, low, high, at, approximate }));

export const STUDY_BANDS: readonly StudyBand[] = [
  ...band("redis", "rps", ["docker", "docker-volume"], 0.7, 0.8, "all", true),
  ...band("redis", "rps", ["docker-host", "docker-host-volume"], 0.95, 1.0, "all", true),
  ...band("redis", "rps", KVM_ALL, 0.55, 0.65, "lowest", true),
  ...band("redis", "rps", KVM_ALL, 0.85, 0.95, "peak", true),
  ...Object.entries({ "docker-host-volume": 12877, "docker-volume": 12757, docker: 11305, kvm: 5643 }).map(([environment, v]) => ({ workload: "mysql" as const, metric: "tps", environment, low: v / 13008, high: v / 13008, at: "peak" as const, approximate: false })),
  ...band("mysql", "tps", ["kvm"], null, 0.6, "all", true),
];

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
  /** The paper's figure in our unit; null where it published only a range in words. */
  readonly value: number | null;
  readonly unit: string;
  /** The paper's figure over the paper's native figure (1 for native); the middle of the range without one. */
  readonly ratio: number;
  /** The study's ratio range (approximate, from its text), when it gave no figure. */
  readonly range: readonly [number, number] | null;
  readonly note: string | null;
}

const INDEX = new Map(REFERENCE.map((m) => [`${m.workload}\u0000${m.case}\u0000${m.metric}`, m]));

/**
 * The study's figure for one of our cells, or undefined when the study has none for it (or units differ).
 * A headline cell of a curve workload (Redis, MySQL) gets the study's figure at its peak.
 */
export function referenceFor(cell: { workload: string; case: string; metric: string; environment: string; unit: string }, headline = false): ReferenceCell | undefined {
  const key = (c: string) => `${cell.workload}\u0000${c}\u0000${cell.metric}`;
  const m = INDEX.get(key(cell.case)) ?? (headline ? INDEX.get(key(PEAK)) : undefined);
  if (!m) return undefined;
  const common = { label: m.label, source: m.source, unit: cell.unit, note: m.note ?? null };
  const range = m.ranges?.[cell.environment];
  if (range) return { ...common, value: null, ratio: (range[0] + range[1]) / 2, range };
  if (cell.environment === "native" && m.ranges && m.values["native"] === undefined) return undefined;
  const raw = m.values[cell.environment];
  const native = m.values["native"];
  if (raw === undefined || native === undefined) return undefined;
  const value = convertUnit(raw, m.unit, cell.unit);
  if (value === undefined) return undefined;
  return { ...common, value, ratio: raw / native, range: null };
}
