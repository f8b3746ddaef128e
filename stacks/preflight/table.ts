/** The pre-flight checks as a terminal table: check, result, for whom, what was seen; the fix under each one not ok. Pure. */
import type { Check, CheckStatus } from "./checks.ts";

const LABEL: Record<CheckStatus, string> = { ok: "ok", warn: "WARN", fail: "FAIL", skip: "skip" };

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) { out.push(line); line = word; } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out.length ? out : [""];
}

export function renderChecks(checks: readonly Check[], width = Math.max(110, process.stdout.columns ?? 140)): string {
  const w1 = Math.max(5, ...checks.map((c) => c.title.length));
  const w3 = Math.min(28, Math.max(3, ...checks.map((c) => c.for.join(", ").length)));
  const detailW = Math.max(30, width - w1 - w3 - 12);
  const pad = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));
  const lines = [`${pad("check", w1)}  result  ${pad("for", w3)}  detail`];
  for (const c of checks) {
    const [first, ...rest] = wrap(c.detail, detailW);
    lines.push(`${pad(c.title, w1)}  ${LABEL[c.status].padEnd(6)}  ${pad(c.for.join(", "), w3)}  ${first}`);
    for (const r of rest) lines.push(`${" ".repeat(w1 + w3 + 12)}${r}`);
    if (c.fix && c.status !== "ok" && c.status !== "skip") {
      for (const [i, f] of wrap(c.fix, detailW).entries()) lines.push(`${" ".repeat(w1 + w3 + 12)}${i === 0 ? "fix: " : "     "}${f}`);
    }
  }
  const n = (s: CheckStatus) => checks.filter((c) => c.status === s).length;
  lines.push(`${checks.length} checks: ${n("ok")} ok, ${n("warn")} warnings, ${n("fail")} failed${n("skip") ? `, ${n("skip")} not run` : ""}`);
  return lines.join("\n");
}
