import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDemo } from "../../src/cli/demo.js";
import type { Incident } from "../../src/domain/incident.js";
import {
  findChromium,
  isError,
  type PageMessage,
  withChromiumPage,
} from "../../src/report/headless-chromium.js";
import { renderHtml } from "../../src/report/html.js";
import { loadReportInput } from "../../src/report/load-report.js";
import { renderMarkdown } from "../../src/report/markdown.js";
import { type AuditReport, buildReport } from "../../src/report/report-model.js";
import { renderReport } from "../../src/report/store-report.js";

const chromium = findChromium();

/** What the page shows, measured by the browser after layout (not by reading our own string). */
interface PageFacts {
  title: string;
  rows: Array<{ id: string; time: string; sincePrevious: string }>;
  charts: Array<{
    view: string;
    bars: number;
    leak: boolean;
    contained: boolean;
    width: number;
    height: number;
  }>;
  scripts: number;
  images: number;
}

const PAGE_FACTS = `(() => {
  const rows = [...document.querySelectorAll("#timeline tr.milestone")].map((row) => ({
    id: row.dataset.milestone,
    time: row.cells[1].textContent.trim(),
    sincePrevious: row.cells[2].textContent.trim(),
  }));
  const charts = [...document.querySelectorAll("figure svg.activity-chart")].map((svg) => {
    const box = svg.getBoundingClientRect();
    // A bar must have an area; a marker is a vertical line: height only.
    const drawn = (selector, area) => [...svg.querySelectorAll(selector)].filter((el) => {
      const b = el.getBBox();
      return b.height > 0 && (!area || b.width > 0);
    }).length;
    return {
      view: svg.closest("figure").dataset.view,
      bars: drawn("rect.bar", true),
      leak: drawn(".marker-leak line", false) === 1,
      contained: drawn(".marker-contained line", false) === 1,
      width: box.width,
      height: box.height,
    };
  });
  return { title: document.title, rows, charts, scripts: document.scripts.length, images: document.images.length };
})()`;

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "report-chromium-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function openHtml(name: string, html: string): Promise<{ facts: PageFacts; messages: PageMessage[] }> {
  const file = join(dir, name);
  await writeFile(file, html);
  return withChromiumPage(
    pathToFileURL(file).href,
    async (page) => ({ facts: await page.evaluate<PageFacts>(PAGE_FACTS), messages: page.messages() }),
    chromium ? { executable: chromium } : {},
  );
}

describe.runIf(chromium !== undefined)("the HTML audit report in headless Chromium", () => {
  it("the console check catches errors: console.error, an uncaught exception, a failed load, a CSP violation", async () => {
    const noisy = await openHtml(
      "noisy.html",
      `<!doctype html><html><head><meta charset="utf-8"><title>noisy</title></head><body><p>x</p>
<img src="http://127.0.0.1:9/unreachable.png" alt="">
<script>console.log("just a log"); console.error("deliberate console error"); throw new Error("deliberate exception");</script>
</body></html>`,
    );
    const errors = noisy.messages.filter(isError).map((m) => `${m.source}: ${m.text}`);
    expect(errors).toEqual(
      expect.arrayContaining([
        "console: deliberate console error",
        expect.stringMatching(/^exception: .*deliberate exception/),
        expect.stringMatching(/^log: Failed to load resource/),
      ]),
    );
    // A plain log is reported, but it is not an error.
    expect(noisy.messages.find((m) => m.text === "just a log")).toMatchObject({
      source: "console",
      level: "log",
    });
    expect(noisy.messages.filter((m) => m.text === "just a log" && isError(m))).toEqual([]);

    const blocked = await openHtml(
      "csp.html",
      `<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'"><title>csp</title></head><body><img src="https://example.com/tracker.png" alt=""></body></html>`,
    );
    expect(blocked.messages.filter(isError).map((m) => m.text)).toContainEqual(
      expect.stringMatching(/violates the following Content Security Policy directive/),
    );
  });

  it("renders the demo incident's timeline and activity chart, with no console message at all", async () => {
    // The demo with a planted alert secret: the report, in every format, must not carry it.
    const planted = `PLANTED${randomBytes(16).toString("hex")}`;
    let report: AuditReport | undefined;
    const summary = await runDemo({
      world: { alertSecret: (key) => `${key.accessKeyId}\n${planted}` },
      beforeDelivery: (stack) => {
        const stop = stack.sandbox.stop.bind(stack.sandbox);
        // Read through the responder's own stores while the sandbox still answers.
        stack.sandbox.stop = async () => {
          const incidentId = stack.results.at(-1)?.incident.id;
          const evidence = stack.deps.investigation?.evidence;
          if (incidentId && evidence) {
            const input = await loadReportInput({ incidents: stack.deps.incidents, evidence }, incidentId);
            report = buildReport({ ...input, generatedAt: new Date().toISOString() });
          }
          return stop();
        };
      },
    });
    expect(summary.status).toBe("contained");
    if (!report) throw new Error("no report was built");
    expect(report.gaps).toEqual([]);
    expect(report.evidence.files.filter((f) => f.verified === "match").length).toBeGreaterThanOrEqual(3);

    const html = renderHtml(report);
    for (const output of [renderMarkdown(report), html, renderReport(report, "json")]) {
      expect(output).not.toContain(planted);
    }

    const started = performance.now();
    const { facts, messages } = await openHtml("demo-report.html", html);
    const seconds = (performance.now() - started) / 1000;
    expect(messages).toEqual([]);
    expect(facts.title).toBe(`Audit report: ${summary.incidentId}`);
    expect(facts.scripts).toBe(0);
    expect(facts.images).toBe(0);

    const rows = new Map(facts.rows.map((row) => [row.id, row]));
    for (const id of [
      "leak",
      "webhook-received",
      "key-deactivated",
      "sessions-revoked",
      "alert-resolved",
      "notified",
      "snapshot-taken",
      "analyzed",
    ]) {
      expect(rows.get(id)?.time, id).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/);
    }
    expect(rows.get("key-deactivated")?.sincePrevious).toMatch(/^\d+ ms$/);

    expect(facts.charts.map((c) => c.view)).toEqual(["window", "leak"]);
    for (const chart of facts.charts) {
      expect(chart.bars, chart.view).toBeGreaterThan(0);
      expect(chart.leak, `${chart.view}: leak marker`).toBe(true);
      expect(chart.contained, `${chart.view}: containment marker`).toBe(true);
      expect(chart.width).toBeGreaterThan(600);
      expect(chart.height).toBeGreaterThan(150);
    }
    console.info(`Chromium opened and checked the demo report in ${seconds.toFixed(1)} s`);
  });

  it("shows an attacker's markup as text: nothing in the page runs or loads", async () => {
    const now = Date.now();
    const at = (ms: number) => new Date(now + ms).toISOString();
    const xss = `<img src=x onerror="console.error('xss img')"><script>console.error('xss script')</script>`;
    const incident: Incident = {
      id: "gh__acme__hostile__1",
      version: 1,
      source: "github-alert",
      status: "contained-with-warnings",
      summary: `summary ${xss}`,
      repository: `acme/${xss}`,
      leakLocation: { path: xss, url: "javascript:console.error('xss link')" },
      alertUrl: "javascript:console.error('xss link')",
      deliveryIds: [],
      mode: "enforce",
      location: { accountId: "111122223333", viaMemberRole: false, userName: xss },
      containment: { containedAt: at(0), quarantinePolicies: [xss] },
      leakedAt: at(-600_000),
      leakedAtSource: "commit",
      warnings: [xss],
      timeline: [
        { step: "webhook-received", outcome: "done", at: at(-300), detail: xss },
        { step: "key-deactivated", outcome: "done", at: at(0), detail: xss },
      ],
      createdAt: at(-200),
      updatedAt: at(0),
    };
    const report = buildReport({
      incident,
      events: [
        {
          eventId: "e-1",
          eventTime: at(-60_000),
          eventName: "DescribeInstances",
          eventSource: "ec2.amazonaws.com",
          awsRegion: xss,
          userIdentity: {},
        },
      ],
      groupBy: "region",
      generatedAt: at(1000),
      problems: [xss],
    });
    const { facts, messages } = await openHtml("hostile.html", renderHtml(report));
    expect(messages).toEqual([]);
    expect(facts.scripts).toBe(0);
    expect(facts.images).toBe(0);
    expect(facts.charts[0]?.bars).toBe(1);
  });
});

describe.runIf(chromium === undefined)("the HTML audit report in headless Chromium (no browser here)", () => {
  it("says plainly that the browser check did not run, and how to run it", () => {
    console.warn(
      "chromium not installed: the HTML report was not opened in a browser. Install Debian's chromium (apt-get install chromium, as .ci/run does) or set CHROMIUM_PATH.",
    );
    expect(findChromium()).toBeUndefined();
  });
});
