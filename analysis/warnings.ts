/**
 * Warnings attached to report cells: a closed set of codes, each with text that says what is wrong
 * and what to do about it (hyperfine's warnings, made actionable).
 */
export const WARNING_CODES = [
  "tcg-guest",
  "failed-trials",
  "missing",
  "no-baseline",
  "no-reference",
  "few-trials",
  "quantised",
  "ci-below-95",
  "high-cv",
  "outliers",
  "non-positive",
  "contaminated",
  "aa-apart",
] as const;
export type WarningCode = (typeof WARNING_CODES)[number];

/** Coefficient of variation above which a cell is flagged. */
export const HIGH_CV = 0.1;

export const WARNING_TEXT: Record<WarningCode, string> = {
  "tcg-guest": "guest ran under QEMU TCG (software emulation, no KVM): these are not KVM numbers, so they get no verdict and no study mark; enable KVM on the host (/dev/kvm, the kvm_intel or kvm_amd module) and rerun",
  "failed-trials": "some trials failed and are left out: read their `error` in trials.jsonl, fix the cause and run `pulumi up` again to rerun only those",
  missing: "no successful trial: this cell is a gap, not a zero; check that the environment came up and rerun its trials",
  "no-baseline": "no successful native trial for this measure: no ratio can be computed; fix or add the native environment's trials",
  "no-reference": "no successful trial of the reference environment for this measure: no ratio against it; fix or add that environment's trials (it must be in the same stack)",
  "few-trials": "too few trials for a verdict: with this many trials the exact rank test cannot reach the level asked (the cell gives the smallest attainable p); raise `repetitions` in the stack config (6 or more)",
  quantised: "the metric is quantised (values tie: histogram buckets or printed digits): the interval is widened by one resolution step on each side, and a difference within one step gets no verdict; longer runs or finer buckets narrow it",
  "ci-below-95": "fewer than 6 trials: no pair of order statistics gives 95 % for the median, the interval shown (min..max) covers less, as its label says; raise `repetitions` to 6 or more",
  "high-cv": `trial-to-trial variation above ${HIGH_CV * 100} % (coefficient of variation): look for background load, CPU frequency scaling or thermal limits (see the run-order plot), or raise \`repetitions\``,
  outliers: "some trials are outliers (modified z-score above 3.5): read their raw output and the run-order plot before trusting the cell",
  "non-positive": "values at or below zero: a ratio to native is undefined for this measure",
  contaminated: "some trials ran while the host was busy (the contamination check around each trial saw processes not ours using a CPU, CPU steal, memory pressure or an earlier trial's leftovers; the run metadata lists them). They are in the statistics, so the cell may be shifted or noisier: stop what the list names and run those trials again; a later clean record of that trial replaces the flagged one",
  "aa-apart": "the A/A copy's interval against its original excludes 1: two identical environments measured apart. By chance that happens in about 5 % of metrics; in more, the host drifts during the run or the copies are not identical: read the run-order plot and the what-differs table, and treat differences of this size between environments as noise",
};

/** Short label for tight places (table footnotes, chart tooltips). */
export const WARNING_LABEL: Record<WarningCode, string> = {
  "tcg-guest": "TCG guest, not KVM",
  "failed-trials": "failed trials left out",
  missing: "no data",
  "no-baseline": "no native baseline",
  "no-reference": "no reference data",
  "few-trials": "too few trials for a verdict",
  quantised: "quantised: interval widened",
  "ci-below-95": "median interval below 95 %",
  "high-cv": `CV > ${HIGH_CV * 100} %`,
  outliers: "outliers",
  "non-positive": "values <= 0",
  contaminated: "trials on a busy host",
  "aa-apart": "A/A copy measured apart",
};
