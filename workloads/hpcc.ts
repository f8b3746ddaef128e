/**
 * What linpack, stream and randomaccess share: Debian's `hpcc` (HPC Challenge 1.5.0, OpenMPI).
 *
 * hpcc 1.5.0 cannot run a subset of its tests: HPCC_Init sets every `Run*` flag to 1 and reads no
 * switch (src/io.c), so each of the three workloads runs the whole suite with its own sizes and reads
 * only its own section. Every test sizes its data from HPL's largest N: the memory per process is
 * N^2 * 8 B / (P * Q), STREAM's three vectors share it, RandomAccess's table takes half of it (rounded
 * down to a power of two).
 *
 * One MPI process per CPU of the environment (np = shape.cpus, P x Q the squarest grid with P <= Q,
 * as HPL prefers flat grids); hpcc is built without OpenMP (its summary says M_OPENMP=-1), so each
 * process is single-threaded and BLAS is pinned to one thread to avoid oversubscription.
 */
import { ParseError } from "../lib/errors.ts";
import { shq } from "../lib/shell.ts";
import type { HostShape, ProfileName, Step, TrialSteps } from "./contract.ts";

/** The parameters every hpcc-based workload resolves to. */
export type HpccParams = {
  /** HPL matrix order; every other test sizes itself from it (see the header). */
  readonly n: number;
  /** HPL (and PTRANS) block size. */
  readonly nb: number;
  /** Process grid rows. */
  readonly p: number;
  /** Process grid columns; P * Q = MPI processes = shape.cpus. */
  readonly q: number;
};

/** What Open MPI's hwloc reads the CPU topology from; without it `mpirun` cannot start (orte_init fails). */
export const CPU_TOPOLOGY_FILE = "/sys/devices/system/cpu/cpu0/topology/core_id";

/** Why hpcc (Linpack, STREAM, RandomAccess) cannot run where `missing` files are missing (a sandbox's probe), or undefined. */
export function hpccCannotRun(missing: readonly string[]): string | undefined {
  return missing.includes(CPU_TOPOLOGY_FILE)
    ? `${CPU_TOPOLOGY_FILE} cannot be read in this sandbox (the pre-flight's probe container found none): hpcc's Open MPI finds no CPU topology there (hwloc: "failed to find sysfs cpu topology directory") and mpirun aborts in orte_init`
    : undefined;
}

export const HPCC_PACKAGES = ["hpcc", "openmpi-bin", "libopenblas0-serial"] as const;

export const HPCC_REQUIRES = [
  { command: "hpcc", package: "hpcc", on: "env" },
  { command: "mpirun", package: "openmpi-bin", on: "env" },
] as const;

/** hpcc prints no version of its own; the record carries the package's, the MPI's and the BLAS actually linked. */
export const HPCC_TOOL = {
  name: "hpcc",
  versionCommand:
    `echo "hpcc $(dpkg-query -W -f='\${Version}' hpcc) $(mpirun --version 2>/dev/null | sed -n 1p)` +
    ` blas=$(readlink -f "$(ldconfig -p 2>/dev/null | awk '/libblas\\.so\\.3 / && !n++ {print $NF}')" || echo unknown)"`,
  on: "env",
} as const;

/** The fields linpack, stream and randomaccess share: one tool, one run on the env side, no server. */
export const HPCC_WORKLOAD_FIELDS = {
  packages: HPCC_PACKAGES,
  clientPackages: [],
  tool: HPCC_TOOL,
  requires: HPCC_REQUIRES,
  ports: 0,
  warmup: false,
  // hpcc computes in memory; its input and output files live in the work directory.
  dataBytes: () => 0,
} as const;

/** The squarest grid with P <= Q and P * Q = procs (a prime count gives 1 x procs). */
export function processGrid(procs: number): { p: number; q: number } {
  if (!Number.isInteger(procs) || procs < 1) throw new RangeError(`hpcc needs a positive whole number of processes, got ${procs}`);
  for (let p = Math.floor(Math.sqrt(procs)); p >= 1; p--) {
    if (procs % p === 0) return { p, q: procs / p };
  }
  return { p: 1, q: procs };
}

/** Paper's Linpack: N = 45000 on 32 cores. */
const PAPER_N = 45000;
const PAPER_CPUS = 32;

/**
 * Largest N of a profile, before rounding.
 * - smoke: N = 1000 (about a second natively, half a minute in a TCG guest).
 * - quick: 128 MiB per process (N = sqrt(procs * 128 MiB / 8 B)): STREAM's vectors are then about 45 MB
 *   each, well beyond any last-level cache, and the whole suite takes about a minute on 2 CPUs;
 *   at most a quarter of the environment's memory.
 * - full: the paper's N = 45000 scaled so HPL's work per CPU stays the paper's
 *   (N^3 proportional to CPUs: N = 45000 * (cpus / 32)^(1/3)), and capped so the matrix (and so the
 *   data of every other test) takes at most `memoryShare` of the environment's memory.
 */
function targetN(profile: ProfileName, shape: HostShape, memoryShare: number): number {
  switch (profile) {
    case "smoke": return 1000;
    case "quick": return Math.min(Math.sqrt((shape.cpus * 128 * 2 ** 20) / 8), Math.sqrt((0.25 * shape.memoryMiB * 2 ** 20) / 8));
    case "full": {
      const byCompute = PAPER_N * Math.cbrt(shape.cpus / PAPER_CPUS);
      const byMemory = Math.sqrt((memoryShare * shape.memoryMiB * 2 ** 20) / 8);
      return Math.min(byCompute, byMemory);
    }
  }
}

/** Block sizes: 80 (hpcc's example) for the tiny smoke matrix; 192 suits OpenBLAS's DGEMM kernels. */
const NB: Record<ProfileName, number> = { smoke: 80, quick: 192, full: 192 };

/** Resolves the hpcc parameters; N is rounded down to a multiple of NB (at least one block per process row and column). */
export function hpccParams(profile: ProfileName, shape: HostShape, memoryShare: number): HpccParams {
  const { p, q } = processGrid(shape.cpus);
  const nb = NB[profile];
  const n = Math.max(nb * Math.max(p, q), Math.floor(targetN(profile, shape, memoryShare) / nb) * nb);
  return { n, nb, p, q };
}

/** hpccinf.txt: Debian's example input with N, NB, P and Q replaced (lines 6, 8, 11, 12). */
export function inputFileScript(hp: HpccParams): string {
  return [
    "example=/usr/share/doc/hpcc/examples/_hpccinf.txt",
    `[ -r "$example" ] || { echo "hpcc: $example is missing (is the hpcc package installed?)" >&2; exit 3; }`,
    `sed -e ${shq(`6s/^[0-9]*/${hp.n}/`)} -e ${shq(`8s/^[0-9]*/${hp.nb}/`)} \\`,
    `  -e ${shq(`11s/^[0-9]*/${hp.p}/`)} -e ${shq(`12s/^[0-9]*/${hp.q}/`)} "$example" > hpccinf.txt`,
  ].join("\n");
}

/**
 * The run: hpcc reads hpccinf.txt and appends to hpccoutf.txt in the current directory (the trial's work
 * directory), so the old output is removed first and the new one printed on stdout.
 * MPI settings, the same in every environment so the transport under test is the same:
 * - btl self,vader: shared memory only (no TCP probing of the container's or guest's interfaces);
 * - vader single-copy mechanism none: CMA's process_vm_readv needs CAP_SYS_PTRACE, which Docker drops
 *   (hpcc then prints "Read -1, expected ..., errno = 1" and runs several times slower);
 * - --allow-run-as-root: containers and guests run as root; --oversubscribe: Open MPI counts cores as
 *   slots, an environment's CPU count may count hardware threads;
 * - session files under the work directory, so nothing is left in /tmp if the run is killed;
 * - stdin from /dev/null: mpirun forwards its stdin to rank 0, and the runner feeds this very script
 *   on stdin (`bash -s`), so mpirun would swallow the lines after it.
 */
export function runScript(hp: HpccParams): string {
  return `${inputFileScript(hp)}
rm -f hpccoutf.txt
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_orte_tmpdir_base="$PWD" OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
status=0
mpirun --allow-run-as-root --oversubscribe -np ${shq(hp.p * hp.q)} hpcc < /dev/null || status=$?
[ -f hpccoutf.txt ] && cat hpccoutf.txt
exit "$status"
`;
}

/**
 * Steps of a trial. Time limits: the suite's work grows with N^3 / procs (HPL) and N^2 (the rest);
 * allow 0.5 GFLOPS per process for HPL (a TCG guest reaches about that) plus 10 minutes for the rest.
 */
export function hpccSteps(hp: HpccParams): TrialSteps {
  const hplS = ((2 / 3) * hp.n ** 3) / (0.5e9 * hp.p * hp.q);
  const run: Step = { on: "env", script: runScript(hp), timeoutS: Math.ceil(600 + 3 * hplS) };
  return { run };
}

/** The text between "Begin of <name> section." and "End of <name> section."; ParseError when absent. */
export function section(output: string, name: string): string {
  const begin = `Begin of ${name} section.`;
  const end = `End of ${name} section.`;
  const start = output.indexOf(begin);
  const stop = start < 0 ? -1 : output.indexOf(end, start);
  if (start < 0 || stop < 0) {
    throw new ParseError("hpcc", `a complete ${name} section ("${begin}" ... "${end}"); was hpcc cut short?`, output);
  }
  return output.slice(start + begin.length, stop);
}

/** The key=value lines of the Summary section. */
export function summary(output: string): ReadonlyMap<string, string> {
  const text = section(output, "Summary");
  const map = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) map.set(m[1]!, m[2]!.trim());
  }
  return map;
}

/**
 * A positive number from the summary. hpcc writes -1 (or -1000 for HPL's Gflops) when a test did not
 * run or failed, so a value <= 0 is an error, never a result.
 */
export function positive(values: ReadonlyMap<string, string>, key: string, output: string): number {
  const text = values.get(key);
  if (text === undefined) throw new ParseError("hpcc", `${key}= in the Summary section`, output);
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new ParseError("hpcc", `a positive ${key} (hpcc writes -1 when the test did not run or failed), got ${JSON.stringify(text)}`, output);
  }
  return value;
}

/** The output to parse: the run step's stdout, which is hpccoutf.txt; mpirun's complaints are on stderr. */
export function outputOf(raw: { stdout: string; stderr: string }): string {
  if (raw.stdout.trim() === "") throw new ParseError("hpcc", "hpccoutf.txt on stdout", raw.stderr);
  return raw.stdout;
}

/**
 * The case parameters every hpcc case records, checked against what hpcc reports it ran. When HPL
 * rejects hpccinf.txt (e.g. a grid larger than the processes started) hpcc silently falls back to its
 * own defaults (N from 64 MiB per process, printed only as "HPL ERROR" on stderr) and every test still
 * "succeeds" at a different size: such a run is an error, not a result.
 */
export function caseParams(
  hp: HpccParams, values: ReadonlyMap<string, string>, output: string,
): { n: number; nb: number; p: number; q: number; procs: number } {
  const ran = {
    n: positive(values, "HPL_N", output), nb: positive(values, "HPL_NB", output),
    p: positive(values, "HPL_nprow", output), q: positive(values, "HPL_npcol", output),
    procs: positive(values, "CommWorldProcs", output),
  };
  const asked = { n: hp.n, nb: hp.nb, p: hp.p, q: hp.q, procs: hp.p * hp.q };
  if (JSON.stringify(ran) !== JSON.stringify(asked)) {
    throw new ParseError("hpcc",
      `a run with the requested ${JSON.stringify(asked)}, but hpcc ran ${JSON.stringify(ran)} (it falls back to defaults when HPL rejects hpccinf.txt; see "HPL ERROR" on stderr)`,
      output);
  }
  return ran;
}

/** Star and Single tests end with "Node(s) with error <k>": the number of processes whose check failed. */
export function checkNodeErrors(text: string, name: string, output: string): void {
  const m = /Node\(s\) with error (\d+)/.exec(text);
  if (!m) throw new ParseError("hpcc", `"Node(s) with error <k>" in the ${name} section`, output);
  if (Number(m[1]) !== 0) throw new ParseError("hpcc", `${name} to validate on every process, but ${m[1]} process(es) failed`, text);
}
