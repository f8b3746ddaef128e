/**
 * Text of report cells, shared by every renderer: the median with its interval (its real coverage said),
 * n and min..max beside it, and the statement of a ratio to native: faster or slower by x [interval],
 * equivalent within the margin, or inconclusive. Never "same".
 */
import type { Row } from "./compare.ts";
import type { Family } from "./infer.ts";
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

/** "p = 0.0079", "p < 0.001"; a small p keeps two significant digits. */
export function pNum(p: number): string {
  return p < 0.001 ? "< 0.001" : `= ${Number(p.toPrecision(2))}`;
}

export function pText(p: number | null, name = "p"): string {
  return p === null ? `${name} n/a` : `${name} ${pNum(p)}`;
}

/** A coverage as a percentage, rounded down so it is never overstated: "96.8 %". */
export function levelText(level: number): string {
  return `${(Math.floor(level * 1000) / 10).toFixed(1)} %`;
}

export function pct(v: number): string {
  return `${(v * 100).toFixed(v < 0.1 ? 1 : 0)} %`;
}

/** "76.2 [75.1, 77.0] (96.9 %)" (median and its interval with the interval's real coverage), or the gap marker. */
export function medianText(r: Row): string {
  if (r.median === null) return "no data";
  if (r.ciLow === null || r.ciHigh === null || r.ciLevel === null) return `${num(r.median)} (n = 1, no interval)`;
  return `${num(r.median)} [${num(r.ciLow)}, ${num(r.ciHigh)}] (${levelText(r.ciLevel)})`;
}

export function rangeText(r: Row): string {
  return r.min === null || r.max === null ? "" : `${num(r.min)}..${num(r.max)}`;
}

function intervalText(r: Row): string {
  return `[${ratioNum(r.ratioLow!)}, ${ratioNum(r.ratioHigh!)}] (${levelText(r.ratioLevel!)})`;
}

function diffText(r: Row): string {
  const d = Math.abs(r.ratio! - 1);
  return `${d < 0.01 ? (d * 100).toFixed(1) : Math.round(d * 100)} % ${r.verdict}`;
}

/** Why a row has no ratio at all. */
function noRatio(r: Row): string {
  if (r.warnings.includes("no-baseline")) return r.calibrationOf !== null ? `no successful trial of ${r.calibrationOf}, the original: no A/A ratio` : "no native baseline";
  if (r.warnings.includes("no-reference")) return `no successful trial of ${r.against}: no ratio against it`;
  if (r.warnings.includes("non-positive")) return "values <= 0: no ratio";
  return "no ratio";
}

/** The smallest attainable p and what it had to reach. */
function tooFew(r: Row): string {
  return `too few trials for a verdict (smallest attainable p = ${Number(r.minP!.toPrecision(2))}, needs <= ${Number(r.alpha!.toPrecision(2))})`;
}

/** Why a guest ran under TCG, without the words every label already says. */
export function tcgReasonText(reason: string | null): string {
  if (!reason) return "no reason recorded (records and facts from before accelerationReason)";
  return reason.replace(/^KVM not usable, so QEMU TCG:\s*/, "");
}

/** The KVM check that failed ("cpu-virt"), "requested", or "" when no reason says: for tight labels. */
export function tcgShort(reason: string | null): string {
  if (!reason) return "";
  if (/TCG requested/.test(reason)) return "requested";
  return /QEMU TCG:\s*([a-z]+(?:-[a-z]+)*):/.exec(reason)?.[1] ?? "";
}

/** "kvm ran under QEMU TCG, not KVM: cpu-virt: the CPU (AuthenticAMD) advertises neither vmx nor svm". */
export function tcgStatement(environment: string, reason: string | null): string {
  return `${environment} ran under QEMU TCG, not KVM: ${tcgReasonText(reason)}`;
}

/** "gvisor runs under runsc ptrace, host network passthrough": what isolates an environment, said once. */
export function isolationStatement(environment: string, label: string, reason: string | null): string {
  return `${environment} runs under ${label}${reason ? ` (${reason})` : ""}`;
}

/** "2 of 6 trials ran on a busy host: busy processes not ours: yes (pid 4711) 98 % of a CPU (#5, #29)". */
export function contaminationText(r: Pick<Row, "n" | "contaminated">): string {
  const reasons = [...new Set(r.contaminated.flatMap((c) => c.reasons))];
  const shown = reasons.slice(0, 3).join("; ") + (reasons.length > 3 ? `; ${reasons.length - 3} more` : "");
  const k = r.contaminated.length;
  return `${k} of ${r.n} trial${r.n === 1 ? "" : "s"} ran on a busy host: ${shown || "flagged"} (${r.contaminated.map((c) => `#${c.order}`).join(", ")})`;
}

/**
 * The noise-floor statement of a cell, beside its verdict, in the orientation of its ratio (environment
 * over native): "inside the noise floor (A/A x0.97..x1.03)".
 */
export function noiseText(r: Row): string {
  if (r.noiseFloorLow === null || r.noiseFloorHigh === null) return "";
  const floor = `A/A x${ratioNum(r.noiseFloorLow)}..x${ratioNum(r.noiseFloorHigh)}`;
  if (r.verdict === "baseline") return `noise floor: ${floor}`;
  if (r.calibrationOf !== null) return "this is the noise floor";
  if (r.insideNoiseFloor === null) return "";
  return r.insideNoiseFloor ? `inside the noise floor (${floor})` : "not inside the noise floor";
}

/** An A/A copy's statement: its interval against its original, never a verdict. */
function calibrationText(r: Row, ci: string): string {
  const apart = r.ratioLow! > 1 || r.ratioHigh! < 1;
  return `A/A against ${r.calibrationOf}: ${ci}, ${pText(r.p)}; ${apart ? "identical environments measured apart" : "the noise floor"}, no verdict`;
}

/** The full statement of a row against native (an A/A copy's against its original). */
export function ratioText(r: Row): string {
  if (r.verdict === "baseline") return "baseline";
  if (r.median === null) return "gap: no successful trial";
  if (r.ratio === null) return noRatio(r);
  const x = `x${ratioNum(r.ratio)}`;
  if (r.ratioLow === null || r.ratioHigh === null) return `${x}: ${tooFew(r)}`;
  const ci = `${x} ${intervalText(r)}`;
  if (r.calibrationOf !== null) return calibrationText(r, ci);
  if (r.warnings.includes("tcg-guest")) return `${ci}: TCG guest, no verdict (not KVM numbers)`;
  if (r.verdict === null) return `${ci}, ${pText(r.p)}; supporting data, no verdict`;
  const m = `±${pct(r.margin)}`;
  const stats = `${pText(r.p)}, ${pText(r.q, "q")}`;
  if (r.verdict === "indistinguishable") {
    return r.equivalent ? `${ci}: equivalent within ${m} (${stats})` : `${ci}: inconclusive: no significant difference (${stats}) and the interval is wider than the ${m} margin`;
  }
  return r.equivalent ? `${ci}: equivalent within ${m}; ${diffText(r)}, inside the margin (${stats})` : `${ci}: ${diffText(r)} (${stats})`;
}

/** Compact statement for matrix cells: "x0.83 [0.80, 0.86] 17 % slower", "x1.00 [0.99, 1.01] equivalent ±2 %". */
export function ratioShort(r: Row): string {
  if (r.verdict === "baseline") return "baseline";
  if (r.median === null) return "gap";
  if (r.ratio === null) return noRatio(r);
  const x = `x${ratioNum(r.ratio)}`;
  if (r.ratioLow === null || r.ratioHigh === null) return `${x} (too few trials)`;
  const ci = `${x} [${ratioNum(r.ratioLow)}, ${ratioNum(r.ratioHigh)}]`;
  if (r.calibrationOf !== null) return `${ci} A/A against ${r.calibrationOf}`;
  if (r.warnings.includes("tcg-guest")) return `${ci} TCG, no verdict`;
  if (r.verdict === null) return `${ci} (supporting)`;
  if (r.equivalent) return `${ci} equivalent ±${pct(r.margin)}`;
  if (r.verdict === "indistinguishable") return `${ci} inconclusive`;
  return `${ci} ${diffText(r)}`;
}

/** The verdict word of a row for tables: faster, slower, equivalent, inconclusive, or why none. */
export function verdictWord(r: Row): string {
  if (r.verdict === "baseline") return "baseline";
  if (r.calibrationOf !== null) return `A/A calibration of ${r.calibrationOf}: no verdict`;
  if (r.warnings.includes("tcg-guest")) return "TCG guest: no verdict, not compared with the study";
  if (r.verdict === null && r.ratio !== null && r.ratioLow === null && r.minP !== null) return `too few trials for a verdict (smallest attainable p = ${Number(r.minP.toPrecision(2))})`;
  if (r.verdict === null) return r.role === "headline" ? "no verdict" : "supporting data, no verdict";
  if (r.equivalent) return `equivalent (±${pct(r.margin)})`;
  return r.verdict === "indistinguishable" ? "inconclusive" : r.verdict;
}

/** A cell's warnings, short; the TCG one with its failed check, the contamination one with its trials. */
export function warningsText(r: Row): string {
  return r.warnings.map((w) => {
    if (w === "contaminated") return contaminationText(r);
    if (w === "tcg-guest" && tcgShort(r.accelerationReason)) return `${WARNING_LABEL[w]} (${tcgShort(r.accelerationReason)})`;
    return WARNING_LABEL[w];
  }).join("; ");
}

/** The study's figure: "73.5 (x0.96)", or its range in words: "x0.70..0.80 (approx.)". */
export function referenceText(r: Row): string {
  const ref = r.reference;
  if (!ref) return "";
  if (ref.range) return `x${ratioNum(ref.range[0])}..${ratioNum(ref.range[1])} (approx., from its text)`;
  if (ref.value === null) return "";
  return r.verdict === "baseline" ? `${num(ref.value)}` : `${num(ref.value)} (x${ratioNum(ref.ratio)})`;
}

export function directionText(better: "higher" | "lower"): string {
  return better === "higher" ? "higher is better" : "lower is better";
}

/** A measure's label: "fio rand-read iops (IO/s, higher is better)". */
export function measureLabel(m: { workload: string; case: string; metric: string; unit: string; better: "higher" | "lower" }): string {
  const kase = m.case === m.workload ? "" : ` ${m.case}`;
  return `${m.workload}${kase} ${m.metric} (${m.unit}, ${directionText(m.better)})`;
}

/** The family of tests, said once: "42 headline tests, 17 rejected; their intervals are at 98.0 %". */
export function familyText(f: Family): string {
  if (f.tests === 0) return `No headline cell could be tested (${f.tooFew} had too few trials to reach p <= ${f.alpha}${f.tcg ? `, ${f.tcg} are TCG guests` : ""}): no verdicts in this report.`;
  const left = [f.tooFew ? `${f.tooFew} headline cells with too few trials to reach p <= ${f.alpha}` : "", f.tcg ? `${f.tcg} TCG-guest cells` : ""].filter(Boolean).join(" and ");
  const against = f.againstTests ? ` (${f.againstTests} of them against a reference environment, the rest against native)` : "";
  return `Verdicts: ${f.tests} headline tests in this report${against}, false-discovery rate ${pct(f.alpha)} (Benjamini-Hochberg): ${f.rejections} differ from ${f.againstTests ? "their baseline" : "native"}. `
    + `Every headline interval is therefore at level ${levelText(1 - f.alphaStar)} (alpha x R/m = ${Number(f.alphaStar.toPrecision(2))}) or more, as each one's label says; a verdict is given exactly when that interval excludes 1 (q <= ${f.alpha}).`
    + (left ? ` Left out of the family: ${left}.` : "");
}

export const METHOD_TEXT = [
  "Cells: median [distribution-free interval of the median: order statistics, binomial; its real coverage in brackets; below n = 6 no pair reaches 95 % and min..max is shown with its lower coverage].",
  "Ratio: Hodges-Lehmann, the median of all pairwise ratios environment/native (the median pairwise difference of logs). Interval: every ratio the exact Wilcoxon-Mann-Whitney rank test does not reject, i.e. order statistics of the pairwise ratios; its real coverage is printed. p: that test of ratio 1; ties count against rejection, so it stays exact or conservative with tied data.",
  "Quantised metrics (ties, e.g. histogram buckets): the interval is widened by one resolution step each side and p tests \"within one step of 1\", so a difference smaller than the metric can show gets no verdict.",
  "Equivalent: the interval lies inside [1/(1+m), 1+m] for the group's margin m (default ±2 % CPU and memory, ±5 % network, I/O, applications). Inconclusive: neither a difference nor equivalence.",
  "Headline metrics (page one) get verdicts; every other metric is supporting data with its interval and unadjusted p. TCG guests are shown but never judged, and say why they ran without KVM. Failed and warm-up trials are never in the statistics.",
  "Trials on a busy host (the check around each trial saw processes not ours using a CPU, CPU steal, memory pressure or an earlier trial's leftovers) are in the statistics: leaving them out would choose data after seeing it. Their cells are warned, their per-trial marks are filled and ringed, and the run metadata lists them. Of several records of one trial the one counted is ok and clean, else ok, else the latest: a clean retry replaces a flagged record, which is then listed as superseded.",
  "Noise floor (A/A): with `calibration: [native]` the stack runs an identical copy native-aa. Its ratio against native, by the one rule at 95 % (no verdict, in no family), is each metric's noise floor, shaded on the forest plots. A cell \"inside the noise floor\" has its whole interval inside that floor: it differs from native no more than native from itself. That is said beside the verdict, never instead of it.",
  "The study's figures come from its hardware: compare its ratio with ours (consistent: our interval contains it), not its absolute numbers.",
];

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
