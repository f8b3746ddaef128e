/**
 * Parser of the xz run step's output. Pure. The run step prints one line it measures itself:
 *   virtperf-xz level=2 threads=2 input_bytes=16777216 output_bytes=5380432 elapsed_us=4123456
 * (xz has no machine-readable report of its own for compression: `--robot` is refused in 5.4), then
 * xz's own `-v` summary line from stderr for the raw record.
 */
import { ParseError } from "../../lib/errors.ts";
import type { Case, RawRun } from "../contract.ts";

export interface XzParseParams {
  readonly level: number;
  readonly threads: number;
  readonly corpusBytes: number;
}

const LINE = /^virtperf-xz level=(\d+) threads=(\d+) input_bytes=(\d+) output_bytes=(\d+) elapsed_us=(\d+)$/m;

/** Records carry MB/s = 10^6 B/s of input. */
const bytesPerUsToMBps = (bytes: number, us: number): number => bytes / us;

export function parseXz(raw: RawRun, p: XzParseParams): Case[] {
  const m = LINE.exec(raw.stdout);
  if (!m) throw new ParseError("xz", `a line "virtperf-xz level=... threads=... input_bytes=... output_bytes=... elapsed_us=..."`, raw.stdout + raw.stderr);
  const [level, threads, input, output, us] = m.slice(1, 6).map(Number) as [number, number, number, number, number];
  if (input !== p.corpusBytes) {
    throw new ParseError("xz", `${p.corpusBytes} input bytes (the corpus size), got ${input}; is the corpus complete?`, raw.stdout);
  }
  if (level !== p.level || threads !== p.threads) {
    throw new ParseError("xz", `level ${p.level} with ${p.threads} threads, got level ${level} with ${threads} threads`, raw.stdout);
  }
  // An xz stream is never empty (header and footer); zero output or time means xz did not really run.
  if (output <= 0 || us <= 0) throw new ParseError("xz", `positive output_bytes and elapsed_us, got ${output} and ${us}`, raw.stdout);
  return [{
    case: "compress",
    params: { level, threads, corpusBytes: input },
    metrics: [
      { name: "throughput", value: bytesPerUsToMBps(input, us), unit: "MB/s", better: "higher" },
      { name: "ratio", value: input / output, unit: "x", better: "higher" },
      { name: "time", value: us / 1e6, unit: "s", better: "lower" },
    ],
  }];
}
