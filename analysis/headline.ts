/**
 * The headline metrics: the study's question on one page, one row per metric (PXZ, HPL, STREAM triad,
 * GUPS, nuttcp each way, TCP and UDP round trip, fio's four headline cases, Redis GET and MySQL at their
 * peaks). Verdicts, and the false-discovery-rate family, are these cells; every other metric is
 * supporting data (interval and p, no verdict). ONE table: change the page-one rows here.
 */
export interface HeadlineDef {
  readonly workload: string;
  /** Our case name; absent for a "peak" row, whose case is chosen from the data. */
  readonly case?: string;
  readonly metric: string;
  readonly label: string;
  /** For a curve workload: the case where native's median is highest, among the cases (with this param value). */
  readonly peakOf?: { readonly param?: string; readonly value?: string };
}

export const HEADLINES: readonly HeadlineDef[] = [
  { workload: "xz", case: "compress", metric: "throughput", label: "PXZ (xz) compression" },
  { workload: "linpack", case: "hpl", metric: "gflops", label: "HPL (Linpack)" },
  { workload: "stream", case: "star", metric: "triad", label: "STREAM triad" },
  { workload: "randomaccess", case: "mpi", metric: "gups", label: "RandomAccess (GUPS)" },
  { workload: "nuttcp", case: "client-to-server", metric: "throughput", label: "nuttcp client to server" },
  { workload: "nuttcp", case: "server-to-client", metric: "throughput", label: "nuttcp server to client" },
  { workload: "rr", case: "tcp", metric: "rtt_avg", label: "TCP round trip" },
  { workload: "rr", case: "udp", metric: "rtt_avg", label: "UDP round trip" },
  { workload: "fio", case: "seq-read", metric: "bw", label: "fio sequential read" },
  { workload: "fio", case: "seq-write", metric: "bw", label: "fio sequential write" },
  { workload: "fio", case: "rand-read-qd128", metric: "iops", label: "fio random read 4K QD128" },
  { workload: "fio", case: "rand-write-qd128", metric: "iops", label: "fio random write 4K QD128" },
  { workload: "redis", metric: "rps", label: "Redis GET at native's peak", peakOf: { param: "op", value: "get" } },
  { workload: "mysql", metric: "tps", label: "MySQL OLTP read-only at native's peak", peakOf: {} },
];

/** A measure of one stack, as far as headline selection needs it. */
export interface MeasureKey {
  readonly workload: string;
  readonly case: string;
  readonly metric: string;
  readonly params: Readonly<Record<string, string | number | boolean>>;
  /** Median of native's values, undefined without native. */
  readonly nativeMedian: number | undefined;
  /** Concurrency of the case (clients, threads), for ties and for a missing native. */
  readonly concurrency: number | undefined;
}

/**
 * Which of a stack's measures are headline rows: a map from measure index to its headline position.
 * A peak row takes the case with the highest native median (the highest concurrency without native).
 */
export function pickHeadlines(measures: readonly MeasureKey[]): Map<number, number> {
  const out = new Map<number, number>();
  HEADLINES.forEach((h, pos) => {
    const matching = measures.map((m, i) => ({ m, i })).filter(({ m }) => m.workload === h.workload && m.metric === h.metric
      && (h.case !== undefined ? m.case === h.case : h.peakOf !== undefined && (h.peakOf.param === undefined || String(m.params[h.peakOf.param] ?? "") === h.peakOf.value)));
    if (matching.length === 0) return;
    const best = matching.reduce((a, b) => {
      const ka = a.m.nativeMedian ?? -Infinity, kb = b.m.nativeMedian ?? -Infinity;
      if (ka !== kb) return kb > ka ? b : a;
      return (b.m.concurrency ?? 0) > (a.m.concurrency ?? 0) ? b : a;
    });
    out.set(best.i, pos);
  });
  return out;
}
