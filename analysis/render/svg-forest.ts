/**
 * Forest plots: one row per metric, one column per environment (or one column), a mark at the
 * performance ratio with its interval as whiskers, on a log axis through x1 (native). The margin of
 * equivalence is a pale band, the study's figure an orange hollow diamond (its range an orange band),
 * native's A/A noise floor a reddish-purple band; a TCG guest's column gets its own axis and never a
 * study mark. Syntax only: callers supply the numbers.
 */
import { esc, f, legendItem, mark, MARK_STYLE, STUDY_COLOR, ratioTicks, type MarkClass } from "./svg.ts";

export interface ForestMark {
  readonly value: number | null;
  readonly low: number | null;
  readonly high: number | null;
  readonly klass: MarkClass;
  /** Short text under or beside the mark ("x0.96 slower"). */
  readonly text: string;
  readonly tooltip: string;
  readonly study: number | null;
  readonly studyRange: readonly [number, number] | null;
  /** Relative margin of equivalence to shade (0.02), or null. */
  readonly margin: number | null;
  /** Native's A/A noise floor of the row (performance orientation), or null. */
  readonly noise?: readonly [number, number] | null;
  /** Not comparable (a TCG guest): left out of the axis fit, cut at the edge when beyond it. */
  readonly outlier?: boolean;
}

export interface ForestColumn {
  readonly title: string;
  readonly marks: readonly (ForestMark | null)[];
  /** Not comparable with the others (a TCG guest): an axis of its own. */
  readonly ownAxis?: boolean;
  /** The column header's tooltip (a TCG guest: why it ran without KVM). */
  readonly note?: string;
}

export interface ForestOptions {
  readonly title: string;
  readonly rowLabels: readonly string[];
  readonly columns: readonly ForestColumn[];
  readonly xLabel: string;
  /** Draw a separator above this row (the geometric-mean row). */
  readonly separatorBefore?: number;
  readonly chartId?: string;
  /** What the marks are against, in the legend ("better than <baseline>"); default native. */
  readonly baseline?: string;
}

type Axis = { lo: number; hi: number };

function axisOf(columns: readonly ForestColumn[], own = false): Axis {
  const marks = columns.flatMap((c) => c.marks.filter((m): m is ForestMark => m !== null));
  const fitted = !own && marks.some((m) => !m.outlier) ? marks.filter((m) => !m.outlier) : marks;
  const values = fitted.flatMap((m) => ([m.value, m.low, m.high, m.study, ...(m.studyRange ?? []), ...(m.noise ?? []), ...(m.margin ? [1 + m.margin, 1 / (1 + m.margin)] : [])]))
    .filter((v): v is number => v !== null && v > 0 && Number.isFinite(v));
  const lo = Math.max(0.005, Math.min(1 / 1.05, ...values.map((v) => v / 1.04)));
  const hi = Math.min(200, Math.max(1.05, ...values.map((v) => v * 1.04)));
  return { lo, hi };
}

const LABEL_W = 300, TOP_BASE = 58, BOTTOM = 66, ROW_SINGLE = 24, ROW_MULTI = 36;

function markCell(m: ForestMark, x: (v: number) => number, axis: Axis, y: number, rowH: number, left: number, width: number, multi: boolean): string {
  const parts: string[] = [];
  const mid = y + (multi ? 13 : rowH / 2);
  const clamp = (v: number) => Math.min(axis.hi, Math.max(axis.lo, v));
  if (m.margin) {
    const a = x(clamp(1 / (1 + m.margin))), b = x(clamp(1 + m.margin));
    parts.push(`<rect class="band" x="${f(a)}" y="${f(mid - 9)}" width="${f(b - a)}" height="18"><title>margin of equivalence ±${(m.margin * 100).toFixed(0)} %</title></rect>`);
  }
  if (m.noise) {
    const a = x(clamp(m.noise[0])), b = x(clamp(m.noise[1]));
    parts.push(`<rect class="nband" data-noise="floor" x="${f(a)}" y="${f(mid - 4)}" width="${f(Math.max(2, b - a))}" height="8"><title>noise floor (native's A/A copy against native): x${m.noise[0].toFixed(3)}..x${m.noise[1].toFixed(3)}</title></rect>`);
  }
  if (m.studyRange) {
    const a = x(clamp(m.studyRange[0])), b = x(clamp(m.studyRange[1]));
    parts.push(`<rect class="sband" data-study="range" x="${f(a)}" y="${f(mid - 6)}" width="${f(Math.max(2, b - a))}" height="12"><title>study (approximate, from its text): x${m.studyRange[0]}..x${m.studyRange[1]}</title></rect>`);
  }
  const st = MARK_STYLE[m.klass];
  if (m.value !== null && m.value > 0) {
    if (m.low !== null && m.high !== null) {
      const a = x(clamp(m.low)), b = x(clamp(m.high));
      parts.push(`<path class="whisker" stroke="${st.color}" d="M${f(a)},${f(mid)}H${f(b)}M${f(a)},${f(mid - 4)}V${f(mid + 4)}M${f(b)},${f(mid - 4)}V${f(mid + 4)}"/>`);
    }
    const out = m.value < axis.lo || m.value > axis.hi;
    const px = x(clamp(m.value));
    parts.push(`<g class="mark" data-class="${m.klass}"><title>${esc(m.tooltip)}</title>${mark(st.shape, px, mid, 5, st.color, st.fill)}</g>`);
    // Beyond the axis: the mark sits on the edge with a double chevron pointing outward, inside the plot.
    if (out) { const dir = m.value > axis.hi ? 1 : -1; const cx = px - dir * 9; parts.push(`<path class="cut" d="M${f(cx)},${f(mid - 4)}l${4 * dir},4l${-4 * dir},4M${f(cx - dir * 4)},${f(mid - 4)}l${4 * dir},4l${-4 * dir},4"><title>beyond the axis: ${esc(m.text)}</title></path>`); }
  }
  if (m.study !== null && m.study >= axis.lo && m.study <= axis.hi && !m.studyRange) {
    parts.push(`<g data-study="figure"><title>study: x${m.study.toFixed(3)}</title>${mark("diamond", x(m.study), mid, 5.5, STUDY_COLOR, false, ' stroke-width="2"')}</g>`);
  }
  const tx = multi ? left + width / 2 : left + width + 10;
  parts.push(`<text class="val" x="${f(tx)}" y="${f(multi ? y + 31 : mid + 4)}"${multi ? ' text-anchor="middle"' : ""}>${esc(m.text)}</text>`);
  return parts.join("");
}

/** A forest plot; one column gives a narrow chart with the text right of the marks. */
export function forestChart(o: ForestOptions): string {
  // A column title may have two lines ("\n"): the plot moves down by the extra lines.
  const headLines = Math.max(1, ...o.columns.map((c) => c.title.split("\n").length));
  const TOP = TOP_BASE + 14 * (headLines - 1);
  const multi = o.columns.length > 1;
  const colW = multi ? Math.max(150, Math.min(210, Math.floor(900 / o.columns.length))) : 380;
  const gap = multi ? 26 : 0;
  const textW = multi ? 0 : 330;
  const rowH = multi ? ROW_MULTI : ROW_SINGLE;
  const width = Math.max(980, LABEL_W + 14 + o.columns.length * (colW + gap) + textW);
  const height = TOP + o.rowLabels.length * rowH + BOTTOM + 14 * Math.max(0, o.xLabel.split("\n").length - 2);
  const shared = axisOf(o.columns.filter((c) => !c.ownAxis));
  const parts: string[] = [`<text x="4" y="18" class="ct">${esc(o.title)}</text>`];
  // Legend: one line under the title.
  let lx = 4;
  for (const k of ["better", "worse", "equivalent", "inconclusive", "none"] as const) {
    const label = k === "none" ? "no verdict" : o.baseline ? MARK_STYLE[k].label.replace(/ native$/, ` ${o.baseline}`) : MARK_STYLE[k].label;
    parts.push(legendItem(lx, 38, MARK_STYLE[k].shape, MARK_STYLE[k].color, MARK_STYLE[k].fill, label));
    lx += k === "none" ? 95 : label.length * 6.2 + 30;
  }
  parts.push(legendItem(lx, 38, "diamond", STUDY_COLOR, false, "study"));
  if (o.columns.some((c) => c.marks.some((m) => m?.noise))) parts.push(`<rect class="nband" x="${f(lx + 62)}" y="31" width="18" height="8"/><text class="lbl" x="${f(lx + 84)}" y="38">A/A noise floor</text>`);
  const plotBottom = TOP + o.rowLabels.length * rowH;
  o.rowLabels.forEach((_, i) => { if (i % 2 === 1) parts.push(`<rect x="0" y="${f(TOP + i * rowH)}" width="${width}" height="${rowH}" fill="#f6f6f6"/>`); });
  o.rowLabels.forEach((label, i) => {
    const y = TOP + i * rowH;
    const shown = label.length > 46 ? `${label.slice(0, 22)}…${label.slice(-23)}` : label;
    parts.push(`<text class="lbl" data-row="${esc(label)}" x="${LABEL_W - 8}" y="${f(y + (multi ? 17 : rowH / 2 + 4))}" text-anchor="end"><title>${esc(label)}</title>${esc(shown)}</text>`);
    if (o.separatorBefore === i) parts.push(`<line class="sep" x1="0" x2="${width}" y1="${f(y)}" y2="${f(y)}"/>`);
  });
  o.columns.forEach((col, ci) => {
    const left = LABEL_W + 14 + ci * (colW + gap);
    const axis = col.ownAxis ? axisOf([col], true) : shared;
    const x = (v: number) => left + ((Math.log(v) - Math.log(axis.lo)) / (Math.log(axis.hi) - Math.log(axis.lo))) * colW;
    if (multi) {
      const lines = col.title.split("\n");
      const text = lines.length === 1 ? esc(col.title) : lines.map((l, li) => `<tspan x="${f(left + colW / 2)}" dy="${li === 0 ? 0 : 14}">${esc(l)}</tspan>`).join("");
      parts.push(`<text class="hdr" x="${f(left + colW / 2)}" y="${TOP - 6 - 14 * (lines.length - 1)}" text-anchor="middle">${col.note ? `<title>${esc(col.note)}</title>` : ""}${text}</text>`);
    }
    for (const t of ratioTicks(axis.lo, axis.hi, x).filter((t) => x(t) - left >= 10 && left + colW - x(t) >= 10)) {
      parts.push(`<line class="${t === 1 ? "one" : "grid"}" x1="${f(x(t))}" x2="${f(x(t))}" y1="${TOP}" y2="${plotBottom}"/><text class="tick" x="${f(x(t))}" y="${plotBottom + 14}" text-anchor="middle">x${t}</text>`);
    }
    if (col.ownAxis) parts.push(`<text class="tick" x="${f(left + colW / 2)}" y="${plotBottom + 28}" text-anchor="middle">own axis (not comparable)</text>`);
    const cells = col.marks.map((m, i) => {
      const y = TOP + i * rowH;
      return m ? markCell(m, x, axis, y, rowH, left, colW, multi) : `<text class="gap" x="${f(left + colW / 2)}" y="${f(y + (multi ? 17 : rowH / 2 + 4))}" text-anchor="middle">not run</text>`;
    });
    parts.push(`<g class="col" data-column="${esc(col.title.replace(/\n/g, " "))}" data-own-axis="${col.ownAxis ? "true" : "false"}">${cells.join("")}</g>`);
  });
  o.xLabel.split("\n").forEach((line, i, all) => parts.push(`<text class="lbl" x="${LABEL_W}" y="${height - 8 - (all.length - 1 - i) * 14}">${esc(line)}</text>`));
  return `<svg class="chart" data-chart="forest"${o.chartId ? ` id="${esc(o.chartId)}"` : ""} viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(o.title)}">${parts.join("")}</svg>`;
}
