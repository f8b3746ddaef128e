/**
 * report.html: one self-contained page (inline CSS and SVG, no script, nothing fetched). Page one answers
 * the study's question: the overhead-at-a-glance forest plot per stack, the same numbers as a compact
 * table, how many tests the verdicts control for, a table of contents; below, each section collapsible
 * (<details>) with its charts, per-trial data, run-order plots, curves and tables. Syntax only: tables
 * come from tables.ts, words from format.ts, numbers from the model.
 */
import type { ReportModel, Section } from "../sections.ts";
import { METHOD_TEXT, SMOKE_STUDY_NOTE, familyText, isolationStatement, smokeText, tcgStatement } from "../format.ts";
import { WARNING_CODES, WARNING_LABEL, WARNING_TEXT, type WarningCode } from "../warnings.ts";
import { CHART_CSS, esc, MARK_STYLE } from "./svg.ts";
import {
  againstGlanceTable, againstTable, contaminatedCells, contaminatedSummary, contaminatedTable, crossStackTable, curveTable, curveTitle, differencesTable, failuresText, glanceTable, inputProblems, measureTable,
  metaTable, stacksTable, type Table,
} from "./tables.ts";
import { againstChart, curveCharts, glanceChart, runOrderChart, stripCharts, workloadForests } from "./html-charts.ts";
import type { Overview } from "../overview.ts";
import { fioLatencyCharts } from "./html-fio.ts";

export function htmlTable(t: Table, cls = ""): string {
  const head = `<tr>${t.header.map((h) => `<th>${esc(h)}</th>`).join("")}</tr>`;
  const body = t.rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("");
  return `<table class="${cls}"><thead>${head}</thead><tbody>${body}</tbody></table>`;
}

function differencesHtml(section: Section): string {
  const same = section.sameEverywhere.length ? `<p class="same"><i>Same in all:</i> ${section.sameEverywhere.map((x) => `${esc(x.label)}: ${esc(x.value)}`).join("<br>")}</p>` : "";
  const t = differencesTable(section);
  if (!t) return `<p><i>What differs between these environments:</i> nothing that the run's facts and records show, beyond the environment kind.</p>${same}`;
  return `<p><i>What differs between these environments:</i></p>${htmlTable(t, "aspects")}${same}`;
}

function sectionTitle(section: Section, multiStack: boolean): string {
  return `${multiStack ? `${section.stack} (${section.profile}): ` : ""}${section.title}`;
}

function sectionHtml(model: ReportModel, section: Section, multiStack: boolean): string {
  const parts: string[] = [];
  for (const t of section.tcg) parts.push(`<p class="warn" data-tcg="${esc(t.environment)}"><b>Warning: ${esc(tcgStatement(t.environment, t.reason))}.</b> ${esc(WARNING_TEXT["tcg-guest"])}.</p>`);
  for (const i of section.isolation) parts.push(`<p class="note" data-isolation="${esc(i.environment)}">${esc(isolationStatement(i.environment, i.label, i.reason))}.</p>`);
  const busy = contaminatedCells(section);
  if (busy.length) parts.push(`<p class="warn" data-busy="cells"><b>Trials on a busy host (in the statistics):</b> ${busy.map(esc).join("; ")}. ${esc(WARNING_TEXT.contaminated)}.</p>`);
  parts.push(workloadForests(section));
  const curves = model.curves.filter((c) => c.stack === section.stack && c.profile === section.profile && section.workloads.includes(c.workload));
  for (const c of curves) parts.push(curveCharts(model, c, section.environments), `<details class="sub"><summary>${esc(curveTitle(c))}: table</summary>${htmlTable(curveTable(c), "cells")}</details>`);
  if (section.key === "io") parts.push(fioLatencyCharts(section));
  for (const w of section.workloads) {
    const ro = model.runOrder.find((p) => p.stack === section.stack && p.profile === section.profile && p.workload === w);
    if (ro) parts.push(runOrderChart(ro));
    const strips = stripCharts(section, w);
    if (strips) parts.push(`<details class="sub" data-trials="${esc(w)}"><summary>${esc(w)}: every trial, per metric and environment</summary>${strips}</details>`);
  }
  if (section.measures.length) parts.push(htmlTable(measureTable(section), "cells measures"));
  else parts.push(`<p class="warn">No successful trial in this section: every trial failed.</p>`);
  const against = againstTable(section);
  if (against) parts.push(`<p data-against="${esc(section.key)}"><i>Compared with their reference environments</i> (the same cells, their ratio to the reference by the same rule; headline ones are in the verdicts' family):</p>${htmlTable(against, "cells against-cells")}`);
  if (section.profile === "smoke" && section.measures.some((m) => m.rows.some((r) => r.reference))) parts.push(`<p class="note">${esc(SMOKE_STUDY_NOTE)}</p>`);
  const failures = failuresText(model, section);
  if (failures) parts.push(`<p class="warn">Failed trials (left out): ${esc(failures)}.</p>`);
  parts.push(differencesHtml(section));
  parts.push(...section.notes.map((n) => `<p class="note">${esc(n)}</p>`));
  const used = new Set<WarningCode>(section.measures.flatMap((m) => m.rows.flatMap((r) => r.warnings)));
  const legend = WARNING_CODES.filter((c) => used.has(c));
  if (legend.length) parts.push(`<ul class="legend">${legend.map((c) => `<li><b>${esc(WARNING_LABEL[c])}</b>: ${esc(WARNING_TEXT[c])}</li>`).join("")}</ul>`);
  return `<details class="section" id="${esc(section.id)}" data-section="${esc(section.key)}"><summary><h2>${esc(sectionTitle(section, multiStack))}</h2></summary>\n${parts.join("\n")}</details>`;
}

function againstHtml(ov: Overview, multiStack: boolean): string {
  const t = againstGlanceTable(ov);
  if (!t) return "";
  return `<section class="against" id="against-${esc(ov.stack)}"><h2>${esc(multiStack ? `${ov.stack}: against a reference environment` : "Against a reference environment")}</h2>`
    + `<p class="meta">Each environment against the one its kind names as its reference (gVisor: the same container on runc), on the headline metrics; performance against the reference (> 1 is better).</p>`
    + `${againstChart(ov, multiStack)}${htmlTable(t, "against-glance")}</section>`;
}

function contaminatedHtml(model: ReportModel): string {
  const t = contaminatedTable(model);
  return t ? `<p id="contaminated"><i>Contaminated trials: ran while the host was busy</i> (the check before and after each trial):</p>${htmlTable(t, "contaminated")}` : "";
}

function crossStackHtml(model: ReportModel): string {
  const t = crossStackTable(model);
  if (!t) return "";
  return `<details class="section" id="cross" data-section="cross"><summary><h2>Across hosts: ratio to each host's own native</h2></summary>${htmlTable(t, "cells")}</details>`;
}

function tocHtml(model: ReportModel, multiStack: boolean): string {
  const items = [
    ...model.overviews.filter((o) => o.rows.length).map((o) => `<a href="#glance-${esc(o.stack)}">${esc(multiStack ? `${o.stack}: overhead at a glance` : "Overhead at a glance")}</a>`),
    `<a href="#methods">How to read</a>`, `<a href="#run">Run metadata</a>`,
    ...model.sections.map((s) => `<a href="#${esc(s.id)}">${esc(sectionTitle(s, multiStack))}</a>`),
    ...(model.crossStack.length ? [`<a href="#cross">Across hosts</a>`] : []),
  ];
  return `<nav class="toc"><b>Contents</b> ${items.join(" · ")}</nav>`;
}

const PAGE_CSS = `
body{font-family:system-ui,sans-serif;margin:20px auto;max-width:1280px;padding:0 16px;color:#1a1a1a;line-height:1.4}
h1{font-size:23px;margin-bottom:4px} h2{font-size:18px;margin:0;display:inline} section.glance h2{display:block;margin-top:18px}
summary{cursor:pointer;padding:6px 0} details.section{border-top:1px solid #ddd;margin-top:14px} details.sub summary{font-size:13px;color:#333}
table{border-collapse:collapse;font-size:12.5px;margin:10px 0} th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f3f5f7} table.measures td:nth-child(4){text-align:right} table.glance td,table.against-glance td{white-space:normal;min-width:120px}
.warn{background:#fff3e6;border-left:4px solid #D55E00;padding:6px 10px} .note{color:#444;font-style:italic} .meta{color:#333;font-size:13px;margin-top:0}
.legend{font-size:12.5px;color:#333} .same{font-size:12.5px;color:#333} table.aspects td:first-child{font-weight:600;white-space:nowrap} .methods li{font-size:13px}
nav.toc{font-size:13.5px;background:#f6f8fa;padding:8px 10px;margin:14px 0} nav.toc a{color:#0b4f8a} .family{font-size:13.5px}
`;

function headLines(model: ReportModel): string {
  const meta = model.metadata.map((m) => `${m.stack}: ${m.first ? m.first.slice(0, 10) : "date unknown"}, governor ${m.governor}, SMT ${m.smt}, NUMA ${m.numa}`).join("; ");
  return `<p class="meta">Inputs: ${esc(model.sources.join(", "))}. Report by virtperf ${esc(model.tool.version)} (commit ${esc(model.tool.commit)}). ${esc(meta)}.</p>`;
}

export function renderHtml(model: ReportModel): string {
  const multiStack = model.comparison.stacks.length > 1;
  const tcgEnvs = [...new Map(model.sections.flatMap((s) => s.tcg.map((t) => [`${multiStack ? `${s.stack}/` : ""}${t.environment}`, t.reason] as const)))];
  const isolated = [...new Map(model.sections.flatMap((s) => s.isolation.map((i) => [`${multiStack ? `${s.stack}/` : ""}${i.environment}`, i] as const)))];
  const busy = contaminatedSummary(model);
  const problems = inputProblems(model);
  const body = [
    `<h1>virtperf report: what isolation costs against bare metal</h1>`, headLines(model),
    ...[smokeText(model.comparison.stacks)].filter((t) => t !== undefined).map((t) => `<p class="warn smoke"><b>${esc(t)}</b></p>`),
    ...tcgEnvs.map(([env, reason]) => `<p class="warn" data-tcg="${esc(env)}"><b>${esc(tcgStatement(env, reason))}.</b> Not KVM numbers: shown on their own axis, never judged and never set beside the study's KVM figures.</p>`),
    ...(busy ? [`<p class="warn" data-busy="summary"><b>${esc(busy)}</b></p>`] : []),
    ...isolated.map(([env, i]) => `<p class="note" data-isolation="${esc(env)}"><b>${esc(`${env} runs under ${i.label}`)}.</b> ${esc(i.reason ? `Why: ${i.reason}.` : "")}</p>`),
    ...model.overviews.filter((o) => o.rows.length).map((o) => `<section class="glance" id="glance-${esc(o.stack)}">${glanceChart(o, multiStack)}${htmlTable(glanceTable(o), "glance")}</section>${againstHtml(o, multiStack)}`),
    `<p class="family">${esc(familyText(model.comparison.family))}</p>`,
    tocHtml(model, multiStack),
    ...(problems.length ? [`<p class="warn">Input problems (left out, the rest is reported): ${esc(problems.join("; "))}</p>`] : []),
    ...(model.factsProblems.length ? [`<p class="warn">Facts files that could not be read: ${esc(model.factsProblems.join("; "))}</p>`] : []),
    `<details class="section" id="methods"><summary><h2>How to read</h2></summary><ul class="methods">${METHOD_TEXT.map((t) => `<li>${esc(t)}</li>`).join("")}<li>${esc(`Marks: ${Object.values(MARK_STYLE).map((s) => s.label).join("; ")}; the study's figure is an orange hollow diamond, its approximate range an orange band. Environments in curves, per-trial and run-order charts have their own colours and shapes.`)}</li></ul></details>`,
    `<details class="section" id="run"><summary><h2>Run metadata</h2></summary>${htmlTable(stacksTable(model))}${htmlTable(metaTable(model))}${contaminatedHtml(model)}</details>`,
    ...model.sections.map((s) => sectionHtml(model, s, multiStack)),
    crossStackHtml(model),
  ];
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>virtperf report</title><style>${PAGE_CSS}${CHART_CSS}</style></head><body>\n${body.join("\n")}\n</body></html>\n`;
}
