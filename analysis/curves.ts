/**
 * Throughput- and latency-versus-concurrency curves (Redis, MySQL: any measure whose case has a
 * concurrency parameter), with the study's bands for the same workload and metric beside them.
 */
import type { Params, Row } from "./compare.ts";
import { STUDY_BANDS, type StudyBand } from "./reference.ts";

/** One line of a curve chart: an environment's medians over x. */
export interface Curve {
  readonly stack: string;
  readonly profile: string;
  readonly workload: string;
  /** What the line set varies besides concurrency (e.g. the Redis operation). */
  readonly series: string;
  readonly metric: string;
  readonly unit: string;
  readonly better: "higher" | "lower";
  readonly xName: string;
  readonly lines: readonly { readonly environment: string; readonly points: readonly { readonly x: number; readonly row: Row }[] }[];
  /** The study's bands for this workload and metric (drawn on the ratio chart), empty when it has none. */
  readonly study: readonly StudyBand[];
}

const CONCURRENCY_KEYS = ["clients", "threads", "connections", "concurrency"] as const;

export function concurrencyOf(params: Params): { name: string; x: number } | undefined {
  for (const key of CONCURRENCY_KEYS) {
    const v = params[key];
    if (typeof v === "number") return { name: key, x: v };
  }
  return undefined;
}

function seriesOf(kase: string, params: Params): string {
  const op = params["op"] ?? params["test"] ?? params["mode"];
  return typeof op === "string" ? op : kase.replace(/[-_]?[a-z]?\d+$/i, "");
}

/** Curves of every measure with a concurrency parameter, throughput (higher is better) first. */
export function buildCurves(rows: readonly Row[], envOrder: (a: string, b: string) => number): Curve[] {
  const curves = new Map<string, { c: Omit<Curve, "lines">; lines: Map<string, { x: number; row: Row }[]> }>();
  for (const row of rows) {
    const conc = concurrencyOf(row.params);
    if (!conc || row.median === null) continue;
    const series = seriesOf(row.case, row.params);
    const key = [row.stack, row.profile, row.workload, series, row.metric].join("\u0000");
    let entry = curves.get(key);
    if (!entry) {
      const study = STUDY_BANDS.filter((b) => b.workload === row.workload && b.metric === row.metric && (row.workload !== "redis" || series === "get"));
      curves.set(key, (entry = { c: { stack: row.stack, profile: row.profile, workload: row.workload, series, metric: row.metric, unit: row.unit, better: row.better, xName: conc.name, study }, lines: new Map() }));
    }
    const pts = entry.lines.get(row.environment) ?? [];
    pts.push({ x: conc.x, row });
    entry.lines.set(row.environment, pts);
  }
  // A concurrency that never varies (xz's thread count) is a parameter, not a curve.
  const varying = [...curves.values()].filter(({ lines }) => new Set([...lines.values()].flat().map((p) => p.x)).size >= 2);
  return varying.sort((a, b) => (a.c.better === b.c.better ? 0 : a.c.better === "higher" ? -1 : 1)).map(({ c, lines }) => ({
    ...c,
    lines: [...lines].sort(([a], [b]) => envOrder(a, b)).map(([environment, points]) => ({ environment, points: points.sort((p, q) => p.x - q.x) })),
  }));
}
