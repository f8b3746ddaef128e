/** fio's completion-latency percentiles per case, one line per environment (log y: they span decades). */
import type { Row } from "../compare.ts";
import type { Section } from "../sections.ts";
import { medianText, ratioShort } from "../format.ts";
import { envStyle } from "./svg.ts";
import { xyChart } from "./svg-xy.ts";

/** Percentile of a latency metric name: clat_p99 -> 99, clat_p99_9 / clat_p99.9 -> 99.9, read_clat_p50 -> 50. */
export function percentileOf(metric: string): number | undefined {
  const m = metric.match(/^(?:read_|write_)?c?lat(?:ency)?_p(\d+)(?:[._](\d+))?$/);
  return m ? Number(m[2] ? `${m[1]}.${m[2]}` : m[1]) : undefined;
}

/** "read" / "write" for a mixed case's per-direction metric, "" otherwise. */
function directionOf(metric: string): string {
  return metric.match(/^(read|write)_/)?.[1] ?? "";
}

export function fioLatencyCharts(section: Section): string {
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
    const series = envs.map((env) => ({
      name: `${env}${rows.some((r) => r.environment === env && r.warnings.includes("tcg-guest")) ? " (TCG)" : ""}`, ...envStyle(Math.max(0, section.environments.indexOf(env))), line: true,
      points: rows.filter((r) => r.environment === env && r.median !== null).map((r) => ({
        x: pcts.indexOf(percentileOf(r.metric)!), y: r.median!, low: r.ciLow, high: r.ciHigh, tooltip: `${env} ${r.metric}: ${medianText(r)} ${r.unit}; ${ratioShort(r)}`,
      })).sort((a, b) => a.x - b.x),
    }));
    const unit = rows[0]?.unit ?? "";
    return xyChart({ title: `fio ${kase}: completion latency percentiles (median of trials, interval of the median)`, kind: "line", xLabel: "percentile", yLabel: `latency (${unit}, lower is better)`, logY: true, xCategories: pcts.map((p) => `p${p}`) }, series);
  }).join("");
}
