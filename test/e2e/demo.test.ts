import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { runDemo } from "../../src/cli/demo.js";
import type { LocalStack } from "../../src/cli/local-stack.js";
import { MemoryLog } from "../../src/logger.js";
import { findPlanted, recordQueued, sandboxOutputs } from "../support/secret-hygiene.js";

describe("the demo story, end to end on the sandbox over real HTTP", () => {
  it("contains the member-account key through intake, queue and playbook, and reports it", async () => {
    const summary = await runDemo({ reportDir: mkdtempSync(join(tmpdir(), "demo-report-")) });
    expect(summary.webhookStatus).toBe(202);
    const reports = summary.artifacts.filter((p) => p.includes("/report/"));
    expect(reports.map((p) => p.split(".").pop()).sort()).toEqual(["html", "json", "md"]);
    expect(summary.status).toBe("contained");
    expect(summary.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(summary.user).toBe("ci-deploy");
    expect(summary.account).toMatch(/^\d{12}$/);
    expect(summary.keyStatus).toBe("Inactive");
    expect(summary.sessionsRevoked).toBe(true);
    expect(summary.alertResolved).toBe(true);
    // The first message (contained) and the follow-up (findings) once forensics are done.
    expect(summary.slackMessages).toBe(2);
    expect(summary.msWebhookToDeactivated).toBeGreaterThan(0);
    expect(summary.timeline.map((e) => e.step)).toEqual(
      expect.arrayContaining([
        "webhook-received",
        "key-deactivated",
        "sessions-revoked",
        "alert-resolved",
        "notified",
      ]),
    );
  });

  it("never lets a planted secret reach a log line, the queue, the incident, GitHub, Slack or the summary", async () => {
    const planted = `PLANTED${randomBytes(16).toString("hex")}`;
    const log = new MemoryLog();
    const queued: string[] = [];
    let stack: LocalStack | undefined;
    const summary = await runDemo({
      reportDir: mkdtempSync(join(tmpdir(), "demo-report-")),
      log,
      world: { alertSecret: (key) => `${key.accessKeyId}\n${planted}` },
      beforeDelivery: (running) => {
        stack = running;
        recordQueued(running.server.queue, queued);
        running.sandbox.faults.inject({ service: "slack", kind: "server-error", times: 1 });
      },
    });
    if (!stack) throw new Error("no stack");
    expect(summary.status).toBe("contained");
    // Every file the demo leaves on disk: the report, the plan, the Slack messages, the issue body.
    const reports = summary.artifacts.map((path) => readFileSync(path, "utf8"));
    expect(summary.artifacts.filter((p) => p.includes("/report/"))).toHaveLength(3);
    // The sandbox keeps what it was sent after it stops: every object (gzip parts unpacked), the
    // alert's comment, the issue, every Slack message.
    const captured = sandboxOutputs(stack.sandbox.state);
    expect(queued).toHaveLength(1);
    expect(captured.some((text) => text.includes("incident"))).toBe(true);
    expect(captured.some((text) => text.includes('"eventName"'))).toBe(true);
    expect(
      findPlanted(planted, {
        log: [log.text()],
        queue: queued,
        sandbox: captured,
        reports,
        summary: [JSON.stringify(summary)],
      }),
    ).toEqual([]);
  });

  it("preserves and judges the history: pivot followed, role sessions revoked, evidence hashes match, verdict compromised", async () => {
    let stack: LocalStack | undefined;
    const summary = await runDemo({
      reportDir: mkdtempSync(join(tmpdir(), "demo-report-")),
      beforeDelivery: (running) => {
        stack = running;
      },
    });
    if (!stack) throw new Error("no stack");
    const { sandbox, world } = stack;
    expect(summary.verdict).toBe("compromised");
    expect(summary.signalCounts.persistence).toBeGreaterThan(0);
    expect(summary.signalCounts.recon).toBeGreaterThan(0);
    expect(summary.signalCounts.impact).toBeGreaterThan(0);
    expect(summary.incompleteRegions).toEqual([]);
    expect(summary.regions.length).toBe(17);

    // The leaked key, the session it minted and the role session that one started were all followed.
    expect(new Set(Object.keys(world.history.eventCounts))).toEqual(new Set(summary.accessKeyIds));

    // Revocation beyond the user: the role the minted session assumed now denies older sessions.
    const role = sandbox.state.account(world.leaked.accountId).roles.get(world.history.assumedRoleName);
    const policy = JSON.parse(role?.inlinePolicies.get("AWSRevokeOlderSessions") ?? "{}");
    expect(policy.Statement?.[0]?.Effect).toBe("Deny");
    expect(summary.rolesRevoked).toEqual([world.history.assumedRoleArn]);

    // Step 7-8: the plan rewrote the workflows, and the repository got one issue with the diffs.
    expect(summary.planFiles).toEqual(expect.arrayContaining(["workflows/deploy.diff", "MIGRATION.md"]));
    const issues = sandbox.state.repo(world.repository)?.issues ?? [];
    expect(issues).toHaveLength(1);
    const body = issues[0]?.body ?? "";
    expect(body).toContain("```diff");
    expect(body).toContain("aws-actions/configure-aws-credentials@v6");
    expect(body).toContain("- [ ] Create the IAM OIDC provider");
    expect(body).toContain(summary.accessKeyId);
    expect(issues[0]?.title).toContain(summary.incidentId);

    // The manifest vouches for the stored bytes.
    const objects = sandbox.state.buckets.get(world.bucket);
    const prefix = `incidents/${summary.incidentId}/evidence/`;
    const manifestObject = objects?.get(`${prefix}manifest.json`);
    expect(manifestObject).toBeDefined();
    const manifestBytes = manifestObject?.body ?? Buffer.alloc(0);
    expect(createHash("sha256").update(manifestBytes).digest("hex")).toBe(summary.evidenceSha256);
    const manifest = JSON.parse(manifestBytes.toString("utf8")) as {
      files: Array<{ name: string; sha256: string; bytes: number }>;
      events: number;
      window: { startTime: string; endTime: string };
    };
    // Every event LookupEvents can return for those keys inside the window is in the evidence.
    const keys = new Set(summary.accessKeyIds);
    const inWindow = [...(sandbox.state.trail.get(world.leaked.accountId)?.values() ?? [])]
      .flat()
      .filter((r) => r.managementEvent && keys.has(r.userIdentity.accessKeyId ?? ""))
      .filter(
        (r) =>
          r.eventTime >= manifest.window.startTime.slice(0, 19) && r.eventTime <= manifest.window.endTime,
      );
    const seeded = inWindow.length;
    expect(seeded).toBeGreaterThan(50);
    expect(manifest.events).toBe(seeded);
    expect(summary.eventCount).toBe(seeded);
    for (const file of manifest.files) {
      const body = objects?.get(`${prefix}${file.name}`)?.body ?? Buffer.alloc(0);
      expect(createHash("sha256").update(body).digest("hex")).toBe(file.sha256);
      expect(body.length).toBe(file.bytes);
      const lines = gunzipSync(body).toString("utf8").trim().split("\n");
      expect(lines.length).toBe(seeded);
    }

    // Issue 11: the evidence is under S3 Object Lock (COMPLIANCE, EVIDENCE_RETENTION_DAYS: 365 by
    // default); the reports beside it and incident.json are not locked.
    const stored = [...(objects?.keys() ?? [])].filter((key) => key.startsWith(prefix));
    const reports = stored.filter((key) => key.slice(prefix.length).startsWith("report-"));
    expect(reports.length).toBeGreaterThan(0);
    expect(stored.length).toBeGreaterThan(reports.length);
    for (const key of stored) {
      const retention = objects?.get(key)?.retention;
      if (reports.includes(key)) {
        expect(retention, key).toBeUndefined();
      } else {
        expect(retention?.mode, key).toBe("COMPLIANCE");
        const days = ((retention?.retainUntil.getTime() ?? 0) - Date.now()) / 86_400_000;
        expect(days, key).toBeGreaterThan(364.9);
        expect(days, key).toBeLessThanOrEqual(365);
      }
    }
    expect(objects?.get(`incidents/${summary.incidentId}/incident.json`)?.retention).toBeUndefined();
  });
});
