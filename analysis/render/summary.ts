/**
 * summary.json: an array with one object per (stack, workload, case, metric, environment, baseline), the fields
 * the issues name first (ratio: the Hodges-Lehmann ratio environment/native; ratioLow..ratioHigh its
 * interval; p; verdict faster, slower or indistinguishable (null: no verdict); equivalent; margin;
 * noiseFloorLow..noiseFloorHigh, native's A/A interval of the measure, and insideNoiseFloor), then
 * context fields. An A/A copy's row (calibrationOf set, role "calibration") has its ratio against its
 * original, not native. `baseline` names the environment the ratio is against: the stack's native (its
 * own row says "baseline"), an A/A copy's original, or for a reference comparison the reference
 * environment (its rows follow the ones against native; `reference` stays the study's figure, null there).
 * Missing values are null, never 0.
 */
import type { Row } from "../compare.ts";
import type { ReportModel } from "../sections.ts";

export interface SummaryRow {
  stack: string; workload: string; case: string; metric: string; unit: string; better: "higher" | "lower";
  environment: string;
  /** The environment the ratio is against (null: the stack has no native). */
  baseline: string | null;
  n: number; median: number | null; ciLow: number | null; ciHigh: number | null;
  ratio: number | null; ratioLow: number | null; ratioHigh: number | null; p: number | null;
  verdict: Row["verdict"]; equivalent: boolean | null; margin: number;
  noiseFloorLow: number | null; noiseFloorHigh: number | null; insideNoiseFloor: boolean | null;
  role: Row["role"]; q: number | null; alpha: number | null; ratioLevel: number | null; minP: number | null; resolution: number | null;
  profile: string; group: string; params: Row["params"]; kind: string; acceleration: string; accelerationReason: string | null; calibrationOf: string | null; ciLevel: number | null;
  isolation: string | null; isolationReason: string | null;
  min: number | null; max: number | null; cv: number | null; failed: number; pMethod: Row["pMethod"];
  /** Trials of the cell that ran on a busy host (in the statistics), by schedule position. */
  contaminated: readonly number[];
  warnings: readonly string[];
  reference: { value: number | null; unit: string; ratio: number; range: readonly [number, number] | null; source: string } | null;
}

export function summaryRows(model: ReportModel): SummaryRow[] {
  const native = new Map(model.comparison.stacks.map((s) => [`${s.stack}\u0000${s.profile}`, s.baseline]));
  return [...model.comparison.rows, ...model.comparison.against].map((r) => ({
    stack: r.stack, workload: r.workload, case: r.case, metric: r.metric, unit: r.unit, better: r.better,
    environment: r.environment, baseline: r.against ?? r.calibrationOf ?? native.get(`${r.stack}\u0000${r.profile}`) ?? null, n: r.n, median: r.median, ciLow: r.ciLow, ciHigh: r.ciHigh,
    ratio: r.ratio, ratioLow: r.ratioLow, ratioHigh: r.ratioHigh, p: r.p, verdict: r.verdict, equivalent: r.equivalent, margin: r.margin,
    noiseFloorLow: r.noiseFloorLow, noiseFloorHigh: r.noiseFloorHigh, insideNoiseFloor: r.insideNoiseFloor,
    role: r.role, q: r.q, alpha: r.alpha, ratioLevel: r.ratioLevel, minP: r.minP, resolution: r.resolution,
    profile: r.profile, group: r.group, params: r.params, kind: r.kind, acceleration: r.acceleration, accelerationReason: r.accelerationReason, calibrationOf: r.calibrationOf, ciLevel: r.ciLevel,
    isolation: r.isolation, isolationReason: r.isolationReason,
    min: r.min, max: r.max, cv: r.cv, failed: r.failed, pMethod: r.pMethod, contaminated: r.contaminated.map((c) => c.order), warnings: r.warnings,
    reference: r.reference ? { value: r.reference.value, unit: r.reference.unit, ratio: r.reference.ratio, range: r.reference.range, source: r.reference.source } : null,
  }));
}

export function renderSummary(model: ReportModel): string {
  return JSON.stringify(summaryRows(model), null, 1) + "\n";
}
