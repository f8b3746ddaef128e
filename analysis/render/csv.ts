/**
 * results.csv: tidy data for pandas and R, one row per metric value of each trial (RFC 4180 quoting).
 * A failed trial gives one row with empty metric and value (NA), so failures are visible, not dropped;
 * warm-up trials are kept and marked (filter on `warmup` and `status`).
 */
import type { LocatedRecord } from "../load.ts";

export const CSV_COLUMNS = [
  "stack", "run", "host", "profile", "environment", "kind", "acceleration", "workload", "rep", "order", "warmup",
  "status", "startedAt", "tool", "toolVersion", "case", "params", "metric", "value", "unit", "better", "error",
] as const;

function quote(v: string | number | boolean | null): string {
  if (v === null) return "";
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function renderCsv(records: readonly LocatedRecord[]): string {
  const out: string[] = [CSV_COLUMNS.join(",")];
  for (const { record: r } of records) {
    const head = [r.stack, r.run, r.host, r.profile, r.environment, r.kind, r.acceleration, r.workload, r.rep, r.order, r.warmup, r.status, r.startedAt, r.tool.name, r.tool.version].map(quote).join(",");
    const error = quote(r.error ? r.error.message : null);
    let wrote = false;
    for (const c of r.cases) {
      const kase = quote(c.case);
      const params = quote(JSON.stringify(c.params));
      for (const m of c.metrics) {
        out.push(`${head},${kase},${params},${quote(m.name)},${m.value},${quote(m.unit)},${m.better},${error}`);
        wrote = true;
      }
    }
    if (!wrote) out.push(`${head},,,,,,,${error}`);
  }
  return out.join("\n") + "\n";
}
