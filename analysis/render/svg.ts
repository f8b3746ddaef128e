/**
 * What every inline SVG chart of report.html shares: escaping, the two palettes, marks, log-axis ticks
 * and the CSS. Charts are hand-written SVG from plain data (no library, no script, nothing fetched);
 * callers supply every number.
 *
 * Colours (colour-blind safe, each with a shape, one meaning each):
 * - verdict marks (Okabe-Ito): blue triangle up = better than native, vermillion triangle down = worse,
 *   bluish-green diamond = equivalent within the margin, grey dot = inconclusive, hollow black circle =
 *   no verdict (supporting data, TCG guest, too few trials); the study's figure is an orange hollow
 *   diamond, its approximate range an orange band; the margin is a pale green band; native's A/A noise
 *   floor a reddish-purple band with solid edges.
 * - a trial that ran on a busy host: its mark filled and ringed by a dashed black circle (shape, not
 *   colour, carries it); a superseded record: hollow and ringed.
 * - environments (Paul Tol's "muted" set, used only in per-environment charts: curves, per-trial dots,
 *   run order), each with its own shape too.
 */
export function esc(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, "\ufffd")
    .replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}

export type MarkClass = "better" | "worse" | "equivalent" | "inconclusive" | "none";

export const MARK_STYLE: Readonly<Record<MarkClass, { color: string; shape: Shape; fill: boolean; label: string }>> = {
  better: { color: "#0072B2", shape: "up", fill: true, label: "better than native" },
  worse: { color: "#D55E00", shape: "down", fill: true, label: "worse than native" },
  equivalent: { color: "#009E73", shape: "diamond", fill: true, label: "equivalent within the margin" },
  inconclusive: { color: "#777777", shape: "circle", fill: true, label: "inconclusive" },
  none: { color: "#000000", shape: "circle", fill: false, label: "no verdict (supporting data, TCG guest or too few trials)" },
};
export const STUDY_COLOR = "#E69F00";
/** Native's A/A noise floor (Okabe-Ito reddish purple: no other meaning here). */
export const NOISE_COLOR = "#CC79A7";
export const MARGIN_FILL = "#e3f4ee";

export type Shape = "circle" | "square" | "up" | "down" | "diamond" | "cross" | "star";

const ENV_COLORS = ["#222222", "#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#CC6677", "#882255", "#AA4499", "#DDCC77"];
const ENV_SHAPES: readonly Shape[] = ["circle", "square", "up", "diamond", "down", "cross", "star", "square", "up", "diamond"];

/** Colour and shape of the i-th environment of a stack (native is first: dark grey circle). */
export function envStyle(index: number): { color: string; shape: Shape } {
  return { color: ENV_COLORS[index % ENV_COLORS.length]!, shape: ENV_SHAPES[index % ENV_SHAPES.length]! };
}

export const f = (v: number) => (Math.round(v * 10) / 10).toString();

/** A mark of `shape` centred at (x, y), radius r. */
export function mark(shape: Shape, x: number, y: number, r: number, color: string, filled: boolean, extra = ""): string {
  const paint = `fill="${filled ? color : "#fff"}" stroke="${color}" stroke-width="1.5"${extra}`;
  switch (shape) {
    case "circle": return `<circle cx="${f(x)}" cy="${f(y)}" r="${f(r)}" ${paint}/>`;
    case "square": return `<rect x="${f(x - r)}" y="${f(y - r)}" width="${f(2 * r)}" height="${f(2 * r)}" ${paint}/>`;
    case "up": return `<path d="M${f(x)},${f(y - r * 1.2)}L${f(x + r * 1.1)},${f(y + r * 0.8)}L${f(x - r * 1.1)},${f(y + r * 0.8)}Z" ${paint}/>`;
    case "down": return `<path d="M${f(x)},${f(y + r * 1.2)}L${f(x + r * 1.1)},${f(y - r * 0.8)}L${f(x - r * 1.1)},${f(y - r * 0.8)}Z" ${paint}/>`;
    case "diamond": return `<path d="M${f(x)},${f(y - r * 1.3)}L${f(x + r * 1.1)},${f(y)}L${f(x)},${f(y + r * 1.3)}L${f(x - r * 1.1)},${f(y)}Z" ${paint}/>`;
    case "cross": return `<path d="M${f(x - r)},${f(y - r)}L${f(x + r)},${f(y + r)}M${f(x - r)},${f(y + r)}L${f(x + r)},${f(y - r)}" fill="none" stroke="${color}" stroke-width="2"${extra}/>`;
    case "star": return `<path d="M${f(x)},${f(y - r * 1.3)}L${f(x + r * 0.4)},${f(y - r * 0.3)}L${f(x + r * 1.3)},${f(y - r * 0.3)}L${f(x + r * 0.6)},${f(y + r * 0.3)}L${f(x + r * 0.9)},${f(y + r * 1.3)}L${f(x)},${f(y + r * 0.7)}L${f(x - r * 0.9)},${f(y + r * 1.3)}L${f(x - r * 0.6)},${f(y + r * 0.3)}L${f(x - r * 1.3)},${f(y - r * 0.3)}L${f(x - r * 0.4)},${f(y - r * 0.3)}Z" ${paint}/>`;
  }
}

/** Path data of a mark (for thousands of marks drawn as one path): circles as two arcs. */
export function markPath(shape: Shape, x: number, y: number, r: number): string {
  switch (shape) {
    case "square": return `M${f(x - r)},${f(y - r)}h${f(2 * r)}v${f(2 * r)}h${f(-2 * r)}z`;
    case "up": return `M${f(x)},${f(y - r * 1.2)}l${f(r * 1.1)},${f(r * 2)}h${f(-r * 2.2)}z`;
    case "down": return `M${f(x)},${f(y + r * 1.2)}l${f(r * 1.1)},${f(-r * 2)}h${f(-r * 2.2)}z`;
    case "diamond": return `M${f(x)},${f(y - r * 1.3)}l${f(r * 1.1)},${f(r * 1.3)}l${f(-r * 1.1)},${f(r * 1.3)}l${f(-r * 1.1)},${f(-r * 1.3)}z`;
    case "cross": return `M${f(x - r)},${f(y - r)}l${f(2 * r)},${f(2 * r)}m0,${f(-2 * r)}l${f(-2 * r)},${f(2 * r)}`;
    default: return `M${f(x - r)},${f(y)}a${f(r)},${f(r)} 0 1,0 ${f(2 * r)},0a${f(r)},${f(r)} 0 1,0 ${f(-2 * r)},0`;
  }
}

/** The dashed ring around the mark of a trial that ran on a busy host. */
export function busyRing(x: number, y: number, r: number): string {
  return `<circle class="busy" cx="${f(x)}" cy="${f(y)}" r="${f(r)}" fill="none" stroke="#000" stroke-width="1.2" stroke-dasharray="2 1.5"/>`;
}

/** A legend entry: the mark and its text, at (x, y). */
export function legendItem(x: number, y: number, shape: Shape, color: string, filled: boolean, text: string): string {
  return `${mark(shape, x + 6, y - 4, 5, color, filled)}<text class="lbl" x="${f(x + 16)}" y="${f(y)}">${esc(text)}</text>`;
}

/** Ticks of a log axis from lo to hi, at least `minGap` px apart, x1 kept when inside. */
export function ratioTicks(lo: number, hi: number, x: (v: number) => number, minGap = 30): number[] {
  const candidates = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 1, 1.02, 1.05, 1.1, 1.25, 1.5, 2, 3, 5, 10, 20, 50, 100].filter((t) => t >= lo && t <= hi);
  const kept = candidates.includes(1) ? [1] : [];
  let last = kept.length ? x(1) : -Infinity;
  for (const t of candidates.filter((c) => c > 1)) if (x(t) - last >= minGap) { kept.push(t); last = x(t); }
  last = kept.includes(1) ? x(1) : Infinity;
  for (const t of candidates.filter((c) => c < 1).reverse()) if (last - x(t) >= minGap) { kept.push(t); last = x(t); }
  return kept.sort((a, b) => a - b);
}

/** Ticks of a value axis, linear or log (1-2-5 per decade). */
export function niceTicks(lo: number, hi: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) for (const m of [1, 2, 5]) out.push(m * 10 ** e);
    const inside = out.filter((t) => t >= lo * 0.999 && t <= hi * 1.001);
    return inside.length >= 2 ? inside : [lo, hi].map((v) => Number(v.toPrecision(2)));
  }
  const step = 10 ** Math.floor(Math.log10((hi - lo) / 4 || 1));
  const mult = [1, 2, 5, 10].find((m) => (hi - lo) / (m * step) <= 6) ?? 10;
  const s = mult * step;
  const out: number[] = [];
  for (let t = Math.ceil(lo / s) * s; t <= hi + 1e-9; t += s) out.push(Number(t.toPrecision(6)));
  return out;
}

export const tickText = (t: number) => String(Number(t.toPrecision(6)));

export const CHART_CSS = `
svg.chart{display:block;margin:12px 0 20px;font-family:system-ui,sans-serif;background:#fff;max-width:100%;height:auto}
svg .ct{font-size:14px;font-weight:600} svg .lbl{font-size:12px;fill:#222} svg .val{font-size:10.5px;fill:#333}
svg .tick{font-size:10.5px;fill:#555} svg .gap{font-size:11px;fill:#555;font-style:italic} svg .hdr{font-size:12px;font-weight:600;fill:#222}
svg .grid{stroke:#e6e6e6} svg .one{stroke:#333;stroke-dasharray:3 2} svg .axis{stroke:#444;fill:none} svg .sep{stroke:#999}
svg .whisker{stroke-width:1.6;fill:none} svg .line{stroke-width:2;fill:none} svg .band{fill:${MARGIN_FILL}}
svg .sband{fill:${STUDY_COLOR};fill-opacity:.28;stroke:${STUDY_COLOR};stroke-dasharray:3 2} svg .cut{stroke:#555;stroke-width:1.2;fill:none}
svg .nband{fill:${NOISE_COLOR};fill-opacity:.3;stroke:${NOISE_COLOR};stroke-width:1.2}
`;
