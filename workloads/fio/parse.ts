/**
 * Parser of `fio --output-format=json` (fio 3.x): one JSON document with one entry per stonewalled,
 * group-reported job. Pure. Checks content, not just shape: every expected case appears exactly once,
 * its `error` is 0 and each of its directions did I/O.
 */
import { ParseError } from "../../lib/errors.ts";
import type { Case, Metric, RawRun } from "../contract.ts";
import { CLAT_PERCENTILES, FIO_CASES, type FioCase, type FioDirection } from "./cases.ts";

/** The parameters the parser copies into each case. */
export interface FioParseParams {
  readonly fileSizeMiB: number;
  readonly runtimeS: number;
  readonly rampS: number;
  readonly direct: boolean;
}

type Json = Record<string, unknown>;

/** fio reports `bw_bytes` in B/s; records carry MB/s (10^6 B/s). The one unit conversion of bandwidth. */
const bytesPerSecondToMBps = (bps: number): number => bps / 1e6;
/** fio's clat percentiles are in ns; records carry us. */
const nsToUs = (ns: number): number => ns / 1000;

export function parseFio(raw: RawRun, params: FioParseParams, cases: readonly FioCase[] = FIO_CASES): Case[] {
  const doc = extractJson(raw);
  const jobs = doc["jobs"];
  if (!Array.isArray(jobs)) throw new ParseError("fio", `a "jobs" array in the JSON document`, raw.stdout);
  const names = jobs.map((j) => (isObject(j) ? j["jobname"] : undefined));
  const unexpected = names.filter((n) => !cases.some((c) => c.name === n));
  if (unexpected.length > 0 || jobs.length !== cases.length) {
    throw new ParseError("fio", `${cases.length} job entries (${cases.map((c) => c.name).join(", ")}), one per case`,
      `got ${jobs.length}: ${JSON.stringify(names)}`);
  }
  return cases.map((c) => {
    const matching = jobs.filter((j): j is Json => isObject(j) && j["jobname"] === c.name);
    if (matching.length !== 1) throw new ParseError("fio", `exactly one job entry named ${c.name}`, `found ${matching.length}`);
    return caseOf(c, matching[0]!, params, raw);
  });
}

/** fio may print "fio: ..." lines on stdout before the document (e.g. per-clone open errors). */
function extractJson(raw: RawRun): Json {
  const start = raw.stdout.search(/^\{\s*$/m);
  if (start < 0) throw new ParseError("fio", "a JSON document (fio --output-format=json)", raw.stdout + raw.stderr);
  let doc: unknown;
  try {
    doc = JSON.parse(raw.stdout.slice(start));
  } catch (e) {
    throw new ParseError("fio", `complete JSON (${(e as Error).message}); was fio cut short?`, raw.stdout);
  }
  if (!isObject(doc)) throw new ParseError("fio", "a JSON object at top level", raw.stdout);
  return doc;
}

function caseOf(c: FioCase, job: Json, params: FioParseParams, raw: RawRun): Case {
  const error = num(job, ["error"], c.name);
  if (error !== 0) {
    throw new ParseError("fio", `job ${c.name} to end with error 0, got errno ${error}` +
      (error === 22 ? " (EINVAL: the filesystem may not support O_DIRECT)" : ""), raw.stderr || raw.stdout);
  }
  const perDirection = c.directions.map((d) => directionMetrics(job, d, c.name));
  const bw = perDirection.reduce((sum, d) => sum + d.bwBps, 0);
  const iops = perDirection.reduce((sum, d) => sum + d.iops, 0);
  const metrics: Metric[] = [
    { name: "bw", value: bytesPerSecondToMBps(bw), unit: "MB/s", better: "higher" },
    { name: "iops", value: iops, unit: "IO/s", better: "higher" },
  ];
  // A single-direction case names its latencies plainly; the mixed case keeps read and write apart
  // (percentiles of two distributions cannot be combined).
  const prefixed = perDirection.length > 1;
  for (const d of perDirection) {
    const prefix = prefixed ? `${d.direction}_` : "";
    if (prefixed) metrics.push({ name: `${prefix}iops`, value: d.iops, unit: "IO/s", better: "higher" });
    for (const p of d.clatUs) metrics.push({ name: `${prefix}clat_${p.suffix}`, value: p.us, unit: "us", better: "lower" });
  }
  return {
    case: c.name,
    params: {
      rw: c.rw, bs: c.bs, iodepth: c.iodepth, numjobs: c.numjobs, queueDepth: c.iodepth * c.numjobs,
      ...(c.rwmixread === undefined ? {} : { rwmixread: c.rwmixread }),
      fileSizeMiB: params.fileSizeMiB, runtimeS: params.runtimeS, rampS: params.rampS, direct: params.direct,
      ioengine: "libaio",
    },
    metrics,
  };
}

function directionMetrics(job: Json, d: FioDirection, name: string) {
  const ios = num(job, [d, "total_ios"], name);
  if (ios <= 0) throw new ParseError("fio", `job ${name} to have done ${d} I/O`, `${d}.total_ios = ${ios}`);
  const clatUs = CLAT_PERCENTILES.map((p) => ({ suffix: p.suffix, us: nsToUs(num(job, [d, "clat_ns", "percentile", p.fio], name)) }));
  return { direction: d, bwBps: num(job, [d, "bw_bytes"], name), iops: num(job, [d, "iops"], name), clatUs };
}

function num(obj: Json, path: readonly string[], name: string): number {
  let v: unknown = obj;
  for (const k of path) v = isObject(v) ? v[k] : undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new ParseError("fio", `a number at ${path.join(".")} of job ${name}`, `got ${JSON.stringify(v)}`);
  }
  return v;
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
