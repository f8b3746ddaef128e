/**
 * report.html in a real browser: Debian's headless Chromium (driven by playwright-core; no browser is
 * downloaded; a fresh profile) loads the page, which must raise no console error, fetch nothing, open
 * with the overhead-at-a-glance figure and draw its figures; on the generated-marks run, the marks of
 * issues 8 and 9 (why a guest ran under TCG, trials on a busy host, the A/A noise floor).
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { writeReport } from "../../cli/report.ts";
import { MARK_STYLE } from "../../analysis/render/svg.ts";

const CHROMIUM = "/usr/bin/chromium";
const FIX = join(dirname(fileURLToPath(import.meta.url)), "../fixtures/records");
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

describe("report.html in headless Chromium", { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} not installed (apt-get install chromium)` }, () => {
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  const requests: string[] = [];

  before(async () => {
    // The real smoke run (kvm under TCG) beside the generated second host "lab" (see the fixtures' README).
    const { files } = writeReport([join(FIX, "real-smoke-2026-11-26"), join(FIX, "generated-lab")], { out: mkdtempSync(join(tmpdir(), "virtperf-html-")) });
    context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "virtperf-chromium-")), { executablePath: CHROMIUM, args: ARGS, viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`); });
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("request", (r) => { if (!r.url().startsWith("file://")) requests.push(r.url()); });
    await page.goto(`file://${files.html}`, { waitUntil: "load" });
  });
  after(async () => { await context?.close(); });

  it("loads without console errors and fetches nothing", () => {
    assert.deepEqual(problems, []);
    assert.deepEqual(requests, []);
  });

  it("opens with the overhead-at-a-glance figure: first chart, in the first screen", async () => {
    const first = await page.evaluate(() => {
      const svg = document.querySelector("svg")!;
      return { chart: svg.getAttribute("data-chart"), label: svg.getAttribute("aria-label"), top: svg.getBoundingClientRect().top, width: svg.getBoundingClientRect().width };
    });
    assert.equal(first.chart, "forest");
    assert.match(first.label!, /overhead at a glance: performance against native \(> 1 is better\)/);
    assert.ok(first.top < 600 && first.width > 800, JSON.stringify(first));
  });

  it("page one: a row per headline metric and a geometric mean, the study's mark never in a TCG column", async () => {
    const g = await page.evaluate(() => [...document.querySelectorAll('svg[data-chart="forest"][id^="glance-"]')].map((svg) => ({
      id: svg.id,
      rows: [...svg.querySelectorAll("text[data-row]")].map((t) => t.getAttribute("data-row") ?? ""),
      columns: [...svg.querySelectorAll("g.col")].map((c) => ({ name: c.getAttribute("data-column"), own: c.getAttribute("data-own-axis"), study: c.querySelectorAll("[data-study]").length, marks: c.querySelectorAll("g.mark").length, classes: [...c.querySelectorAll("g.mark")].map((m) => m.getAttribute("data-class")) })),
    })));
    assert.deepEqual(g.map((x) => x.id), ["glance-dev", "glance-lab"]);
    const dev = g[0]!;
    for (const label of ["PXZ (xz) compression", "HPL (Linpack)", "STREAM triad", "nuttcp client to server", "TCP round trip", "fio random write 4K QD128", "Redis GET at native's peak", "MySQL OLTP read-only at native's peak", "geometric mean"]) assert.ok(dev.rows.includes(label), `${label} in ${dev.rows.join(" / ")}`);
    const tcg = dev.columns.find((c) => c.name!.includes("TCG"))!;
    assert.equal(tcg.own, "true");
    assert.equal(tcg.study, 0, "no study mark beside a TCG guest");
    assert.ok(dev.columns.filter((c) => c.own === "false").every((c) => c.study > 5), JSON.stringify(dev.columns));
    // The generated lab host has 6 trials per cell: real verdicts (docker's fio is 10 % slower).
    const lab = g[1]!.columns.find((c) => c.name === "docker")!;
    assert.ok(lab.classes.filter((k) => k === "worse").length >= 2, lab.classes.join(","));
  });

  it("marks are colour-blind safe and each colour means one thing", async () => {
    const fills = await page.evaluate(() => [...document.querySelectorAll("g.mark")].map((m) => [m.getAttribute("data-class"), m.lastElementChild!.getAttribute("stroke")]));
    const want = Object.fromEntries(Object.entries(MARK_STYLE).map(([k, v]) => [k, v.color]));
    for (const [klass, color] of fills) assert.equal(color, want[klass!], `${klass} drawn in ${color}`);
  });

  it("the compact table and the family statement follow the figure, then the contents, then the details", async () => {
    const order = await page.evaluate(() => {
      const els = [document.querySelector('svg[id^="glance-"]'), document.querySelector("table.glance"), document.querySelector("p.family"), document.querySelector("nav.toc"), document.querySelector("details.section")];
      return els.map((e, i) => (i === 0 || !e || !els[i - 1] ? !!e : !!(els[i - 1]!.compareDocumentPosition(e) & Node.DOCUMENT_POSITION_FOLLOWING)));
    });
    assert.deepEqual(order, [true, true, true, true, true]);
    const text = await page.evaluate(() => document.body.innerText);
    assert.match(text, /Verdicts: \d+ headline tests in this report, false-discovery rate 5\.0 % \(Benjamini-Hochberg\)/);
    assert.match(text, /too few trials for a verdict \(smallest attainable p = 0\.33, needs <= 0\.05\)|too few trials/);
  });

  it("details are collapsed; opened, a section shows per-trial dots, run order, curves with the study's bands", async () => {
    const closed = await page.evaluate(() => [...document.querySelectorAll("details.section")].every((d) => !(d as HTMLDetailsElement).open));
    assert.ok(closed);
    await page.evaluate(() => document.querySelectorAll("details").forEach((d) => ((d as HTMLDetailsElement).open = true)));
    const counts = await page.evaluate(() => ({
      strips: document.querySelectorAll('svg[data-chart="strip"]').length,
      dots: document.querySelectorAll('svg[data-chart="strip"] g.dot').length,
      runOrder: document.querySelectorAll('svg[data-chart="runorder"]').length,
      bands: document.querySelectorAll('svg[data-chart="ratio-curve"] [data-study="band"]').length,
    }));
    assert.ok(counts.strips > 30 && counts.dots > 200 && counts.runOrder >= 12 && counts.bands > 3, JSON.stringify(counts));
  });

  it("draws the Redis and MySQL curves and fio's latency percentiles with real extent; log axes say so", async () => {
    const charts = await page.evaluate(() => [...document.querySelectorAll('svg[data-chart="line"], svg[data-chart="ratio-curve"]')].map((svg) => {
      const box = svg.getBoundingClientRect();
      const lines = [...svg.querySelectorAll("polyline")].map((p) => (p as SVGPolylineElement).getBBox());
      return { title: svg.getAttribute("aria-label") ?? "", width: box.width, height: box.height, lines: lines.length, tallest: Math.max(0, ...lines.map((b) => b.height)), labels: [...svg.querySelectorAll("text.lbl")].map((t) => t.textContent ?? "") };
    }));
    for (const prefix of ["redis get: rps", "redis set: rps", "mysql oltp_read_only: tps", "fio seq-read: completion latency"]) {
      const c = charts.find((x) => x.title.startsWith(prefix));
      assert.ok(c, `chart "${prefix}" among ${charts.map((x) => x.title).join(" / ")}`);
      assert.ok(c.width > 400 && c.height > 200, `${prefix} size ${c.width}x${c.height}`);
      assert.equal(c.lines, 4, `${prefix}: one line per environment`);
      assert.ok(c.tallest > 5, `${prefix}: lines have vertical extent`);
    }
    for (const c of charts) assert.ok(c.labels.some((l) => /log scale/.test(l)), `${c.title}: its log axis is not labelled`);
    assert.ok(charts.some((c) => c.title.startsWith("redis get: performance against native beside the study's")));
  });

  it("forest axes: tick labels never overlap; TCG rows are cut at the edge instead of squashing the others", async () => {
    const axes = await page.evaluate(() => [...document.querySelectorAll('svg[data-chart="forest"]')].map((svg) => ({
      title: svg.getAttribute("aria-label") ?? "",
      ticks: [...svg.querySelectorAll("text.tick")].filter((t) => t.textContent!.startsWith("x")).map((t) => (t as SVGTextElement).getBBox()).map((b) => [b.x, b.x + b.width]),
      cuts: svg.querySelectorAll("path.cut").length,
    })));
    for (const a of axes) {
      a.ticks.sort((p, q) => p[0]! - q[0]!);
      for (let i = 1; i < a.ticks.length; i++) assert.ok(a.ticks[i]![0]! >= a.ticks[i - 1]![1]! + 2, `${a.title}: tick labels ${i - 1} and ${i} overlap`);
    }
    assert.ok(axes.some((a) => a.title.startsWith("linpack") && a.cuts > 0), "kvm's x0.008 HPL under TCG is cut, not drawn to scale");
  });

  it("marks the TCG guest, the smoke profile and the cross-host view", async () => {
    const text = await page.evaluate(() => document.body.innerText);
    assert.match(text, /kvm ran under QEMU TCG, not KVM: no reason recorded/);
    assert.match(text, /Smoke profile \(dev\): these runs check the pipeline, not performance/);
    assert.match(text, /Across hosts: ratio to each host's own native/);
    assert.match(text, /cpufreq governor/);
  });
});

describe("report.html marks (generated-marks run) in headless Chromium", { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} not installed` }, () => {
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  before(async () => {
    const { files } = writeReport([join(FIX, "generated-marks")], { out: mkdtempSync(join(tmpdir(), "virtperf-html-marks-")) });
    context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "virtperf-chromium-")), { executablePath: CHROMIUM, args: ARGS, viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`); });
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    await page.goto(`file://${files.html}`, { waitUntil: "load" });
    await page.evaluate(() => document.querySelectorAll("details").forEach((d) => ((d as HTMLDetailsElement).open = true)));
  });
  after(async () => { await context?.close(); });

  it("says why the guest ran under TCG: on page one, in its column's header and in each section", async () => {
    assert.deepEqual(problems, []);
    const why = "kvm ran under QEMU TCG, not KVM: cpu-virt: the CPU (AuthenticAMD) advertises neither vmx nor svm";
    const r = await page.evaluate(() => ({
      warnings: [...document.querySelectorAll('p.warn[data-tcg="kvm"]')].map((p) => (p as HTMLElement).innerText),
      header: [...document.querySelectorAll('svg[id^="glance-"] text.hdr')].map((t) => ({ text: t.lastChild?.textContent, title: t.querySelector("title")?.textContent ?? null })),
      columns: [...document.querySelectorAll("table.glance th")].map((th) => (th as HTMLElement).innerText),
    }));
    assert.ok(r.warnings.length >= 4 && r.warnings.every((w) => w.includes(why)), r.warnings.join("\n"));
    assert.deepEqual(r.header, [{ text: "docker", title: null }, { text: "kvm (TCG, not KVM: cpu-virt)", title: why }]);
    assert.ok(r.columns.includes("kvm (TCG, not KVM: cpu-virt): performance vs native"), r.columns.join(" | "));
  });

  it("draws the trials on a busy host distinctly (filled and ringed, not only coloured) with why in the tooltip", async () => {
    const dots = await page.evaluate(() => [...document.querySelectorAll('svg[data-chart="strip"] g.dot')].map((g) => ({
      busy: g.getAttribute("data-busy") === "true", ring: g.querySelectorAll("circle.busy").length, fill: g.children[1]?.getAttribute("fill"), stroke: g.children[1]?.getAttribute("stroke"), title: g.querySelector("title")!.textContent!,
    })));
    const busy = dots.filter((d) => d.busy);
    assert.equal(busy.length, 2, "docker's two flagged linpack trials (the flagged xz trial was replaced by its clean retry)");
    for (const d of busy) {
      assert.equal(d.ring, 1);
      assert.equal(d.fill, d.stroke, "filled, where every other dot is hollow");
      assert.match(d.title, /ran on a busy host \(in the statistics\): #(22|70): busy processes not ours: yes \(pid 4711\) 98 % of a CPU/);
    }
    assert.ok(dots.filter((d) => !d.busy).every((d) => d.ring === 0 && d.fill === "#fff"));
    const runOrder = await page.evaluate(() => [...document.querySelectorAll('svg[data-chart="runorder"] g.pt[data-busy="true"] title')].map((t) => t.textContent!));
    assert.equal(runOrder.length, 3, runOrder.join("\n"));
    assert.ok(runOrder.some((t) => /^#34 docker \(superseded by another attempt of this trial: not counted\)/.test(t)), runOrder.join("\n"));
    const listed = await page.evaluate(() => [...document.querySelectorAll("#run table.contaminated tbody tr")].map((tr) => (tr as HTMLElement).innerText));
    assert.equal(listed.length, 3);
    assert.match(listed[1]!, /no: superseded by a clean retry/);
    const cell = await page.evaluate(() => (document.querySelector('p.warn[data-busy="cells"]') as HTMLElement | null)?.innerText ?? "");
    assert.match(cell, /linpack on docker: 2 of 6 trials ran on a busy host: busy processes not ours: yes \(pid 4711\) 98 % of a CPU \(#22, #70\)/);
  });

  it("shades native's A/A noise floor on the forests (never in the TCG column), and states it in the tables", async () => {
    const bands = await page.evaluate(() => [...document.querySelectorAll('svg[id^="glance-"] g.col')].map((c) => ({ column: c.getAttribute("data-column"), bands: c.querySelectorAll('rect[data-noise="floor"]').length })));
    assert.deepEqual(bands, [{ column: "docker", bands: 5 }, { column: "kvm (TCG, not KVM: cpu-virt)", bands: 0 }]);
    const t = await page.evaluate(() => ({
      glance: [...document.querySelectorAll("table.glance th")].map((th) => (th as HTMLElement).innerText),
      inside: [...document.querySelectorAll("table.measures td")].filter((td) => (td as HTMLElement).innerText.startsWith("inside the noise floor")).length,
      floors: [...document.querySelectorAll("table.measures td")].filter((td) => (td as HTMLElement).innerText === "this is the noise floor").length,
      sectionBands: document.querySelectorAll('svg[data-chart="forest"]:not([id]) rect[data-noise="floor"]').length,
    }));
    assert.equal(t.glance[2], "noise floor (A/A: native-aa vs native)");
    assert.ok(!t.glance.some((h) => h.startsWith("native-aa:")), "the copy is no page-one column");
    assert.ok(t.inside >= 1 && t.floors === 16 && t.sectionBands >= 16, JSON.stringify(t));
  });
});

describe("report.html against reference environments (generated-gvisor run) in headless Chromium", { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} not installed` }, () => {
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  const LABEL = "runsc ptrace, host network passthrough";

  before(async () => {
    const { files } = writeReport([join(FIX, "generated-gvisor")], { out: mkdtempSync(join(tmpdir(), "virtperf-html-gvisor-")) });
    context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "virtperf-chromium-")), { executablePath: CHROMIUM, args: ARGS, viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`); });
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    await page.goto(`file://${files.html}`, { waitUntil: "load" });
  });
  after(async () => { await context?.close(); });

  it("page one labels the gVisor columns with their runtime, and says once why each runs under it", async () => {
    assert.deepEqual(problems, []);
    const r = await page.evaluate(() => ({
      columns: [...document.querySelectorAll('svg[id^="glance-"] g.col')].map((c) => c.getAttribute("data-column")),
      tips: [...document.querySelectorAll('svg[id^="glance-"] text.hdr')].map((t) => t.querySelector("title")?.textContent ?? null),
      table: [...document.querySelectorAll("table.glance th")].map((th) => (th as HTMLElement).innerText),
      notes: [...document.querySelectorAll('body > p.note[data-isolation]')].map((p) => [p.getAttribute("data-isolation"), (p as HTMLElement).innerText]),
    }));
    // The chart's column says it short, on a second line; its tooltip and the table say it whole.
    assert.deepEqual(r.columns, ["docker", "docker-host-volume", "gvisor (gVisor ptrace, host net)", "gvisor-host-volume (gVisor ptrace, host net)"]);
    assert.deepEqual(r.tips, [null, null, `gvisor runs under ${LABEL}`, `gvisor-host-volume runs under ${LABEL}`]);
    assert.ok(r.table.includes(`gvisor (${LABEL}): performance vs native`), r.table.join(" | "));
    assert.deepEqual(r.notes.map(([env]) => env), ["gvisor", "gvisor-host-volume"]);
    assert.match(r.notes[0]![1]!, /^gvisor runs under runsc ptrace, host network passthrough\. Why: probed: systrap: unknown platform/);
  });

  it("then the comparison with the same container on runc: a forest and its table, before the family statement", async () => {
    const r = await page.evaluate(() => {
      const svg = document.querySelector("svg#against-gv")!;
      const order = [document.querySelector("table.glance"), svg, document.querySelector("table.against-glance"), document.querySelector("p.family")]
        .map((e) => e!.compareDocumentPosition(document.querySelector("p.family")!));
      return {
        order,
        columns: [...svg.querySelectorAll("g.col")].map((c) => ({ name: c.getAttribute("data-column"), classes: [...c.querySelectorAll("g.mark")].map((m) => m.getAttribute("data-class")), study: c.querySelectorAll("[data-study]").length })),
        rows: [...svg.querySelectorAll("text[data-row]")].map((t) => t.getAttribute("data-row")),
        tooltip: svg.querySelector("g.mark title")?.textContent ?? "",
        legend: [...svg.querySelectorAll("text.lbl")].map((t) => t.textContent ?? ""),
        header: [...document.querySelectorAll("table.against-glance th")].map((th) => (th as HTMLElement).innerText),
      };
    });
    // Each precedes the family statement (FOLLOWING = 4), the statement itself last.
    assert.deepEqual(r.order.slice(0, 3).map((b) => b & 4), [4, 4, 4]);
    assert.deepEqual(r.columns.map((c) => c.name), ["gvisor vs docker", "gvisor-host-volume vs docker-host-volume"]);
    assert.ok(r.legend.includes("better than the reference") && r.legend.includes("worse than the reference"), r.legend.join(" / "));
    for (const c of r.columns) {
      assert.equal(c.study, 0, "the study's figures are against native: none here");
      assert.equal(c.classes[0], "worse", `xz under gVisor is slower than on runc: ${c.classes.join(",")}`);
    }
    assert.ok(r.rows.includes("PXZ (xz) compression") && r.rows.includes("fio random read 4K QD128") && r.rows.at(-1) === "geometric mean", r.rows.join(" / "));
    assert.match(r.tooltip, /^gvisor vs docker, xz compress throughput: /);
    assert.deepEqual(r.header, ["headline metric", `gvisor (${LABEL}) vs docker: performance vs docker`, `gvisor-host-volume (${LABEL}) vs docker-host-volume: performance vs docker-host-volume`]);
  });

  it("each section, opened, shows its cells against the reference beside the cells against native, and what differs", async () => {
    await page.evaluate(() => document.querySelectorAll("details").forEach((d) => ((d as HTMLDetailsElement).open = true)));
    const r = await page.evaluate(() => ({
      against: [...document.querySelectorAll('details.section[data-section="io"] table.against-cells tbody tr')].map((tr) => [...tr.querySelectorAll("td")].map((td) => (td as HTMLElement).innerText)),
      notes: document.querySelectorAll('details.section p.note[data-isolation="gvisor"]').length,
      aspects: [...document.querySelectorAll('details.section[data-section="io"] table.aspects tr')].map((tr) => (tr as HTMLElement).innerText),
    }));
    const first = r.against[0]!;
    assert.deepEqual(first.slice(1, 3), ["gvisor", "docker"]);
    assert.match(first[5]!, /^x\d\.\d+ \[\d\.\d+, \d\.\d+\] \(\d+\.\d %\): \d+ % faster/, "sequential reads from the host's page cache, faster than runc's disk");
    assert.ok(r.notes >= 3, "in each section");
    assert.ok(r.aspects.some((a) => /O_DIRECT not passed to the host/.test(a)), r.aspects.join("\n"));
  });
});
