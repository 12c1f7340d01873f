import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { runDemo } from "../../src/cli/demo.js";
import { MemoryLog } from "../../src/logger.js";

describe("the demo story, end to end on the sandbox over real HTTP", () => {
  it("contains the member-account key through intake, queue and playbook, and reports it", async () => {
    const summary = await runDemo();
    expect(summary.webhookStatus).toBe(202);
    expect(summary.status).toBe("contained");
    expect(summary.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(summary.user).toBe("ci-deploy");
    expect(summary.account).toMatch(/^\d{12}$/);
    expect(summary.keyStatus).toBe("Inactive");
    expect(summary.sessionsRevoked).toBe(true);
    expect(summary.alertResolved).toBe(true);
    expect(summary.slackMessages).toBe(1);
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
    const captured: string[] = [];
    const summary = await runDemo({
      log,
      world: { alertSecret: (key) => `${key.accessKeyId}\n${planted}` },
      beforeDelivery: (stack) => {
        const queue = stack.server.queue;
        const send = queue.send.bind(queue);
        queue.send = async (job) => {
          queued.push(JSON.stringify(job));
          return send(job);
        };
        stack.sandbox.faults.inject({ service: "slack", kind: "server-error", times: 1 });
        const original = stack.sandbox.stop.bind(stack.sandbox);
        stack.sandbox.stop = async () => {
          const state = stack.sandbox.state;
          for (const bucket of state.buckets.values()) {
            for (const object of bucket.values()) captured.push(object.body.toString("utf8"));
          }
          for (const repo of state.repos.values()) {
            for (const alert of repo.alerts.values()) captured.push(String(alert.resolutionComment));
            captured.push(JSON.stringify(repo.issues));
          }
          captured.push(...state.slackMessages.map((m) => m.raw));
          return original();
        };
      },
    });
    expect(summary.status).toBe("contained");
    const everything = [log.text(), ...queued, ...captured, JSON.stringify(summary)].join("\n");
    expect(queued).toHaveLength(1);
    expect(captured.some((text) => text.includes("incident"))).toBe(true);
    expect(everything).not.toContain(planted);
  });
});
