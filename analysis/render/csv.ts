/**
 * results.csv: tidy data for pandas and R, one row per metric value of each trial (RFC 4180 quoting).
 * A failed trial gives one row with empty metric and value (NA), so failures are visible, not dropped;
 * warm-up trials are kept and marked (filter on `warmup` and `status`), and so are trials that ran on a
 * busy host (`contaminated`, with its reasons), A/A copies (`calibrationOf`) and what isolates a gVisor
 * environment (`isolation`, its runtime label); records superseded by
 * another attempt of the same trial are not rows (the report lists them). Text cells that a spreadsheet
 * would run as a formula (leading = + - @ tab or CR) get a leading ' (OWASP CSV injection); numbers stay
 * numbers.
 */
import type { LocatedRecord } from "../load.ts";

export const CSV_COLUMNS = [
  "stack", "run", "host", "profile", "environment", "kind", "acceleration", "workload", "rep", "order", "warmup",
  "status", "startedAt", "tool", "toolVersion", "case", "params", "metric", "value", "unit", "better", "error",
  "calibrationOf", "accelerationReason", "contaminated", "contaminationReasons", "isolation",
] as const;

/** A text cell no spreadsheet runs as a formula. */
export function guardFormula(s: string): string {
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

function quote(v: string | number | boolean | null): string {
  if (v === null) return "";
  const s = typeof v === "string" ? guardFormula(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * Writes the CSV to `sink` in chunks of about `CHUNK_LINES` lines (a 100,000-record run gives over a
 * million rows: one giant string would cost more memory and time than the rows themselves).
 */
export function renderCsv(records: readonly LocatedRecord[], sink: (chunk: string) => void): void {
  const CHUNK_LINES = 8192;
  let out: string[] = [CSV_COLUMNS.join(",")];
  const quoted = new Map<string, string>();
  const q = (s: string) => {
    let v = quoted.get(s);
    if (v === undefined) quoted.set(s, (v = quote(s)));
    return v;
  };
  const flush = () => { sink(out.join("\n") + "\n"); out = []; };
  for (const { record: r } of records) {
    const head = [r.stack, r.run, r.host, r.profile, r.environment, r.kind, r.acceleration, r.workload, r.rep, r.order, r.warmup, r.status, r.startedAt, r.tool.name, r.tool.version].map(quote).join(",");
    const c = r.contamination;
    const tail = [quote(r.error ? r.error.message : null), quote(r.calibrationOf ?? null), quote(r.accelerationReason ?? null), c ? c.flagged : "", quote(c ? c.reasons.join("; ") : null), quote(r.isolation ?? null)].join(",");
    let wrote = false;
    for (const c of r.cases) {
      const prefix = `${head},${q(c.case)},${quote(JSON.stringify(c.params))},`;
      for (const m of c.metrics) {
        out.push(`${prefix}${q(m.name)},${m.value},${q(m.unit)},${m.better},${tail}`);
        wrote = true;
      }
    }
    if (!wrote) out.push(`${head},,,,,,,${tail}`);
    if (out.length >= CHUNK_LINES) flush();
  }
  if (out.length) flush();
}
