import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createActionsRanges,
  type FetchLike,
  forgetActionsRanges,
  loadActionsRanges,
  readActionsRangesFile,
} from "../../src/forensics/actions-ranges.js";

describe("createActionsRanges: is this address a GitHub Actions runner?", () => {
  const ranges = createActionsRanges([
    "198.51.100.0/24",
    "192.0.2.128/25",
    "2001:db8:1::/48",
    "203.0.113.9",
    "not a cidr",
    "10.0.0.0/33",
  ]);

  it("matches IPv4 addresses inside the CIDRs and not outside", () => {
    expect(ranges.includes("198.51.100.23")).toBe(true);
    expect(ranges.includes("198.51.100.255")).toBe(true);
    expect(ranges.includes("198.51.101.0")).toBe(false);
    expect(ranges.includes("192.0.2.200")).toBe(true);
    expect(ranges.includes("192.0.2.127")).toBe(false);
    expect(ranges.includes("203.0.113.9")).toBe(true);
    expect(ranges.includes("203.0.113.10")).toBe(false);
  });

  it("matches IPv6 addresses, and IPv4-mapped IPv6 as IPv4", () => {
    expect(ranges.includes("2001:db8:1::1234")).toBe(true);
    expect(ranges.includes("2001:db8:1:ffff:ffff:ffff:ffff:ffff")).toBe(true);
    expect(ranges.includes("2001:db8:2::1")).toBe(false);
    expect(ranges.includes("::ffff:198.51.100.23")).toBe(true);
  });

  it("says undefined for something that is not an address (an AWS service name), not false", () => {
    expect(ranges.includes("cloudformation.amazonaws.com")).toBeUndefined();
    expect(ranges.includes("")).toBeUndefined();
  });

  it("counts invalid entries instead of failing on them", () => {
    expect(ranges.size).toBe(4);
    expect(ranges.invalid).toBe(2);
  });

  it("answers for thousands of CIDRs quickly (merged intervals, binary search)", () => {
    const many = Array.from({ length: 5000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.0/24`);
    const big = createActionsRanges(many);
    const started = performance.now();
    for (let i = 0; i < 10_000; i++) big.includes(`10.${i % 20}.${i % 256}.7`);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(big.includes("10.19.135.1")).toBe(true);
    expect(big.includes("11.0.0.1")).toBe(false);
  });
});

describe("loadActionsRanges: the actions field of GitHub's /meta (facts.md), with an offline copy", () => {
  let dir: string;
  beforeEach(async () => {
    forgetActionsRanges();
    dir = await mkdtemp(join(tmpdir(), "ranges-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function metaFetch(body: unknown, status = 200): FetchLike & { urls: string[] } {
    const urls: string[] = [];
    const fetch: FetchLike = async (url) => {
      urls.push(url);
      return { ok: status < 300, status, text: async () => JSON.stringify(body) };
    };
    return Object.assign(fetch, { urls });
  }
  const failing: FetchLike = async () => {
    throw new Error("getaddrinfo ENOTFOUND api.github.com");
  };

  it("fetches /meta from the API base URL, matches its actions ranges and saves an offline copy", async () => {
    const fetch = metaFetch({ actions: ["198.51.100.0/24", "2001:db8:1::/48"], hooks: ["192.0.2.0/24"] });
    const cacheFile = join(dir, "nested", "meta.json");
    const loaded = await loadActionsRanges({ fetch, apiUrl: "http://127.0.0.1:9/github/", cacheFile });
    expect(fetch.urls).toEqual(["http://127.0.0.1:9/github/meta"]);
    expect(loaded.available).toBe(true);
    expect(loaded.ranges?.includes("198.51.100.5")).toBe(true);
    expect(loaded.ranges?.includes("192.0.2.1")).toBe(false);
    const saved = JSON.parse(await readFile(cacheFile, "utf8"));
    expect(saved.actions).toEqual(["198.51.100.0/24", "2001:db8:1::/48"]);
  });

  it("asks GitHub once while the memoised list is fresh", async () => {
    const fetch = metaFetch({ actions: ["198.51.100.0/24"] });
    let now = new Date("2026-11-02T09:00:00Z");
    const source = { fetch, apiUrl: "http://gh.test", now: () => now };
    await loadActionsRanges(source);
    await loadActionsRanges(source);
    expect(fetch.urls).toHaveLength(1);
    now = new Date("2026-11-02T11:00:00Z");
    await loadActionsRanges(source);
    expect(fetch.urls).toHaveLength(2);
  });

  it("falls back to the offline copy when GitHub cannot be reached, and says so", async () => {
    const cacheFile = join(dir, "meta.json");
    await writeFile(
      cacheFile,
      JSON.stringify({ fetchedAt: "2026-10-30T08:00:00Z", actions: ["198.51.100.0/24"] }),
    );
    const loaded = await loadActionsRanges({ fetch: failing, apiUrl: "http://gh.test", cacheFile });
    expect(loaded.available).toBe(true);
    expect(loaded.ranges?.includes("198.51.100.77")).toBe(true);
    expect(loaded.available && loaded.note).toMatch(
      /could not be read: getaddrinfo ENOTFOUND.*offline copy.*2026-10-30/,
    );
  });

  it("reports the ranges unavailable, with both reasons, when neither GitHub nor a copy answers", async () => {
    const loaded = await loadActionsRanges({
      fetch: failing,
      apiUrl: "http://gh.test",
      cacheFile: join(dir, "none.json"),
    });
    expect(loaded.available).toBe(false);
    expect(loaded.ranges).toBeUndefined();
    expect(!loaded.available && loaded.problem).toMatch(/ENOTFOUND.*no offline copy/);
  });

  it("treats an error status or an answer without actions as unreachable", async () => {
    const denied = await loadActionsRanges({
      fetch: metaFetch({ message: "rate limited" }, 403),
      apiUrl: "http://a.test",
    });
    expect(!denied.available && denied.problem).toMatch(/HTTP 403/);
    const odd = await loadActionsRanges({ fetch: metaFetch({ hooks: [] }), apiUrl: "http://b.test" });
    expect(!odd.available && odd.problem).toMatch(/no "actions" list/);
  });

  it("reads the raw body of GET /meta as an offline copy", async () => {
    const file = join(dir, "meta.json");
    await writeFile(
      file,
      JSON.stringify({ verifiable_password_authentication: false, actions: ["2001:db8:1::/48"] }),
    );
    const loaded = await readActionsRangesFile(file);
    expect(loaded.ranges?.includes("2001:db8:1::9")).toBe(true);
    const broken = await readActionsRangesFile(join(dir, "missing.json"));
    expect(broken.available).toBe(false);
  });
});
