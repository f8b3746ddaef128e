/**
 * report.html: one self-contained page (inline CSS and SVG, no script, nothing fetched) with the same
 * tables as report.md and charts: ratio bars with interval whiskers per workload (the study's ratio as
 * a yellow diamond), throughput/latency-versus-concurrency curves for Redis and MySQL, and fio latency
 * percentiles. Syntax only: numbers and words come from the model and format.ts.
 */
import type { Row } from "../compare.ts";
import type { ReportModel, Section, Curve } from "../sections.ts";
import { METHOD_TEXT, SMOKE_STUDY_NOTE, measureLabel, medianText, rangeText, ratioShort, ratioText, referenceText, smokeText, warningsText, directionText } from "../format.ts";
import { WARNING_CODES, WARNING_LABEL, WARNING_TEXT, type WarningCode } from "../warnings.ts";
import { CHART_CSS, colorOf, esc, lineChart, ratioChart, type RatioBar } from "./svg.ts";

function htmlTable(header: readonly string[], rows: readonly (readonly string[])[], cls = ""): string {
  const head = `<tr>${header.map((h) => `<th>${esc(h)}</th>`).join("")}</tr>`;
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("");
  return `<table class="${cls}"><thead>${head}</thead><tbody>${body}</tbody></table>`;
}

function bar(r: Row, label: string): RatioBar {
  const tooltip = `${r.environment}, ${r.workload} ${r.case} ${r.metric}: median ${medianText(r)} ${r.unit}, n=${r.n}; ${ratioText(r)}`;
  return { label, ratio: r.ratio, low: r.ratioLow, high: r.ratioHigh, verdict: r.verdict, text: ratioShort(r), tooltip, reference: r.reference?.ratio ?? null, outlier: r.warnings.includes("tcg-guest") };
}

function workloadCharts(section: Section): string {
  const byWorkload = new Map<string, RatioBar[]>();
  for (const m of section.measures) {
    if (section.key === "io" && /lat|_p\d/.test(m.metric)) continue; // latency percentiles get their own chart
    for (const r of m.rows) {
      if (r.verdict === "baseline") continue;
      const label = `${m.case === m.workload ? "" : `${m.case} `}${m.metric} · ${r.environment}${r.warnings.includes("tcg-guest") ? " (TCG)" : ""}`;
      const list = byWorkload.get(m.workload) ?? [];
      list.push(bar(r, label));
      byWorkload.set(m.workload, list);
    }
  }
  return [...byWorkload].map(([w, bars]) => ratioChart(`${w}: ratio to native (95 % CI); right of x1 is more, not better: see each metric's direction`, bars)).join("");
}

function curveChart(curve: Curve): string {
  const series = curve.lines.map((l, i) => ({
    name: `${l.environment}${l.points.some((p) => p.row.warnings.includes("tcg-guest")) ? " (TCG)" : ""}`, color: colorOf(i),
    points: l.points.map((p) => ({ x: p.x, y: p.row.median!, low: p.row.ciLow, high: p.row.ciHigh, tooltip: `${l.environment}, ${curve.xName} ${p.x}: ${medianText(p.row)} ${curve.unit}; ${ratioShort(p.row)}` })),
  }));
  return lineChart({ title: `${curve.workload} ${curve.series}: ${curve.metric} against ${curve.xName} (median, 95 % CI)`, xLabel: curve.xName, yLabel: `${curve.metric} (${curve.unit}, ${directionText(curve.better)})`, logX: true }, series);
}

/** Percentile of a latency metric name: clat_p99 -> 99, clat_p99_9 / clat_p99.9 -> 99.9, read_clat_p50 -> 50. */
export function percentileOf(metric: string): number | undefined {
  const m = metric.match(/^(?:read_|write_)?c?lat(?:ency)?_p(\d+)(?:[._](\d+))?$/);
  return m ? Number(m[2] ? `${m[1]}.${m[2]}` : m[1]) : undefined;
}

/** "read" / "write" for a mixed case's per-direction metric, "" otherwise. */
function directionOf(metric: string): string {
  return metric.match(/^(read|write)_/)?.[1] ?? "";
}

function fioLatencyCharts(section: Section): string {
  const byCase = new Map<string, Row[]>();
  for (const m of section.measures) {
    if (m.workload !== "fio" || percentileOf(m.metric) === undefined) continue;
    // A mixed case has read and write percentiles: one chart per direction, never one line through both.
    const key = `${m.case}${directionOf(m.metric) ? ` ${directionOf(m.metric)}` : ""}`;
    byCase.set(key, [...(byCase.get(key) ?? []), ...m.rows]);
  }
  return [...byCase].map(([kase, rows]) => {
    const pcts = [...new Set(rows.map((r) => percentileOf(r.metric)!))].sort((a, b) => a - b);
    const envs = [...new Set(rows.map((r) => r.environment))];
    const series = envs.map((env, i) => ({
      name: env, color: colorOf(i),
      points: rows.filter((r) => r.environment === env && r.median !== null).map((r) => ({
        x: pcts.indexOf(percentileOf(r.metric)!), y: r.median!, low: r.ciLow, high: r.ciHigh, tooltip: `${env} ${r.metric}: ${medianText(r)} ${r.unit}; ${ratioShort(r)}`,
      })).sort((a, b) => a.x - b.x),
    }));
    const unit = rows[0]?.unit ?? "";
    return lineChart({ title: `fio ${kase}: completion latency percentiles (median of trials, 95 % CI)`, xLabel: "percentile", yLabel: `latency (${unit}, lower is better)`, logY: true, xCategories: pcts.map((p) => `p${p}`) }, series);
  }).join("");
}

function measureTable(section: Section): string {
  const hasRef = section.measures.some((m) => m.rows.some((r) => r.reference));
  const rows = section.measures.flatMap((m) => m.rows.map((r, i) => [i === 0 ? measureLabel(m) : "", r.environment, medianText(r), String(r.n), rangeText(r), ratioText(r), warningsText(r), ...(hasRef ? [referenceText(r)] : [])]));
  return htmlTable(["measure", "environment", "median [95 % CI]", "n", "min..max", "vs native (ratio [95 % CI])", "warnings", ...(hasRef ? ["study"] : [])], rows, "cells");
}

function differencesHtml(section: Section): string {
  const same = section.sameEverywhere.length ? `<p class="same"><i>Same in all:</i> ${section.sameEverywhere.map((x) => `${esc(x.label)}: ${esc(x.value)}`).join("<br>")}</p>` : "";
  if (section.differences.length === 0) return `<p><i>What differs between these environments:</i> nothing that the run's facts and records show, beyond the environment kind.</p>${same}`;
  const envs = section.differences[0]!.values.map(([env]) => env);
  const table = htmlTable(["aspect", ...envs], section.differences.map((d) => [d.label, ...d.values.map(([, v]) => v)]), "aspects");
  return `<p><i>What differs between these environments:</i></p>${table}${same}`;
}

function sectionHtml(model: ReportModel, section: Section, multiStack: boolean): string {
  const parts = [`<h2>${esc(`${multiStack ? `${section.stack} (${section.profile}): ` : ""}${section.title}`)}</h2>`];
  if (section.tcgEnvironments.length) parts.push(`<p class="warn"><b>Warning: ${esc(section.tcgEnvironments.join(", "))} ran under QEMU TCG, without KVM.</b> ${esc(WARNING_TEXT["tcg-guest"])}.</p>`);
  parts.push(workloadCharts(section));
  const curves = model.curves.filter((c) => c.stack === section.stack && c.profile === section.profile && section.workloads.includes(c.workload));
  parts.push(...curves.map(curveChart));
  if (section.key === "io") parts.push(fioLatencyCharts(section));
  if (section.measures.length) parts.push(measureTable(section));
  else parts.push(`<p class="warn">No successful trial in this section: every trial failed.</p>`);
  if (section.profile === "smoke" && section.measures.some((m) => m.rows.some((r) => r.reference))) parts.push(`<p class="note">${esc(SMOKE_STUDY_NOTE)}</p>`);
  const st = model.comparison.stacks.find((s) => s.stack === section.stack && s.profile === section.profile);
  const failures = st?.failures.filter((f) => section.workloads.includes(f.workload)) ?? [];
  if (failures.length) parts.push(`<p class="warn">Failed trials (left out): ${esc(failures.map((f) => `${f.workload} on ${f.environment}: ${f.count}`).join("; "))}.</p>`);
  parts.push(differencesHtml(section));
  parts.push(...section.notes.map((n) => `<p class="note">${esc(n)}</p>`));
  const used = new Set<WarningCode>(section.measures.flatMap((m) => m.rows.flatMap((r) => r.warnings)));
  const legend = WARNING_CODES.filter((c) => used.has(c));
  if (legend.length) parts.push(`<ul class="legend">${legend.map((c) => `<li><b>${esc(WARNING_LABEL[c])}</b>: ${esc(WARNING_TEXT[c])}</li>`).join("")}</ul>`);
  return `<section data-section="${section.key}">${parts.join("\n")}</section>`;
}

function crossStackHtml(model: ReportModel): string {
  if (model.crossStack.length === 0) return "";
  const rows = model.crossStack.map((x) => [measureLabel(x), x.environment, ...model.stackColumns.map((s) => { const r = x.cells.get(s); return r ? ratioShort(r) : "not run"; })]);
  const bars = model.crossStack.flatMap((x) => model.stackColumns.flatMap((s) => { const r = x.cells.get(s); return r ? [bar(r, `${x.workload} ${x.case} ${x.metric} · ${x.environment} @ ${s}`)] : []; }));
  return `<section data-section="cross"><h2>Across hosts: ratio to each host's own native</h2>${ratioChart("ratio to native per host (95 % CI)", bars)}${htmlTable(["measure", "environment", ...model.stackColumns], rows)}</section>`;
}

const PAGE_CSS = `
body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#1a1a1a;line-height:1.4}
h1{font-size:24px} h2{font-size:19px;margin-top:36px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;font-size:12.5px;margin:10px 0} th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f3f5f7} table.cells td:nth-child(4){text-align:right}
.warn{background:#fff3f0;border-left:4px solid #d1495b;padding:6px 10px} .note{color:#444;font-style:italic}
.legend{font-size:12.5px;color:#333} .same{font-size:12.5px;color:#333} table.aspects td:first-child{font-weight:600;white-space:nowrap} .methods li{font-size:13px}
`;

export function renderHtml(model: ReportModel): string {
  const multiStack = model.comparison.stacks.length > 1;
  const overview = htmlTable(["stack", "profile", "host", "runs", "environments", "baseline", "trials ok", "failed", "warm-up (not counted)"],
    model.comparison.stacks.map((s) => [s.stack, s.profile, s.hosts.join(", "), s.runs.join(", "), s.environments.join(", "), s.baseline ?? "none (no ratios)", String(s.trials.ok), String(s.trials.failed), String(s.trials.warmup)]));
  const body = [
    `<h1>virtperf report: what isolation costs against bare metal</h1>`,
    `<p>Inputs: ${esc(model.sources.join(", "))}</p>`, overview,
    ...[smokeText(model.comparison.stacks)].filter((t) => t !== undefined).map((t) => `<p class="warn smoke"><b>${esc(t)}</b></p>`),
    `<ul class="methods">${METHOD_TEXT.map((t) => `<li>${esc(t)}</li>`).join("")}<li>Charts: bars run from x1 (native) to each environment's ratio, green when better than native in the metric's direction, red when worse, grey when not significant; whiskers are the 95 % interval; a yellow diamond marks the study's ratio for the same configuration.</li></ul>`,
    ...(model.factsProblems.length ? [`<p class="warn">Facts files that could not be read: ${esc(model.factsProblems.join("; "))}</p>`] : []),
    ...model.sections.map((s) => sectionHtml(model, s, multiStack)),
    crossStackHtml(model),
  ];
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>virtperf report</title><style>${PAGE_CSS}${CHART_CSS}</style></head><body>\n${body.join("\n")}\n</body></html>\n`;
}
