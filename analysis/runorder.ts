/**
 * Run-order plots: every trial of a workload (warm-ups too) at its position in the schedule, its value
 * over native's median, coloured by environment, to show drift, warm-up and interference that a cell's
 * distribution hides; trials on a busy host are marked, and records another attempt superseded are
 * shown beside the one counted. One measure per workload: its headline metric, else its first.
 */
import type { LocatedRecord } from "./load.ts";
import type { Row, StackRun } from "./compare.ts";

export interface RunOrderPoint {
  readonly order: number;
  readonly value: number;
  /** value over native's median of the measure (the value itself without native). */
  readonly y: number;
  readonly environment: string;
  readonly warmup: boolean;
  /** Why its contamination check flagged it (the host was busy); null when clean or unchecked. */
  readonly busy: string | null;
  /** Replaced by another attempt of the same trial: not in the statistics. */
  readonly superseded: boolean;
}

export interface RunOrderPlot {
  readonly stack: string;
  readonly profile: string;
  readonly workload: string;
  readonly case: string;
  readonly metric: string;
  readonly unit: string;
  readonly better: "higher" | "lower";
  /** y is over native's median (true) or the raw value (false). */
  readonly normalised: boolean;
  readonly environments: readonly string[];
  readonly points: readonly RunOrderPoint[];
}

/** The measure of each (stack, profile, workload) a run-order plot shows. */
function chosenMeasures(rows: readonly Row[]): Map<string, Row> {
  const out = new Map<string, Row>();
  for (const r of rows) {
    const k = [r.stack, r.profile, r.workload].join("\u0000");
    const had = out.get(k);
    const rank = (x: Row) => (x.headline ? x.headline.position : 1000 + x.caseOrder);
    if (!had || rank(r) < rank(had)) out.set(k, r);
  }
  return out;
}

export function buildRunOrder(rows: readonly Row[], stacks: readonly StackRun[], records: readonly LocatedRecord[], superseded: readonly LocatedRecord[] = []): RunOrderPlot[] {
  const chosen = chosenMeasures(rows);
  const plots = new Map<string, { plot: Omit<RunOrderPlot, "points">; points: RunOrderPoint[]; native: number | null }>();
  for (const [k, r] of chosen) {
    const st = stacks.find((s) => s.stack === r.stack && s.profile === r.profile);
    const native = rows.find((x) => x.stack === r.stack && x.profile === r.profile && x.workload === r.workload && x.case === r.case && x.metric === r.metric && x.verdict === "baseline")?.median ?? null;
    plots.set(k, { plot: { stack: r.stack, profile: r.profile, workload: r.workload, case: r.case, metric: r.metric, unit: r.unit, better: r.better, normalised: native !== null && native > 0, environments: st?.environments ?? [] }, points: [], native });
  }
  const all = [...records.map((r) => ({ r, superseded: false })), ...superseded.map((r) => ({ r, superseded: true }))];
  for (const { r: { record: rec }, superseded: replaced } of all) {
    if (rec.status !== "ok") continue;
    const p = plots.get([rec.stack, rec.profile, rec.workload].join("\u0000"));
    if (!p) continue;
    const value = rec.cases.find((c) => c.case === p.plot.case)?.metrics.find((m) => m.name === p.plot.metric)?.value;
    if (value === undefined) continue;
    const busy = rec.contamination?.flagged ? rec.contamination.reasons.join("; ") || "flagged" : null;
    p.points.push({ order: rec.order, value, y: p.plot.normalised ? value / p.native! : value, environment: rec.environment, warmup: rec.warmup, busy, superseded: replaced });
  }
  return [...plots.values()].filter((p) => p.points.length > 0).map((p) => ({ ...p.plot, points: p.points.sort((a, b) => a.order - b.order) }));
}
