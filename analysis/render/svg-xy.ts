/**
 * x-y charts: curves against concurrency (medians with interval whiskers, one line per environment, the
 * study's bands beside them), run-order plots (every trial at its schedule position) and per-trial strip
 * plots. A log axis says "log scale" in its label. Syntax only: callers supply the numbers.
 */
import { busyRing, esc, f, mark, markPath, niceTicks, tickText, type Shape } from "./svg.ts";

export interface XYPoint {
  readonly x: number;
  readonly y: number;
  readonly low?: number | null;
  readonly high?: number | null;
  readonly tooltip: string;
  /** Drawn hollow (a warm-up trial or a superseded record: not in the statistics). */
  readonly hollow?: boolean;
  /** Ringed: the trial ran on a busy host. */
  readonly ring?: boolean;
}

export interface XYSeries {
  readonly name: string;
  readonly color: string;
  readonly shape: Shape;
  readonly points: readonly XYPoint[];
  /** Join the points with a line. */
  readonly line: boolean;
}

/** A shaded band: y from low to high (low null: from the axis), over x from..to (null: the whole axis). */
export interface XYBand {
  readonly low: number | null;
  readonly high: number;
  readonly from: number | null;
  readonly to: number | null;
  readonly color: string;
  readonly tooltip: string;
}

export interface XYOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly logX?: boolean;
  /** true, false, or undefined: log when positive values spread over more than 1.5 decades. */
  readonly logY?: boolean;
  readonly xCategories?: readonly string[];
  /** A dashed horizontal line (x1 on ratio charts). */
  readonly yRule?: number;
  readonly bands?: readonly XYBand[];
  readonly kind: string;
  readonly legendNote?: string;
}

/** Above this many points a chart draws them without tooltips. */
const MAX_TOOLTIPS = 400;

export function xyChart(o: XYOptions, series: readonly XYSeries[]): string {
  const left = 84, plotW = 540, plotH = 250, top = 34, legendW = 220;
  const width = left + plotW + legendW, height = top + plotH + 52;
  const pts = series.flatMap((s) => s.points);
  const ys = [...pts.flatMap((p) => [p.y, p.low ?? p.y, p.high ?? p.y]), ...(o.bands ?? []).flatMap((b) => [b.high, b.low ?? b.high]), ...(o.yRule ? [o.yRule] : [])];
  const positive = ys.filter((v) => v > 0);
  const logY = o.logY ?? (positive.length === ys.length && positive.length > 0 && Math.max(...positive) / Math.min(...positive) > 30);
  const yv = logY ? positive : ys;
  const xs = pts.map((p) => p.x);
  const logX = !!o.logX && xs.length > 0 && Math.min(...xs) > 0;
  let [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  if (x0 === x1) { x0 = logX ? x0 / 2 : x0 - 1; x1 = logX ? x1 * 2 : x1 + 1; }
  if (logX) { x0 /= 1.15; x1 *= 1.15; } else { const pad = (x1 - x0) * 0.03; x0 -= pad; x1 += pad; }
  let [y0, y1] = yv.length ? (logY ? [Math.min(...yv) / 1.15, Math.max(...yv) * 1.15] : [Math.min(0, ...yv), Math.max(...yv) * 1.1]) : [0, 1];
  if (!(y1 > y0)) { y0 = logY ? y1 / 2 : 0; y1 = logY ? y1 * 2 : 1; }
  const tx = (v: number) => (logX ? Math.log(v) : v);
  const ty = (v: number) => (logY ? Math.log(v) : v);
  const X = (v: number) => left + ((tx(v) - tx(x0)) / (tx(x1) - tx(x0) || 1)) * plotW;
  const Y = (v: number) => top + plotH - ((ty(Math.max(v, logY ? y0 : -Infinity)) - ty(y0)) / (ty(y1) - ty(y0) || 1)) * plotH;
  const parts: string[] = [`<text x="4" y="18" class="ct">${esc(o.title)}</text>`];
  for (const t of niceTicks(y0, y1, logY)) parts.push(`<line class="grid" x1="${left}" x2="${left + plotW}" y1="${f(Y(t))}" y2="${f(Y(t))}"/><text class="tick" x="${left - 6}" y="${f(Y(t) + 4)}" text-anchor="end">${tickText(t)}</text>`);
  for (const b of o.bands ?? []) {
    const a = b.from === null ? left : X(b.from / (logX ? 1.08 : 1)), z = b.to === null ? left + plotW : X(b.to * (logX ? 1.08 : 1));
    const yTop = Y(b.high), yBot = b.low === null ? top + plotH : Y(b.low);
    parts.push(`<rect class="sband" data-study="band" x="${f(Math.max(left, a - (b.from === b.to && b.from !== null ? 6 : 0)))}" y="${f(yTop)}" width="${f(Math.max(4, Math.min(left + plotW, z) - Math.max(left, a) + (b.from === b.to && b.from !== null ? 12 : 0)))}" height="${f(Math.max(2, yBot - yTop))}" style="stroke:${b.color};fill:${b.color}"><title>${esc(b.tooltip)}</title></rect>`);
  }
  if (o.yRule !== undefined) parts.push(`<line class="one" x1="${left}" x2="${left + plotW}" y1="${f(Y(o.yRule))}" y2="${f(Y(o.yRule))}"/>`);
  const xTicks = o.xCategories ? o.xCategories.map((_, i) => i) : xs.length > 14 ? niceTicks(Math.max(x0, logX ? x0 : 0), x1, logX) : [...new Set(xs)].sort((a, b) => a - b);
  for (const t of xTicks) parts.push(`<text class="tick" x="${f(X(t))}" y="${top + plotH + 16}" text-anchor="middle">${esc(o.xCategories?.[t] ?? tickText(t))}</text>`);
  parts.push(`<path class="axis" d="M${left},${top}V${top + plotH}H${left + plotW}"/>`);
  parts.push(`<text class="lbl" x="${left + plotW / 2}" y="${top + plotH + 36}" text-anchor="middle">${esc(logX ? `${o.xLabel} (log scale)` : o.xLabel)}</text>`);
  parts.push(`<text class="lbl" transform="translate(14,${top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(logY ? `${o.yLabel}, log scale` : o.yLabel)}</text>`);
  const many = pts.length > MAX_TOOLTIPS;
  series.forEach((s, i) => {
    const ok = s.points.filter((p) => !logY || p.y > 0);
    if (s.line && ok.length > 1) parts.push(`<polyline class="line" stroke="${s.color}" points="${ok.map((p) => `${f(X(p.x))},${f(Y(p.y))}`).join(" ")}"/>`);
    if (many) {
      // Thousands of trials (a long run's run-order plot): one path per series and fill, no tooltips.
      for (const hollow of [false, true]) {
        const d = ok.filter((p) => !!p.hollow === hollow).map((p) => markPath(s.shape, X(p.x), Y(p.y), 2.6)).join("");
        if (d) parts.push(`<path class="pts" d="${d}" fill="${hollow ? "#fff" : s.color}" stroke="${s.color}" stroke-width="1"/>`);
      }
      const rings = ok.filter((p) => p.ring).map((p) => markPath("circle", X(p.x), Y(p.y), 5)).join("");
      if (rings) parts.push(`<path class="busy" d="${rings}" fill="none" stroke="#000" stroke-width="1" stroke-dasharray="2 1.5"/>`);
    }
    for (const p of many ? [] : ok) {
      if (p.low != null && p.high != null && (!logY || p.low > 0)) parts.push(`<path class="whisker" stroke="${s.color}" d="M${f(X(p.x))},${f(Y(p.low))}V${f(Y(p.high))}M${f(X(p.x) - 4)},${f(Y(p.low))}h8M${f(X(p.x) - 4)},${f(Y(p.high))}h8"/>`);
      parts.push(`<g class="pt"${p.ring ? ' data-busy="true"' : ""}><title>${esc(p.tooltip)}</title>${mark(s.shape, X(p.x), Y(p.y), 3.6, s.color, !p.hollow)}${p.ring ? busyRing(X(p.x), Y(p.y), 6.5) : ""}</g>`);
    }
    const ly = top + 10 + i * 18;
    parts.push(`${mark(s.shape, left + plotW + 22, ly - 3, 4.5, s.color, true)}<text class="lbl" x="${left + plotW + 34}" y="${ly + 1}">${esc(s.name)}</text>`);
  });
  o.legendNote?.split("\n").forEach((line, i) => parts.push(`<text class="tick" x="${left + plotW + 16}" y="${top + 16 + series.length * 18 + i * 14}">${esc(line)}</text>`));
  return `<svg class="chart" data-chart="${esc(o.kind)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(o.title)}">${parts.join("")}</svg>`;
}

export interface StripRow {
  readonly label: string;
  readonly color: string;
  readonly shape: Shape;
  readonly values: readonly number[];
  readonly median: number | null;
  readonly low: number | null;
  readonly high: number | null;
  readonly tooltip: string;
  /** Values (by index) of trials that ran on a busy host, with why: drawn filled and ringed. */
  readonly busy?: ReadonlyMap<number, string>;
}

/** Above this many trials a row shows its box (quartiles, min..max) instead of every dot. */
const MAX_DOTS = 60;

function quartiles(values: readonly number[]): [number, number] {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => { const i = (s.length - 1) * p; const lo = Math.floor(i); return s[lo]! + (s[Math.ceil(i)]! - s[lo]!) * (i - lo); };
  return [q(0.25), q(0.75)];
}

/** Per-trial dots (or a box beyond MAX_DOTS) per environment, the median as a bar, its interval as whiskers. */
export function stripChart(title: string, unit: string, rows: readonly StripRow[]): string {
  const left = 170, plotW = 520, rowH = 22, top = 30;
  const busyNote = rows.some((r) => r.busy?.size) ? "filled and ringed: the trial ran on a busy host (in the statistics; hover for why)" : "";
  const width = left + plotW + 30, height = top + rows.length * rowH + 40 + (busyNote ? 14 : 0);
  const all = rows.flatMap((r) => [...r.values, ...(r.low !== null ? [r.low] : []), ...(r.high !== null ? [r.high] : [])]);
  const pos = all.filter((v) => v > 0);
  const log = pos.length === all.length && pos.length > 0 && Math.max(...pos) / Math.min(...pos) > 30;
  let lo = Math.min(...all), hi = Math.max(...all);
  if (!(hi > lo)) { lo = log ? lo / 1.1 : lo - Math.abs(lo) * 0.05 - 1e-9; hi = log ? hi * 1.1 : hi + Math.abs(hi) * 0.05 + 1e-9; }
  const pad = log ? 1.05 : (hi - lo) * 0.05;
  if (log) { lo /= pad; hi *= pad; } else { lo -= pad; hi += pad; }
  const t = (v: number) => (log ? Math.log(v) : v);
  const X = (v: number) => left + ((t(v) - t(lo)) / (t(hi) - t(lo))) * plotW;
  const parts: string[] = [`<text x="4" y="16" class="ct">${esc(title)}</text>`];
  for (const tk of niceTicks(lo, hi, log)) parts.push(`<line class="grid" x1="${f(X(tk))}" x2="${f(X(tk))}" y1="${top}" y2="${top + rows.length * rowH}"/><text class="tick" x="${f(X(tk))}" y="${top + rows.length * rowH + 14}" text-anchor="middle">${tickText(tk)}</text>`);
  rows.forEach((r, i) => {
    const mid = top + i * rowH + rowH / 2;
    parts.push(`<text class="lbl" x="${left - 8}" y="${f(mid + 4)}" text-anchor="end"><title>${esc(r.tooltip)}</title>${esc(r.label)}</text>`);
    if (r.values.length > MAX_DOTS) {
      const [q1, q3] = quartiles(r.values);
      parts.push(`<path class="whisker" stroke="${r.color}" d="M${f(X(Math.min(...r.values)))},${f(mid)}H${f(X(Math.max(...r.values)))}"/><rect x="${f(X(q1))}" y="${f(mid - 6)}" width="${f(Math.max(1, X(q3) - X(q1)))}" height="12" fill="none" stroke="${r.color}" stroke-width="1.5"><title>box: quartiles; line: min..max (${r.values.length} trials)</title></rect>`);
    } else {
      r.values.forEach((v, k) => {
        const busy = r.busy?.get(k);
        const y = mid + ((k % 5) - 2) * 1.6;
        if (busy === undefined) parts.push(`<g class="dot"><title>${esc(`${r.label}: ${v} ${unit}`)}</title>${mark(r.shape, X(v), y, 3, r.color, false)}</g>`);
        else parts.push(`<g class="dot" data-busy="true"><title>${esc(`${r.label}: ${v} ${unit}; ran on a busy host (in the statistics): ${busy}`)}</title>${mark(r.shape, X(v), y, 3, r.color, true)}${busyRing(X(v), y, 6)}</g>`);
      });
    }
    if (r.low !== null && r.high !== null) parts.push(`<path class="whisker" stroke="#000" d="M${f(X(r.low))},${f(mid + 8)}H${f(X(r.high))}"/>`);
    if (r.median !== null) parts.push(`<line x1="${f(X(r.median))}" x2="${f(X(r.median))}" y1="${f(mid - 8)}" y2="${f(mid + 8)}" stroke="#000" stroke-width="2"/>`);
  });
  parts.push(`<text class="lbl" x="${left}" y="${height - 6 - (busyNote ? 14 : 0)}">${esc(`${unit}${log ? ", log scale" : ""}: each trial a mark; bar: median; line below: interval of the median`)}</text>`);
  if (busyNote) parts.push(`<text class="lbl" x="${left}" y="${height - 6}">${esc(busyNote)}</text>`);
  return `<svg class="chart" data-chart="strip" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(title)}">${parts.join("")}</svg>`;
}
