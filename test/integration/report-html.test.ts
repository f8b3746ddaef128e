/**
 * report.html in a real browser: Debian's headless Chromium (driven by playwright-core; no browser is
 * downloaded) loads the page, which must raise no console error, fetch nothing, and draw its charts.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { writeReport } from "../../cli/report.ts";

const CHROMIUM = "/usr/bin/chromium";
const FIX = join(dirname(fileURLToPath(import.meta.url)), "../fixtures/records");

describe("report.html in headless Chromium", { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} not installed (apt-get install chromium)` }, () => {
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const requests: string[] = [];

  before(async () => {
    // The real smoke run (kvm under TCG) beside the generated second host "lab" (see the fixtures' README).
    const { files } = writeReport([join(FIX, "real-smoke-2026-11-26"), join(FIX, "generated-lab")], { out: mkdtempSync(join(tmpdir(), "virtperf-html-")) });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    page = await browser.newPage({ viewport: { width: 1250, height: 900 } });
    page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`); });
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("request", (r) => { if (!r.url().startsWith("file://")) requests.push(r.url()); });
    await page.goto(`file://${files.html}`, { waitUntil: "load" });
  });
  after(async () => { await browser?.close(); });

  it("loads without console errors and fetches nothing", () => {
    assert.deepEqual(problems, []);
    assert.deepEqual(requests, []);
  });
  it("draws ratio bars with whiskers and the study's marks", async () => {
    const counts = await page.evaluate(() => ({
      ratioCharts: document.querySelectorAll('svg[data-chart="ratio"]').length,
      bars: document.querySelectorAll('svg[data-chart="ratio"] rect.bar').length,
      whiskers: document.querySelectorAll('svg[data-chart="ratio"] path.whisker').length,
      refs: document.querySelectorAll("svg path.ref").length,
      slower: document.querySelectorAll('rect.bar[data-verdict="slower"]').length,
    }));
    assert.ok(counts.ratioCharts >= 6, JSON.stringify(counts));
    // The smoke run has 2 trials per cell (no ratio interval): the whiskers are the generated host's.
    assert.ok(counts.bars > 50 && counts.whiskers > 20 && counts.refs > 10 && counts.slower > 10, JSON.stringify(counts));
  });
  it("draws the Redis and MySQL curves and fio's latency percentiles with real extent", async () => {
    const charts = await page.evaluate(() => [...document.querySelectorAll('svg[data-chart="line"]')].map((svg) => {
      const box = svg.getBoundingClientRect();
      const lines = [...svg.querySelectorAll("polyline")].map((p) => (p as SVGPolylineElement).getBBox());
      return { title: svg.getAttribute("aria-label") ?? "", width: box.width, height: box.height, lines: lines.length, tallest: Math.max(0, ...lines.map((b) => b.height)) };
    }));
    for (const prefix of ["redis get: rps", "redis set: rps", "mysql oltp_read_only: tps", "fio seq-read: completion latency"]) {
      const c = charts.find((x) => x.title.startsWith(prefix));
      assert.ok(c, `chart "${prefix}" among ${charts.map((x) => x.title).join(" / ")}`);
      assert.ok(c.width > 400 && c.height > 200, `${prefix} size ${c.width}x${c.height}`);
      assert.equal(c.lines, 4, `${prefix}: one line per environment`);
      assert.ok(c.tallest > 5, `${prefix}: lines have vertical extent`);
    }
  });
  it("ratio axes: tick labels never overlap, TCG bars are cut at the edge instead of squashing the others", async () => {
    const axes = await page.evaluate(() => [...document.querySelectorAll('svg[data-chart="ratio"]')].map((svg) => ({
      title: svg.getAttribute("aria-label") ?? "",
      ticks: [...svg.querySelectorAll("text.tick")].filter((t) => t.textContent!.startsWith("x")).map((t) => (t as SVGTextElement).getBBox()).map((b) => [b.x, b.x + b.width]),
      cuts: svg.querySelectorAll("path.cut").length,
    })));
    for (const a of axes) {
      a.ticks.sort((p, q) => p[0]! - q[0]!);
      for (let i = 1; i < a.ticks.length; i++) assert.ok(a.ticks[i]![0]! >= a.ticks[i - 1]![1]! + 2, `${a.title}: tick labels ${i - 1} and ${i} overlap`);
    }
    const linpack = axes.find((a) => a.title.startsWith("linpack") && a.cuts > 0);
    assert.ok(linpack, "kvm's x0.008 HPL under TCG is cut, not drawn to scale");
  });
  it("marks the TCG guest, the smoke profile and the cross-host view", async () => {
    const text = await page.evaluate(() => document.body.innerText);
    assert.match(text, /kvm ran under QEMU TCG, without KVM/);
    assert.match(text, /Smoke profile \(dev\): these runs check the pipeline, not performance/);
    assert.match(text, /Across hosts: ratio to each host's own native/);
  });
});
