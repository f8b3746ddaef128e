/**
 * Text of report cells, shared by the Markdown and HTML renderers (hyperfine-like): the median with its
 * interval, n and min..max beside it, and the ratio to native with its interval and direction stated.
 * Never "same": a difference inside the noise reads "no significant difference (p = ..., ratio CI ...)".
 */
import type { Row } from "./compare.ts";
import { WARNING_LABEL } from "./warnings.ts";

/** A number with about 4 significant digits, no exponent for everyday magnitudes. */
export function num(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a >= 1e7 || a < 1e-4) return v.toPrecision(3);
  if (a >= 1000) return Math.round(v).toString();
  return Number(v.toPrecision(4)).toString();
}

export function ratioNum(v: number): string {
  if (v < 0.1) return v.toPrecision(2);
  return v.toFixed(Math.abs(v - 1) < 0.01 ? 3 : 2);
}

export function pText(p: number | null): string {
  if (p === null) return "p n/a";
  return p < 0.001 ? "p < 0.001" : `p = ${p.toPrecision(2)}`;
}

/** "76.2 [75.1, 77.0]" (median and its interval), or the gap marker. */
export function medianText(r: Row): string {
  if (r.median === null) return "no data";
  if (r.ciLow === null || r.ciHigh === null) return `${num(r.median)} (no CI)`;
  const level = r.ciLevel !== null && r.ciLevel < 0.95 ? ` (${Math.floor(r.ciLevel * 100)} % CI)` : "";
  return `${num(r.median)} [${num(r.ciLow)}, ${num(r.ciHigh)}]${level}`;
}

export function rangeText(r: Row): string {
  return r.min === null || r.max === null ? "" : `${num(r.min)}..${num(r.max)}`;
}

/** "x0.83 [0.80, 0.86], 17 % slower", "baseline", or why there is no ratio. */
export function ratioText(r: Row): string {
  if (r.verdict === "baseline") return "baseline";
  if (r.median === null) return "gap: no successful trial";
  if (r.ratio === null) return r.warnings.includes("no-baseline") ? "no native baseline" : "no ratio";
  if (r.ratioLow === null || r.ratioHigh === null) return `x${ratioNum(r.ratio)} (no CI: too few trials)`;
  const interval = `[${ratioNum(r.ratioLow)}, ${ratioNum(r.ratioHigh)}]`;
  if (r.verdict === "indistinguishable") return `x${ratioNum(r.ratio)}: no significant difference (${pText(r.p)}, ratio CI ${interval})`;
  const pct = Math.abs(r.ratio - 1) * 100;
  return `x${ratioNum(r.ratio)} ${interval}, ${pct < 1 ? pct.toFixed(1) : Math.round(pct)} % ${r.verdict} (${pText(r.p)})`;
}

export function verdictText(r: Row): string {
  return r.verdict ?? "n/a";
}

export function warningsText(r: Row): string {
  return r.warnings.map((w) => WARNING_LABEL[w]).join("; ");
}

/** The study's figure: "73.5 MB/s (x0.96)". */
export function referenceText(r: Row): string {
  if (!r.reference) return "";
  return r.verdict === "baseline" ? `${num(r.reference.value)}` : `${num(r.reference.value)} (x${ratioNum(r.reference.ratio)})`;
}

export function directionText(better: "higher" | "lower"): string {
  return better === "higher" ? "higher is better" : "lower is better";
}

/** A measure's label: "fio rand-read iops (IO/s, higher is better)". */
export function measureLabel(m: { workload: string; case: string; metric: string; unit: string; better: "higher" | "lower" }): string {
  const kase = m.case === m.workload ? "" : ` ${m.case}`;
  return `${m.workload}${kase} ${m.metric} (${m.unit}, ${directionText(m.better)})`;
}

export const METHOD_TEXT = [
  "Cells: median [95 % confidence interval of the median: order-statistic (binomial) interval, distribution-free; below n = 6 it is min..max and its lower coverage is shown].",
  "Ratio: the environment's median over native's, with a 95 % interval by Bonett & Price (2002) on the log scale (distribution-free; assumes independent trials and positive values).",
  "Verdict: \"faster\" or \"slower\" (in the metric's better direction) only when the ratio's interval excludes 1, else \"no significant difference\"; p is a two-sided Mann-Whitney U test against native (exact without ties for small samples, else normal with tie correction).",
  "Failed and warm-up trials are never in the statistics. The study's figures come from its own hardware: compare its ratio (x...) with ours, not its absolute numbers.",
];

/** Compact ratio for matrix cells: "x0.83 [0.80, 0.86] 17 % slower", "x0.99 [0.95, 1.03] n.s.". */
export function ratioShort(r: Row): string {
  if (r.verdict === "baseline") return "baseline";
  if (r.median === null) return "gap";
  if (r.ratio === null) return r.warnings.includes("no-baseline") ? "no baseline" : "no ratio";
  if (r.ratioLow === null || r.ratioHigh === null) return `x${ratioNum(r.ratio)} (no CI)`;
  const interval = `[${ratioNum(r.ratioLow)}, ${ratioNum(r.ratioHigh)}]`;
  if (r.verdict === "indistinguishable") return `x${ratioNum(r.ratio)} ${interval} n.s.`;
  return `x${ratioNum(r.ratio)} ${interval} ${Math.round(Math.abs(r.ratio - 1) * 100)} % ${r.verdict}`;
}

/**
 * Said once at the top when a stack ran the smoke profile (its numbers check the pipeline only), naming
 * the stacks when several are reported; undefined when none ran smoke.
 */
export function smokeText(stacks: readonly { stack: string; profile: string }[]): string | undefined {
  const smoke = stacks.filter((s) => s.profile === "smoke").map((s) => s.stack);
  if (smoke.length === 0) return undefined;
  const which = stacks.length > 1 ? ` (${smoke.join(", ")})` : "";
  return `Smoke profile${which}: these runs check the pipeline, not performance. Smoke sizes are tiny (arrays that fit in cache, runs of a few seconds, few repetitions), so the numbers and ratios are not for conclusions; run the quick or full profile for that.`;
}

/** Under a smoke section's table: why the study column stays though it cannot be compared. */
export const SMOKE_STUDY_NOTE = "Study column: the paper's full-size figures on its hardware, shown for orientation; smoke-sized ratios cannot confirm or contradict them.";
