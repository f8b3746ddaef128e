/**
 * The charts of report.html, from the model: page one's forest plot, a section's per-workload forest,
 * per-trial strip plots, run-order plots and curves with the study's bands. Syntax only.
 */
import type { Row } from "../compare.ts";
import type { Curve, ReportModel, Section } from "../sections.ts";
import type { Overview } from "../overview.ts";
import { perfOf } from "../overview.ts";
import type { RunOrderPlot } from "../runorder.ts";
import { contaminationText, directionText, medianText, noiseText, ratioNum, ratioText, tcgStatement } from "../format.ts";
import { envStyle, type MarkClass } from "./svg.ts";
import { againstColumnTitle, environmentChartColumn } from "./tables.ts";
import { forestChart, type ForestMark } from "./svg-forest.ts";
import { stripChart, xyChart, type XYBand, type XYSeries } from "./svg-xy.ts";

export function markClassOf(r: Row): MarkClass {
  if (r.warnings.includes("tcg-guest") || r.verdict === null || r.verdict === "baseline") return "none";
  if (r.equivalent) return "equivalent";
  return r.verdict === "faster" ? "better" : r.verdict === "slower" ? "worse" : "inconclusive";
}

const SHORT: Record<MarkClass, string> = { better: "better", worse: "worse", equivalent: "equivalent", inconclusive: "inconclusive", none: "" };

function whyNone(r: Row): string {
  if (r.warnings.includes("tcg-guest")) return "TCG";
  if (r.ratio !== null && r.ratioLow === null) return "too few trials";
  return r.role === "headline" ? "no verdict" : "supporting";
}

/** A row as a forest mark, oriented as performance against native (> 1 better). */
export function forestMark(r: Row, withStudy: boolean): ForestMark {
  const p = perfOf(r);
  const klass = markClassOf(r);
  const tcg = r.warnings.includes("tcg-guest");
  const inv = (v: number) => (r.better === "higher" ? v : 1 / v);
  const ref = withStudy && !tcg && r.reference ? r.reference : null;
  const range = ref?.range ? ([inv(ref.range[0]), inv(ref.range[1])].sort((a, b) => a - b) as [number, number]) : null;
  const noise = !tcg && r.noiseFloorLow !== null && r.noiseFloorHigh !== null ? ([inv(r.noiseFloorLow), inv(r.noiseFloorHigh)].sort((a, b) => a - b) as [number, number]) : null;
  const notes = [noiseText(r), r.contaminated.length ? contaminationText(r) : "", tcg ? tcgStatement(r.environment, r.accelerationReason) : ""].filter(Boolean);
  return {
    value: p?.value ?? null, low: p?.low ?? null, high: p?.high ?? null, klass,
    text: p ? `x${ratioNum(p.value)} ${klass === "none" ? whyNone(r) : SHORT[klass]}${r.insideNoiseFloor ? ", in noise" : ""}` : r.median === null ? "no data" : "no ratio",
    tooltip: `${r.environment}${r.against ? ` vs ${r.against}` : ""}, ${r.workload} ${r.case} ${r.metric}: median ${medianText(r)} ${r.unit}, n=${r.n}; ${ratioText(r)}${notes.map((n) => `; ${n}`).join("")}`,
    study: ref && !ref.range ? inv(ref.ratio) : null, studyRange: range, margin: r.role === "headline" && !tcg ? r.margin : null, noise, outlier: tcg,
  };
}

/** Page one: one row per headline metric, one column per environment, and the geometric means. */
export function glanceChart(ov: Overview, multiStack: boolean): string {
  const columns = ov.environments.map((env) => {
    const marks: (ForestMark | null)[] = ov.rows.map((o) => { const c = o.cells.get(env); return c ? forestMark(c.row, true) : null; });
    const g = ov.geomean.find((x) => x.environment === env);
    marks.push(g?.perf ? { value: g.perf.value, low: g.perf.low, high: g.perf.high, klass: "none", text: `x${ratioNum(g.perf.value)} (${g.count})`, tooltip: `geometric mean of ${g.count} headline ratios; approximate 95 % interval`, study: null, studyRange: null, margin: null } : null);
    const tcg = ov.rows.map((o) => o.cells.get(env)).find((c) => c?.tcg);
    const head = environmentChartColumn(ov, env);
    return { title: head.title, marks, ownAxis: !!tcg, ...(tcg ? { note: tcgStatement(env, tcg.row.accelerationReason) } : head.note ? { note: head.note } : {}) };
  });
  const labels = [...ov.rows.map((o) => o.label), "geometric mean"];
  return forestChart({
    title: `${multiStack ? `${ov.stack}: ` : ""}overhead at a glance: performance against ${ov.baseline ?? "native"} (> 1 is better)`,
    rowLabels: labels, columns, separatorBefore: ov.rows.length, chartId: `glance-${ov.stack}`,
    xLabel: `performance vs native, log scale (native / environment for lower-is-better metrics)\nwhiskers: each cell's interval, at the coverage its table cell states; pale green band: the margin of equivalence${ov.rows.some((o) => o.noise) ? "\npurple band: native's A/A noise floor (native-aa against native), the difference two identical environments show" : ""}`,
  });
}

/** Page one's reference comparisons: one column per (environment, reference), the headline metrics as rows. */
export function againstChart(ov: Overview, multiStack: boolean): string {
  const positions = ov.rows.map((o) => o.position).filter((p) => ov.against.some((c) => c.cells.has(p)));
  const columns = ov.against.map((c) => {
    const marks: (ForestMark | null)[] = positions.map((p) => { const r = c.cells.get(p); return r ? forestMark(r, false) : null; });
    const g = c.geomean;
    marks.push(g.perf ? { value: g.perf.value, low: g.perf.low, high: g.perf.high, klass: "none", text: `x${ratioNum(g.perf.value)} (${g.count})`, tooltip: `geometric mean of ${g.count} headline ratios against ${c.reference}; approximate 95 % interval`, study: null, studyRange: null, margin: null } : null);
    return { title: `${c.environment}\nvs ${c.reference}`, marks, ownAxis: false, note: againstColumnTitle(c) };
  });
  const labels = [...positions.map((p) => ov.rows.find((o) => o.position === p)!.label), "geometric mean"];
  return forestChart({
    title: `${multiStack ? `${ov.stack}: ` : ""}against a reference environment: performance against it (> 1 is better)`,
    rowLabels: labels, columns, separatorBefore: positions.length, chartId: `against-${ov.stack}`, baseline: "the reference",
    xLabel: "performance vs the reference environment, log scale (reference / environment for lower-is-better metrics)\nwhiskers: each cell's interval, at the coverage its table cell states; pale green band: the margin of equivalence",
  });
}

/** Per workload: every measure of the section on one forest (headline ones marked). */
export function workloadForests(section: Section): string {
  const byWorkload = new Map<string, { labels: string[]; marks: ForestMark[] }>();
  for (const m of section.measures) {
    for (const r of m.rows) {
      // Native and the A/A copies are no rows: the copies' intervals are the bands (native's) and the tables (all).
      if (r.verdict === "baseline" || r.calibrationOf !== null) continue;
      const e = byWorkload.get(m.workload) ?? { labels: [], marks: [] };
      e.labels.push(`${m.headline ? "★ " : ""}${m.case === m.workload ? "" : `${m.case} `}${m.metric} · ${r.environment}${r.warnings.includes("tcg-guest") ? " (TCG)" : ""}`);
      e.marks.push(forestMark(r, true));
      byWorkload.set(m.workload, e);
    }
  }
  return [...byWorkload].map(([w, e]) => forestChart({
    title: `${w}: performance against native (> 1 is better), every metric`, rowLabels: e.labels, columns: [{ title: w, marks: e.marks }],
    xLabel: "log scale; ★ headline metric (verdict); others are supporting data; TCG rows are cut at the axis edge",
  })).join("");
}

/** Per-trial marks of each measure of a workload, one row per environment. */
export function stripCharts(section: Section, workload: string): string {
  return section.measures.filter((m) => m.workload === workload).map((m) => {
    const rows = m.rows.filter((r) => r.values.length > 0).map((r) => {
      const s = envStyle(section.environments.indexOf(r.environment));
      const busy = new Map(r.contaminated.map((c) => [c.index, `#${c.order}: ${c.reasons.join("; ") || "flagged"}`] as const));
      return {
        label: `${r.environment}${r.calibrationOf ? " (A/A)" : ""} (n=${r.n})`, color: s.color, shape: s.shape, values: r.values, median: r.median, low: r.ciLow, high: r.ciHigh,
        tooltip: `${medianText(r)}${r.contaminated.length ? `; ${contaminationText(r)}` : ""}`, busy,
      };
    });
    return rows.length ? stripChart(`${m.workload} ${m.case} ${m.metric} (${directionText(m.better)})`, m.unit, rows) : "";
  }).join("");
}

export function runOrderChart(p: RunOrderPlot): string {
  const series: XYSeries[] = p.environments.map((env, i) => {
    const s = envStyle(i);
    return {
      name: env, ...s, line: false,
      points: p.points.filter((q) => q.environment === env).map((q) => ({
        x: q.order, y: q.y, hollow: q.warmup || q.superseded, ring: q.busy !== null,
        tooltip: `#${q.order} ${env}${q.warmup ? " (warm-up)" : ""}${q.superseded ? " (superseded by another attempt of this trial: not counted)" : ""}: ${q.value} ${p.unit}${q.busy ? `; ran on a busy host: ${q.busy}` : ""}`,
      })),
    };
  }).filter((s) => s.points.length > 0);
  return xyChart({
    title: `${p.workload} ${p.case} ${p.metric}: every trial in run order`, kind: "runorder", xLabel: "position in the schedule",
    yLabel: p.normalised ? `value / native's median (${directionText(p.better)})` : `${p.metric} (${p.unit})`, ...(p.normalised ? { yRule: 1 } : {}),
    legendNote: `hollow: warm-up (not counted)${p.points.some((q) => q.busy !== null) ? "\nringed: ran on a busy host" : ""}${p.points.some((q) => q.superseded) ? "\nhollow: superseded by a retry" : ""}`,
  }, series);
}

export function curveCharts(model: ReportModel, curve: Curve, environments: readonly string[]): string {
  const tcgOf = (env: string) => curve.lines.find((l) => l.environment === env)?.points.some((p) => p.row.warnings.includes("tcg-guest")) ?? false;
  const style = (env: string) => envStyle(Math.max(0, environments.indexOf(env)));
  const copyOf = (env: string) => curve.lines.find((l) => l.environment === env)?.points[0]?.row.calibrationOf ?? null;
  const medians: XYSeries[] = curve.lines.map((l) => ({
    name: `${l.environment}${tcgOf(l.environment) ? " (TCG)" : ""}${copyOf(l.environment) ? " (A/A)" : ""}`, ...style(l.environment), line: true,
    points: l.points.map((p) => ({ x: p.x, y: p.row.median!, low: p.row.ciLow, high: p.row.ciHigh, tooltip: `${l.environment}, ${curve.xName} ${p.x}: ${medianText(p.row)} ${curve.unit}` })),
  }));
  const title = `${curve.workload} ${curve.series}: ${curve.metric} against ${curve.xName} (median, interval of the median)`;
  const out = [xyChart({ title, kind: "line", xLabel: curve.xName, yLabel: `${curve.metric} (${curve.unit}, ${directionText(curve.better)})`, logX: true }, medians)];
  if (curve.study.length === 0) return out.join("");
  const xs = [...new Set(curve.lines.flatMap((l) => l.points.map((p) => p.x)))].sort((a, b) => a - b);
  const peak = model.comparison.rows.find((r) => r.stack === curve.stack && r.workload === curve.workload && r.metric === curve.metric && r.headline && r.verdict === "baseline");
  const peakX = peak ? (curve.lines.flatMap((l) => l.points).find((p) => p.row === peak)?.x ?? xs[xs.length - 1]!) : xs[xs.length - 1]!;
  // A/A copies are compared with their originals, not native: no line on a chart against native.
  const ratios: XYSeries[] = curve.lines.filter((l) => !copyOf(l.environment) && l.points.some((p) => p.row.verdict !== "baseline")).map((l) => ({
    name: `${l.environment}${tcgOf(l.environment) ? " (TCG)" : ""}`, ...style(l.environment), line: true,
    points: l.points.flatMap((p) => { const q = perfOf(p.row); return q ? [{ x: p.x, y: q.value, low: q.low, high: q.high, tooltip: `${l.environment}, ${curve.xName} ${p.x}: ${ratioText(p.row)}` }] : []; }),
  }));
  const bands: XYBand[] = curve.study.filter((b) => curve.lines.some((l) => l.environment === b.environment) && !tcgOf(b.environment)).map((b) => ({
    low: b.low, high: b.high, from: b.at === "all" ? null : b.at === "lowest" ? xs[0]! : peakX, to: b.at === "all" ? null : b.at === "lowest" ? xs[0]! : peakX,
    color: style(b.environment).color, tooltip: `study, ${b.environment}: ${b.low === null ? `below x${b.high}` : b.low === b.high ? `x${b.low.toFixed(3)}` : `x${b.low}..x${b.high}`}${b.approximate ? " (approximate, from its text)" : ""}${b.at === "all" ? " at every concurrency" : b.at === "lowest" ? " at its lowest concurrency" : " at its peak"}`,
  }));
  out.push(xyChart({
    title: `${curve.workload} ${curve.series}: performance against native beside the study's`, kind: "ratio-curve", xLabel: curve.xName,
    yLabel: "performance vs native (> 1 better)", logX: true, logY: true, yRule: 1, bands,
    legendNote: "dashed band: the study (hover)",
  }, ratios));
  return out.join("");
}
