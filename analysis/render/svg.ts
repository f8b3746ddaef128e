/**
 * Inline SVG charts for report.html, drawn from plain data (no library, no network): a ratio chart
 * (bars from 1 to each ratio with interval whiskers, the study's ratio as a diamond) and a line chart
 * (medians with interval whiskers, one line per environment). Syntax only: callers supply the numbers.
 */
export function esc(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}

const PALETTE = ["#1b6ca8", "#d1495b", "#2e933c", "#edae49", "#6a4c93", "#00798c", "#8c564b", "#e377c2", "#555555"];
export function colorOf(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

const VERDICT_COLOR: Record<string, string> = { faster: "#2e933c", slower: "#d1495b", indistinguishable: "#9a9a9a" };

export interface RatioBar {
  readonly label: string;
  readonly ratio: number | null;
  readonly low: number | null;
  readonly high: number | null;
  readonly verdict: string | null;
  /** Text shown right of the bar. */
  readonly text: string;
  readonly tooltip: string;
  readonly reference: number | null;
  /**
   * Not comparable with the others (a TCG guest): the axis is fitted to the other bars, and this bar is
   * cut at the axis edge (marked, its value in the text) rather than squashing every other bar.
   */
  readonly outlier?: boolean;
}

const f = (v: number) => v.toFixed(1);

/** Axis limits of a ratio chart: the values' range on a log scale, at least x0.8..x1.25, at most x0.01..x100. */
function ratioAxis(bars: readonly RatioBar[]): { lo: number; hi: number } {
  const fitted = bars.some((b) => !b.outlier) ? bars.filter((b) => !b.outlier) : bars;
  const values = fitted.flatMap((b) => [b.ratio, b.low, b.high, b.reference]).filter((v): v is number => v !== null && v > 0);
  const lo = Math.max(0.01, Math.min(0.8, ...values.map((v) => v / 1.08)));
  const hi = Math.min(100, Math.max(1.25, ...values.map((v) => v * 1.08)));
  return { lo, hi };
}

/** Ticks at least `minGap` px apart, kept outward from x1 (always shown). */
function ratioTicks(lo: number, hi: number, x: (v: number) => number, minGap = 34): number[] {
  const candidates = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 0.8, 1.25, 2, 5, 10, 20, 50, 100].filter((t) => t >= lo && t <= hi);
  const kept = [1];
  for (const side of [candidates.filter((t) => t < 1).reverse(), candidates.filter((t) => t > 1)]) {
    let last = x(1);
    for (const t of side) if (Math.abs(x(t) - last) >= minGap) { kept.push(t); last = x(t); }
  }
  return kept.sort((a, b) => a - b);
}

/** Horizontal bars of ratio to native on a log axis centred on 1. */
export function ratioChart(title: string, bars: readonly RatioBar[]): string {
  const rowH = 22, left = 340, plotW = 360, textW = 330, top = 34, bottom = 30;
  const width = left + plotW + textW;
  const { lo, hi } = ratioAxis(bars);
  const cut = bars.some((b) => b.ratio !== null && b.ratio > 0 && (b.ratio < lo || b.ratio > hi));
  const height = top + bars.length * rowH + bottom + (cut ? 18 : 0);
  const axisY = top + bars.length * rowH;
  // Values beyond the axis (outliers, or beyond x0.01..x100) are drawn to its edge.
  const x = (v: number) => left + ((Math.log(Math.min(hi, Math.max(lo, v))) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))) * plotW;
  const ticks = ratioTicks(lo, hi, x);
  const parts: string[] = [
    `<text x="4" y="18" class="ct">${esc(title)}</text>`,
    ...ticks.map((t) => `<line x1="${f(x(t))}" x2="${f(x(t))}" y1="${top - 6}" y2="${axisY}" class="${t === 1 ? "one" : "grid"}"/><text x="${f(x(t))}" y="${axisY + 16}" class="tick" text-anchor="middle">x${t}</text>`),
  ];
  if (cut) parts.push(`<text x="${left}" y="${axisY + 36}" class="tick">Zigzag: the bar goes on beyond the axis (a TCG guest, not comparable); its ratio is on the right.</text>`);
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    const mid = y + rowH / 2;
    // Long labels are cut to fit the margin; the full text is in the bar's tooltip and the table.
    const label = b.label.length > 50 ? `${b.label.slice(0, 24)}…${b.label.slice(-25)}` : b.label;
    parts.push(`<text x="${left - 8}" y="${mid + 4}" text-anchor="end" class="lbl"><title>${esc(b.label)}</title>${esc(label)}</text>`);
    if (b.ratio !== null && b.ratio > 0) {
      const x0 = Math.min(x(1), x(b.ratio));
      const w = Math.max(1, Math.abs(x(b.ratio) - x(1)));
      parts.push(`<rect class="bar" data-verdict="${b.verdict ?? "none"}" x="${f(x0)}" y="${y + 4}" width="${f(w)}" height="${rowH - 8}" fill="${VERDICT_COLOR[b.verdict ?? ""] ?? "#cccccc"}"><title>${esc(b.tooltip)}</title></rect>`);
      if (b.low !== null && b.high !== null) {
        parts.push(`<path class="whisker" d="M${f(x(b.low))},${mid}H${f(x(b.high))}M${f(x(b.low))},${mid - 5}V${mid + 5}M${f(x(b.high))},${mid - 5}V${mid + 5}"/>`);
      }
      if (b.ratio < lo || b.ratio > hi) {
        // A cut bar: a white zigzag across its end says the bar goes on beyond the axis.
        const edge = b.ratio < lo ? left + 7 : left + plotW - 7;
        parts.push(`<path class="cut" d="M${f(edge - 3)},${y + 2}l6,${(rowH - 4) / 3}l-6,${(rowH - 4) / 3}l6,${(rowH - 4) / 3}"><title>beyond the axis: ${esc(b.text)}</title></path>`);
      }
    } else {
      parts.push(`<text x="${f(x(1) + 6)}" y="${mid + 4}" class="gap">${esc(b.text)}</text>`);
    }
    if (b.reference !== null && b.reference >= lo && b.reference <= hi) {
      const rx = x(b.reference);
      parts.push(`<path class="ref" d="M${f(rx)},${mid - 6}L${f(rx + 5)},${mid}L${f(rx)},${mid + 6}L${f(rx - 5)},${mid}Z"><title>study: x${b.reference.toFixed(2)}</title></path>`);
    }
    if (b.ratio !== null) parts.push(`<text x="${left + plotW + 10}" y="${mid + 4}" class="val">${esc(b.text)}</text>`);
  });
  return `<svg class="chart" data-chart="ratio" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(title)}">${parts.join("")}</svg>`;
}

export interface LinePoint {
  readonly x: number;
  readonly y: number;
  readonly low: number | null;
  readonly high: number | null;
  readonly tooltip: string;
}

export interface LineSeries {
  readonly name: string;
  readonly color: string;
  readonly points: readonly LinePoint[];
}

export interface LineChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly logX?: boolean;
  readonly logY?: boolean;
  /** Category labels for x (x values are then their indices). */
  readonly xCategories?: readonly string[];
}

function niceTicks(lo: number, hi: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) for (const m of [1, 2, 5]) out.push(m * 10 ** e);
    return out.filter((t) => t >= lo * 0.999 && t <= hi * 1.001);
  }
  const step = 10 ** Math.floor(Math.log10((hi - lo) / 4 || 1));
  const mult = [1, 2, 5, 10].find((m) => (hi - lo) / (m * step) <= 6) ?? 10;
  const s = mult * step;
  const out: number[] = [];
  for (let t = Math.ceil(lo / s) * s; t <= hi + 1e-9; t += s) out.push(Number(t.toPrecision(6)));
  return out;
}

/** Medians against x, one line per series, whiskers for intervals, a legend on the right. */
export function lineChart(opts: LineChartOptions, series: readonly LineSeries[]): string {
  const left = 80, plotW = 520, plotH = 260, top = 34, legendW = 190;
  const width = left + plotW + legendW, height = top + plotH + 50;
  const pts = series.flatMap((s) => s.points);
  const xs = pts.map((p) => p.x);
  const positive = pts.flatMap((p) => [p.y, p.low ?? p.y, p.high ?? p.y]).filter((v) => v > 0);
  // Values spread over more than ~1.5 decades (a TCG guest beside native) would flatten the lower lines.
  const logY = opts.logY ?? (positive.length === pts.length * 3 && Math.max(...positive) / Math.min(...positive) > 30);
  const ys = pts.flatMap((p) => [p.y, p.low ?? p.y, p.high ?? p.y]).filter((v) => !logY || v > 0);
  const logX = !!opts.logX && Math.min(...xs) > 0;
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  let [y0, y1] = logY ? [Math.min(...ys) / 1.2, Math.max(...ys) * 1.2] : [0, Math.max(...ys) * 1.1];
  if (!(y1 > y0)) { y0 = 0; y1 = 1; }
  const tx = (v: number) => (logX ? Math.log(v) : v);
  const ty = (v: number) => (logY ? Math.log(v) : v);
  const X = (v: number) => left + ((tx(v) - tx(x0)) / (tx(x1) - tx(x0) || 1)) * plotW;
  const Y = (v: number) => top + plotH - ((ty(v) - ty(y0)) / (ty(y1) - ty(y0) || 1)) * plotH;
  const parts: string[] = [`<text x="4" y="18" class="ct">${esc(opts.title)}</text>`];
  for (const t of niceTicks(y0, y1, !!logY)) parts.push(`<line class="grid" x1="${left}" x2="${left + plotW}" y1="${f(Y(t))}" y2="${f(Y(t))}"/><text class="tick" x="${left - 6}" y="${f(Y(t) + 4)}" text-anchor="end">${Number(t.toPrecision(6))}</text>`);
  const xTicks = opts.xCategories ? opts.xCategories.map((_, i) => i) : [...new Set(xs)].sort((a, b) => a - b);
  for (const t of xTicks) parts.push(`<text class="tick" x="${f(X(t))}" y="${top + plotH + 16}" text-anchor="middle">${esc(opts.xCategories?.[t] ?? String(t))}</text>`);
  parts.push(`<path class="axis" d="M${left},${top}V${top + plotH}H${left + plotW}"/>`);
  parts.push(`<text class="lbl" x="${left + plotW / 2}" y="${top + plotH + 36}" text-anchor="middle">${esc(opts.xLabel)}</text>`);
  parts.push(`<text class="lbl" transform="translate(14,${top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(logY && !opts.logY ? `${opts.yLabel}, log scale` : opts.yLabel)}</text>`);
  series.forEach((s, i) => {
    const ok = s.points.filter((p) => !logY || p.y > 0);
    if (ok.length > 1) parts.push(`<polyline class="line" fill="none" stroke="${s.color}" points="${ok.map((p) => `${f(X(p.x))},${f(Y(p.y))}`).join(" ")}"/>`);
    for (const p of ok) {
      if (p.low !== null && p.high !== null && (!logY || p.low > 0)) parts.push(`<path class="whisker" stroke="${s.color}" d="M${f(X(p.x))},${f(Y(p.low))}V${f(Y(p.high))}M${f(X(p.x) - 4)},${f(Y(p.low))}h8M${f(X(p.x) - 4)},${f(Y(p.high))}h8"/>`);
      parts.push(`<circle class="pt" cx="${f(X(p.x))}" cy="${f(Y(p.y))}" r="3.5" fill="${s.color}"><title>${esc(p.tooltip)}</title></circle>`);
    }
    const ly = top + 10 + i * 18;
    parts.push(`<rect x="${left + plotW + 16}" y="${ly - 8}" width="12" height="12" fill="${s.color}"/><text class="lbl" x="${left + plotW + 34}" y="${ly + 2}">${esc(s.name)}</text>`);
  });
  return `<svg class="chart" data-chart="line" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(opts.title)}">${parts.join("")}</svg>`;
}

export const CHART_CSS = `
svg.chart{display:block;margin:12px 0 20px;font-family:system-ui,sans-serif;background:#fff;max-width:100%;height:auto}
svg .ct{font-size:14px;font-weight:600} svg .lbl{font-size:12px;fill:#222} svg .val{font-size:11.5px;fill:#333}
svg .tick{font-size:11px;fill:#666} svg .gap{font-size:12px;fill:#b00;font-style:italic}
svg .grid{stroke:#e4e4e4} svg .one{stroke:#333;stroke-dasharray:3 2} svg .axis{stroke:#444;fill:none}
svg .whisker{stroke:#222;stroke-width:1.4;fill:none} svg .line{stroke-width:2} svg .ref{fill:#f5c400;stroke:#7a6200} svg .cut{stroke:#fff;stroke-width:2.5;fill:none}
`;
