/**
 * xz: multi-threaded xz compression of a generated text corpus held in the page cache, output
 * discarded (counted, not stored). The paper ran PXZ, level 2, 32 threads on enwik9; `xz -T<n>`
 * (XZ Utils 5.4) is Debian's parallel xz: it cuts the input into blocks of 3 x the dictionary
 * (6 MiB at level 2) and compresses them on n threads. Corpus: ./corpus.ts.
 */
import { shq } from "../../lib/shell.ts";
import type { HostShape, MetricSpec, ProfileName, TrialContext, TrialSteps, Workload } from "../contract.ts";
import { corpusScript } from "./corpus.ts";
import { parseXz } from "./parse.ts";

export type XzParams = {
  /** xz preset level; the paper's 2 in every profile. */
  readonly level: number;
  /** xz -T threads: one per CPU of the environment. */
  readonly threads: number;
  /** Corpus size, bytes. */
  readonly corpusBytes: number;
  /** Generated block that is repeated to the corpus size, bytes. */
  readonly blockBytes: number;
  /** Corpus generator seed. */
  readonly seed: number;
};

const MiB = 2 ** 20;
/** enwik9's size and the paper's PXZ threads. */
const PAPER_BYTES = 1e9;
const PAPER_THREADS = 32;

/**
 * Profiles; threads = CPUs always.
 * - smoke: 4 MiB (a single xz block, so one thread works: it checks the path, not the scaling).
 * - quick: 64 MiB per CPU, about ten 6 MiB blocks per thread, at most half of full.
 * - full: enwik9's 10^9 bytes up to the paper's 32 CPUs (159 blocks, about 5 per thread), beyond that
 *   the same bytes per CPU (10^9 / 32). Capped at a quarter of the environment's memory so the corpus
 *   stays in the page cache beside xz's own memory (about 35 MiB per thread at level 2).
 */
function corpusBytes(profile: ProfileName, shape: HostShape): number {
  const full = Math.min(Math.max(PAPER_BYTES, Math.round((PAPER_BYTES / PAPER_THREADS) * shape.cpus)), Math.floor(shape.memoryMiB / 4) * MiB);
  switch (profile) {
    case "smoke": return 4 * MiB;
    case "quick": return Math.min(64 * MiB * shape.cpus, Math.floor(full / 2));
    case "full": return full;
  }
}

function params(profile: ProfileName, shape: HostShape): XzParams {
  return { level: 2, threads: shape.cpus, corpusBytes: corpusBytes(profile, shape), blockBytes: 16 * MiB, seed: 20140721 };
}

const corpusFile = (ctx: TrialContext): string => `${ctx.dataDir.replace(/\/+$/, "")}/virtperf-xz-corpus.txt`;

/**
 * The measured command: xz reads the cached corpus and writes to a pipe that only counts bytes (the
 * paper wrote to /dev/null; counting gives the ratio at the cost of a memcpy of a third of the input).
 * Timing is bash's EPOCHREALTIME around xz alone, in microseconds.
 */
function runScript(p: XzParams, file: string): string {
  // XZ_DEFAULTS or XZ_OPT could set a memory limit, and xz would then quietly use fewer threads.
  return `export LC_ALL=C
unset XZ_DEFAULTS XZ_OPT
corpus=${shq(file)}
cat "$corpus" > /dev/null
start=\${EPOCHREALTIME/[.,]/}
if ! out=$(xz -${p.level} -T${shq(p.threads)} -v -c -- "$corpus" 2> xz.err | wc -c); then cat xz.err >&2; exit 1; fi
end=\${EPOCHREALTIME/[.,]/}
echo "virtperf-xz level=${p.level} threads=${p.threads} input_bytes=$(wc -c <"$corpus") output_bytes=$((out)) elapsed_us=$((end - start))"
cat xz.err
echo
`;
}

function steps(p: XzParams, ctx: TrialContext): TrialSteps {
  const file = corpusFile(ctx);
  // Slack for a TCG guest (20-35 times slower): awk at 0.1 MB/s, xz at 0.1 MB/s per thread.
  return {
    setup: { on: "env", script: corpusScript({ file, bytes: p.corpusBytes, blockBytes: p.blockBytes, seed: p.seed }),
      timeoutS: Math.ceil(120 + p.blockBytes / 0.1e6 + p.corpusBytes / 20e6) },
    run: { on: "env", script: runScript(p, file), timeoutS: Math.ceil(120 + p.corpusBytes / (0.1e6 * p.threads)) },
    cleanup: { on: "env", script: `rm -f ${shq(file)} ${shq(`${file}.block`)}\n`, timeoutS: 60 },
  };
}

const metrics: readonly MetricSpec[] = [
  { name: "throughput", unit: "MB/s", better: "higher", description: "input compressed per second, 10^6 B/s" },
  { name: "ratio", unit: "x", better: "higher", description: "input bytes / output bytes (a check: the same in every environment)" },
  { name: "time", unit: "s", better: "lower", description: "wall time of the xz command" },
];

export const workload: Workload<XzParams> = {
  name: "xz",
  title: "parallel xz compression",
  paper: "PXZ (parallel xz), level 2, 32 threads, enwik9 (1 GB) cached in RAM, output to /dev/null: MB/s",
  group: "cpu",
  packages: ["xz-utils"],
  clientPackages: [],
  tool: { name: "xz", versionCommand: "xz --version | sed -n 1p", on: "env" },
  requires: [
    { command: "xz", package: "xz-utils", on: "env" },
    { command: "awk", package: "mawk", on: "env" },
    { command: "truncate", package: "coreutils", on: "env" },
  ],
  ports: 0,
  warmup: false,
  metrics,
  cases: ["compress"],
  params,
  dataBytes: (p) => p.corpusBytes + p.blockBytes,
  steps,
  parse: (raw, p) => parseXz(raw, p),
};
