/**
 * fio: block I/O with libaio and direct I/O on a file in the environment's data directory
 * (the paper's five cases, see cases.ts).
 *
 * Direct I/O is required, never silently dropped: the setup step probes O_DIRECT on the data directory
 * and fails the trial with a clear message when the filesystem refuses it (ramfs, old overlayfs, some
 * FUSE filesystems). A buffered run would measure the page cache, not the I/O path under test, and its
 * numbers would not be comparable with the other environments'. Every case records `direct: true`.
 */
import { ConfigError } from "../../lib/errors.ts";
import { shq } from "../../lib/shell.ts";
import type { HostShape, MetricSpec, ProfileName, TrialContext, TrialSteps, Workload } from "../contract.ts";
import { FIO_CASES, renderJobFile } from "./cases.ts";
import { parseFio } from "./parse.ts";

export type FioParams = {
  /** Size of the one data file every job shares, MiB. */
  readonly fileSizeMiB: number;
  /** Measured seconds per case (fio `runtime`, time based). */
  readonly runtimeS: number;
  /** Seconds per case run before measuring (fio `ramp_time`). */
  readonly rampS: number;
  /** Always true: see the header comment. */
  readonly direct: boolean;
};

/**
 * Profiles. Queue depths and job counts stay the paper's in every profile and on every shape: the
 * cases are defined by the outstanding I/O they keep (QD2, QD16, 16 x 8, 32 x 8), not by the CPUs.
 * The file size needs no scaling to memory because direct I/O bypasses the page cache; `full` uses the
 * paper's 16 GiB file (the environment's disk must hold it), `quick` 1 GiB, `smoke` a few MiB.
 */
function params(profile: ProfileName, _shape: HostShape): FioParams {
  switch (profile) {
    case "smoke": return { fileSizeMiB: 16, runtimeS: 1, rampS: 0, direct: true };
    case "quick": return { fileSizeMiB: 1024, runtimeS: 8, rampS: 2, direct: true };
    case "full": return { fileSizeMiB: 16384, runtimeS: 60, rampS: 10, direct: true };
  }
}

/** fio reads the path from an ini file (where `${VAR}` expands) and splits `filename` at ':'. */
const SAFE_PATH = /^\/[A-Za-z0-9_.\/-]*$/;

function dataFile(ctx: TrialContext): string {
  if (!SAFE_PATH.test(ctx.dataDir)) {
    throw new ConfigError("dataDir", `fio cannot use the data directory ${JSON.stringify(ctx.dataDir)}`, {
      detail: "fio needs an absolute path of letters, digits and _ . / - (':' separates files, '$' expands)",
      suggestions: ["choose a data directory such as /var/lib/virtperf/data"],
    });
  }
  return `${ctx.dataDir.replace(/\/+$/, "")}/virtperf-fio.dat`;
}

function setupScript(p: FioParams, file: string, dataDir: string): string {
  const probe = `${file}.odirect-probe`;
  return `mkdir -p ${shq(dataDir)}
rm -f ${shq(file)} ${shq(probe)}
# Refuse, rather than fall back to buffered I/O, when the filesystem has no O_DIRECT.
if ! dd if=/dev/zero of=${shq(probe)} bs=4096 count=1 oflag=direct status=none 2>/dev/null; then
  rm -f ${shq(probe)}
  echo "fio: the data directory "${shq(dataDir)}" ($(stat -f -c %T ${shq(dataDir)})) does not support O_DIRECT;" \\
    "virtperf runs fio with direct=1 only. Put the data directory on a filesystem with O_DIRECT (ext4, xfs, a Docker volume)." >&2
  exit 3
fi
rm -f ${shq(probe)}
# Lay the file out now (fio writes it in full), so the timed run does not pay for it.
fio --name=layout --filename=${shq(file)} --size=${shq(`${p.fileSizeMiB}m`)} --rw=read --bs=1m \\
  --ioengine=libaio --direct=1 --create_only=1 --output-format=json >/dev/null
`;
}

function runScript(p: FioParams, file: string): string {
  const jobFile = renderJobFile({ filename: file, fileSizeMiB: p.fileSizeMiB, runtimeS: p.runtimeS, rampS: p.rampS });
  return `cat > fio-jobs.fio <<'VIRTPERF_FIO_JOBS'
${jobFile}VIRTPERF_FIO_JOBS
exec fio --output-format=json fio-jobs.fio
`;
}

function steps(p: FioParams, ctx: TrialContext): TrialSteps {
  const file = dataFile(ctx);
  const perCaseS = p.runtimeS + p.rampS;
  return {
    // Layout writes the whole file: allow 20 MB/s at worst (a TCG guest on a slow disk).
    setup: { on: "env", script: setupScript(p, file, ctx.dataDir), timeoutS: 60 + Math.ceil(p.fileSizeMiB / 20) },
    // Slack for job start-up and a slow guest: three times the nominal time plus a minute.
    run: { on: "env", script: runScript(p, file), timeoutS: 60 + 3 * perCaseS * FIO_CASES.length },
    cleanup: { on: "env", script: `rm -f ${shq(file)} ${shq(`${file}.odirect-probe`)}\n`, timeoutS: 60 },
  };
}

const metrics: readonly MetricSpec[] = [
  { name: "bw", unit: "MB/s", better: "higher", description: "bandwidth, reads plus writes (10^6 B/s)" },
  { name: "iops", unit: "IO/s", better: "higher", description: "I/O operations per second, reads plus writes" },
  { name: "clat_p50", unit: "us", better: "lower", description: "median completion latency (single-direction cases)" },
  { name: "clat_p99", unit: "us", better: "lower", description: "99th percentile completion latency (single-direction cases)" },
  { name: "clat_p99_9", unit: "us", better: "lower", description: "99.9th percentile completion latency (single-direction cases)" },
  { name: "read_iops", unit: "IO/s", better: "higher", description: "read operations per second (mixed case)" },
  { name: "write_iops", unit: "IO/s", better: "higher", description: "write operations per second (mixed case)" },
  ...(["read", "write"] as const).flatMap((d) => [
    { name: `${d}_clat_p50`, unit: "us", better: "lower" as const, description: `median ${d} completion latency (mixed case)` },
    { name: `${d}_clat_p99`, unit: "us", better: "lower" as const, description: `99th percentile ${d} completion latency (mixed case)` },
    { name: `${d}_clat_p99_9`, unit: "us", better: "lower" as const, description: `99.9th percentile ${d} completion latency (mixed case)` },
  ]),
];

export const workload: Workload<FioParams> = {
  name: "fio",
  title: "block I/O, libaio direct",
  paper: "fio, libaio, direct I/O, 16 GB file: sequential 1 MB read QD2 and write QD16, random 4 KB read and write QD16 x 8 jobs (QD128), mixed 70/30 QD32 x 8 jobs",
  group: "io",
  packages: ["fio"],
  clientPackages: [],
  tool: { name: "fio", versionCommand: "fio --version", on: "env" },
  requires: [
    { command: "fio", package: "fio", on: "env" },
    { command: "dd", package: "coreutils", on: "env" },
  ],
  ports: 0,
  warmup: false,
  metrics,
  cases: FIO_CASES.map((c) => c.name),
  params,
  dataBytes: (p) => p.fileSizeMiB * 2 ** 20,
  steps,
  parse: (raw, p) => parseFio(raw, p),
};
