/**
 * The messages of a storm (hundreds of keys at once): every incident stays visible however many
 * there are, each message within Slack's limits (facts.md: 50 blocks, 3000 characters a section,
 * about 13k in all), and the ones a person must act on first, loud and counted.
 */
import { describe, expect, it } from "vitest";
import { fakeAccessKeyId } from "../../sandbox/fake-ids.js";
import {
  detailBatches,
  digestLine,
  digestPages,
  type FirstEntry,
  followUpBatches,
  loudFirst,
} from "../../src/adapters/slack/batch-messages.js";
import { followUpNeedsLook } from "../../src/adapters/slack/follow-up-message.js";
import { needsPerson, type SlackMessage } from "../../src/adapters/slack/incident-message.js";
import { withNotices } from "../../src/adapters/slack/sent-notices.js";
import { packSections } from "../../src/adapters/slack/slack-limits.js";
import type { Incident } from "../../src/domain/incident.js";
import { analyzeTrail } from "../../src/forensics/analyze.js";
import type { FollowUp, NotificationKind } from "../../src/ports.js";

const LOUD: Record<number, { status: Incident["status"]; kind: NotificationKind }> = {
  17: { status: "failed", kind: "failed" },
  250: { status: "escalated", kind: "escalated" },
  499: { status: "contained-with-warnings", kind: "partial" },
};

function stormIncident(n: number): FirstEntry {
  const loud = LOUD[n];
  const status = loud?.status ?? "contained";
  return {
    kind: loud?.kind ?? "contained",
    incident: {
      id: `gh__acme__service-${n % 40}__${n}`,
      version: 1,
      source: "github-alert",
      status,
      summary:
        status === "failed"
          ? "The leaked key is NOT contained: AccessDenied on iam:UpdateAccessKey <script>x</script>"
          : "key deactivated and its sessions revoked",
      accessKeyId: fakeAccessKeyId(),
      repository: `acme/service-${n % 40}`,
      alertNumber: n,
      alertUrl: `https://github.com/acme/service-${n % 40}/security/secret-scanning/${n}`,
      leakLocation: {
        path: "deploy/config.env",
        startLine: 3,
        url: `https://github.com/acme/service-${n % 40}/blob/abc/deploy/config.env#L3`,
      },
      deliveryIds: [`d-${n}`],
      mode: "enforce",
      location: { accountId: "210987654321", viaMemberRole: true, userName: `ci-${n % 40}` },
      warnings: status === "contained-with-warnings" ? ["Sessions were NOT revoked: Throttling"] : [],
      timeline: [
        { step: "webhook-received", outcome: "done", at: "2026-11-26T02:00:00.000Z", detail: "Delivery" },
        {
          step: "key-deactivated",
          outcome: status === "failed" ? "failed" : "done",
          at: "2026-11-26T02:00:01.250Z",
          detail: status === "failed" ? "AccessDenied" : "deactivated",
        },
        { step: "sessions-revoked", outcome: "done", at: "2026-11-26T02:00:01.300Z", detail: "denied" },
      ],
      createdAt: "2026-11-26T02:00:01.300Z",
      updatedAt: "2026-11-26T02:00:01.300Z",
    },
  };
}

const OWNERS = Object.fromEntries(
  Array.from({ length: 40 }, (_, i) => [`acme/service-${i}`, `<!subteam^S${1000 + i}>`]),
);

/** Everything Slack would check, and nothing left out by the last-resort fitting. */
function withinLimits(message: SlackMessage): void {
  expect(message.blocks.length).toBeLessThanOrEqual(50);
  expect(JSON.stringify(message.blocks).length).toBeLessThanOrEqual(12_000);
  expect(message.text.length).toBeLessThanOrEqual(3000);
  for (const block of message.blocks as Array<{ text?: { text: string } }>) {
    if (block.text) expect(block.text.text.length).toBeLessThanOrEqual(3000);
  }
  const raw = JSON.stringify(message);
  expect(raw).not.toContain("left out to fit Slack");
  expect(raw).not.toContain("(truncated)");
  expect(raw).not.toContain("<script>");
}

describe("a digest of 500 first messages", () => {
  const entries = loudFirst(
    Array.from({ length: 500 }, (_, n) => stormIncident(n)),
    (e) => needsPerson(e.kind),
  );
  const pages = digestPages(entries, OWNERS, true);

  it("lists every incident (id, key id, status, account, repository) within Slack's limits", () => {
    expect(pages.reduce((sum, p) => sum + p.count, 0)).toBe(500);
    expect(pages.length).toBeLessThanOrEqual(10);
    for (const page of pages) withinLimits(page.message);
    let offset = 0;
    for (const page of pages) {
      const raw = JSON.stringify(page.message.blocks);
      for (const { incident } of entries.slice(offset, offset + page.count)) {
        const line = digestLine(incident, "contained").split(" *")[0] ?? "";
        expect(raw).toContain(`\`${incident.id}\``);
        expect(raw).toContain(incident.accessKeyId ?? "no key id");
        expect(raw).toContain(`${incident.repository} #${incident.alertNumber}`);
        expect(line.length).toBeGreaterThan(0);
      }
      expect(raw).toContain("account 210987654321");
      offset += page.count;
    }
  });

  it("puts the three that need a person first, ACTION NEEDED, and counts them in every header", () => {
    const first = JSON.stringify(pages[0]?.message.blocks);
    const lines = first.split("\\n");
    const loudLines = lines.filter((l) => l.includes("ACTION NEEDED*"));
    expect(loudLines).toHaveLength(3);
    expect(loudLines.join()).toContain("__17`");
    expect(loudLines.join()).toContain("*failed*");
    expect(loudLines.join()).toContain("*escalated*");
    expect(loudLines.join()).toContain("*contained-with-warnings*");
    expect(loudLines.join()).toContain("NOT contained: AccessDenied");
    const firstQuiet = lines.findIndex((l) => l.includes("*contained*"));
    expect(lines.findIndex((l) => l.includes("ACTION NEEDED*"))).toBeLessThan(firstQuiet);
    for (const [index, page] of pages.entries()) {
      expect(page.message.text).toContain("ACTION NEEDED: 500 leaked AWS keys handled, 3 need a person now");
      expect(page.message.text).toContain(`(${index + 1}/${pages.length})`);
    }
    // Every owner of a listed incident is mentioned on the page that lists it.
    expect(first).toContain("<!subteam^S1017>");
  });

  it("a part still fits when the sender marks it as a possible repeat (sent-notices.ts)", () => {
    for (const page of pages) {
      const marked = withNotices(
        page.message,
        [{ incidentId: "gh__acme__service-0__0", kind: "contained", possibleRepeat: true }],
        true,
      );
      expect(JSON.stringify(marked)).toContain("may repeat");
      withinLimits(marked);
    }
  });

  it("batches the full details several incidents a reply, the failed one's instructions included", () => {
    const batches = detailBatches(entries, OWNERS);
    expect(batches.reduce((sum, b) => sum + b.count, 0)).toBe(500);
    expect(batches.length).toBeLessThan(500 / 5);
    for (const batch of batches) withinLimits(batch.message);
    const all = batches.map((b) => JSON.stringify(b.message.blocks)).join();
    for (const { incident } of entries) {
      expect(all).toContain(`\`${incident.id}\``);
      expect(all).toContain(incident.accessKeyId ?? "no key id");
    }
    const first = JSON.stringify(batches[0]?.message);
    expect(first).toContain("aws iam update-access-key --user-name ci-17 --status Inactive");
    expect(first).toContain("ACTION NEEDED: leaked AWS key left active (escalated)");
    expect(first).toContain("Sessions were NOT revoked: Throttling");
  });
});

describe("follow-ups in batches", () => {
  const quiet = analyzeTrail([], {
    leakedAt: "2026-11-26T01:50:00Z",
    containedAt: "2026-11-26T02:00:01Z",
  });
  const follow = (n: number): FollowUp => {
    const { incident } = stormIncident(n);
    return {
      incident: {
        ...incident,
        forensics: {
          window: { startTime: "2026-11-19T02:00:00Z", endTime: "2026-11-26T02:15:00Z" },
          regions: ["us-east-1", "eu-west-1"],
          accessKeyIds: [incident.accessKeyId ?? ""],
          eventCount: 12,
          incompleteRegions: n === 300 ? ["ap-south-1"] : [],
          complete: n !== 300,
          rolesAssumed: [],
          rolesRevoked: [],
          parts: [],
        },
      },
      ...(n === 42 ? {} : { findings: n === 7 ? { ...quiet, verdict: "compromised" as const } : quiet }),
      plan: { summary: "Replace the key with\n\nGitHub OIDC: one role", files: ["trust-policy.json"] },
      reportLocation: `s3://incidents/${incident.id}/report.html`,
    };
  };
  const entries = Array.from({ length: 500 }, (_, n) => follow(n));

  it("every follow-up is listed, those to look at first and counted, within Slack's limits", () => {
    const sorted = loudFirst(entries, followUpNeedsLook);
    const batches = followUpBatches(sorted, OWNERS);
    expect(batches.reduce((sum, b) => sum + b.count, 0)).toBe(500);
    expect(batches.length).toBeLessThanOrEqual(20);
    for (const batch of batches) withinLimits(batch.message);
    const all = batches.map((b) => JSON.stringify(b.message.blocks)).join();
    for (const { incident } of entries) expect(all).toContain(`\`${incident.id}\``);
    const first = batches[0]?.message;
    expect(first?.text).toContain("3 to look at now");
    const lines = JSON.stringify(first?.blocks).split("\\n");
    expect(lines.findIndex((l) => l.includes("__7`"))).toBeLessThan(
      lines.findIndex((l) => l.includes("__0`")),
    );
    expect(all).toContain("*Compromised*");
    expect(all).toContain("*No findings*");
    expect(all).toContain("INCOMPLETE in ap-south-1");
    // A plan's Markdown paragraphs stay on the incident's line.
    expect(all).toContain("plan: Replace the key with GitHub OIDC: one role");
  });
});

describe("packSections", () => {
  it("never drops or splits an entry, even huge ones full of characters JSON escapes", () => {
    const entries = Array.from({ length: 120 }, (_, i) =>
      i % 10 === 0 ? `${i} ${'"\\'.repeat(4000)}` : `${i} ${"x".repeat(200 + i)}`,
    );
    for (const join of [true, false]) {
      const packed = packSections(entries, { blocks: 46, chars: 10_000 }, join);
      expect(packed.reduce((sum, p) => sum + p.count, 0)).toBe(entries.length);
      for (const message of packed) {
        expect(message.sections.length).toBeLessThanOrEqual(46);
        for (const section of message.sections as Array<{ text: { text: string } }>)
          expect(section.text.text.length).toBeLessThanOrEqual(3000);
      }
      // In order: each message starts with the entry after the last one of the previous message.
      let next = 0;
      for (const message of packed) {
        const firstText = (message.sections[0] as { text: { text: string } }).text.text;
        expect(firstText.startsWith(`${next} `)).toBe(true);
        next += message.count;
      }
    }
  });
});
