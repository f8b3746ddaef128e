/**
 * The paper's five fio cases and the job file that runs them.
 *
 * All cases run from ONE fio invocation and one job file, each job `stonewall`ed (strictly one after
 * another) and `group_reporting` (the 8 clones of a job report as one entry). Why one call rather than
 * one per case: fio prints one JSON document (one parse, one error check for the whole run), the data
 * file is laid out once and shared by every job, and there is no shell loop whose partial failure could
 * hide a case. The cost: a failing job fails the run, which is what we want for a benchmark anyway.
 */
export type FioDirection = "read" | "write";

export interface FioCase {
  /** Case name in trial records. */
  readonly name: string;
  /** fio's `rw=`. */
  readonly rw: "read" | "write" | "randread" | "randwrite" | "randrw";
  /** Block size as fio spells it. */
  readonly bs: string;
  /** Outstanding I/Os per job. */
  readonly iodepth: number;
  /** Jobs (clones) sharing the file; the paper's "QD128" is 16 x 8. */
  readonly numjobs: number;
  /** Percentage of reads, for randrw only. */
  readonly rwmixread?: number;
  /** Directions that must have done I/O; metrics are read from these. */
  readonly directions: readonly FioDirection[];
}

/** The paper's cases (Felter et al. 2014, section on block I/O), in the order they run. */
export const FIO_CASES: readonly FioCase[] = [
  { name: "seq-read", rw: "read", bs: "1m", iodepth: 2, numjobs: 1, directions: ["read"] },
  { name: "seq-write", rw: "write", bs: "1m", iodepth: 16, numjobs: 1, directions: ["write"] },
  { name: "rand-read-qd128", rw: "randread", bs: "4k", iodepth: 16, numjobs: 8, directions: ["read"] },
  { name: "rand-write-qd128", rw: "randwrite", bs: "4k", iodepth: 16, numjobs: 8, directions: ["write"] },
  { name: "rand-mixed-70-30", rw: "randrw", bs: "4k", iodepth: 32, numjobs: 8, rwmixread: 70, directions: ["read", "write"] },
];

/** Completion-latency percentiles asked of fio (`percentile_list`) and the metric suffix of each. */
export const CLAT_PERCENTILES = [
  { fio: "50.000000", suffix: "p50", listed: "50" },
  { fio: "99.000000", suffix: "p99", listed: "99" },
  { fio: "99.900000", suffix: "p99_9", listed: "99.9" },
] as const;

export interface JobFileOptions {
  /** Absolute path of the data file. */
  readonly filename: string;
  readonly fileSizeMiB: number;
  readonly runtimeS: number;
  readonly rampS: number;
}

/** The fio job file (ini text) running every case in order. Pure. */
export function renderJobFile(o: JobFileOptions, cases: readonly FioCase[] = FIO_CASES): string {
  const global = [
    "[global]",
    "ioengine=libaio",
    // Never buffered: the setup step refuses filesystems without O_DIRECT (see index.ts).
    "direct=1",
    `filename=${o.filename}`,
    `size=${o.fileSizeMiB}m`,
    "time_based=1",
    `runtime=${o.runtimeS}`,
    `ramp_time=${o.rampS}`,
    "group_reporting=1",
    `percentile_list=${CLAT_PERCENTILES.map((p) => p.listed).join(":")}`,
  ];
  const jobs = cases.map((c) => [
    "",
    `[${c.name}]`,
    `rw=${c.rw}`,
    `bs=${c.bs}`,
    `iodepth=${c.iodepth}`,
    `numjobs=${c.numjobs}`,
    ...(c.rwmixread === undefined ? [] : [`rwmixread=${c.rwmixread}`]),
    "stonewall",
  ]);
  return [...global, ...jobs.flat(), ""].join("\n");
}
