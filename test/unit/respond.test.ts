import { describe, expect, it } from "vitest";
import { fakeAccessKeyId } from "../../sandbox/fake-ids.js";
import { PermanentFailure, TransientFailure } from "../../src/domain/errors.js";
import type { TrailEvent } from "../../src/forensics/trail-event.js";
import { respondToAlert, respondToKey } from "../../src/playbook/respond.js";
import { settings } from "../support/fakes.js";
import { world } from "../support/respond-world.js";

describe("respondToAlert: containment", () => {
  it("deactivates the key in the member account, revokes older sessions at the containment time, resolves the alert and notifies", async () => {
    const w = world();
    const { incident, duplicate } = await respondToAlert(w.job(), w.deps);

    expect(duplicate).toBe(false);
    expect(incident.status).toBe("contained");
    expect(w.iam.keys.get(w.accessKeyId)?.status).toBe("Inactive");
    expect(incident.location).toMatchObject({
      accountId: w.member,
      viaMemberRole: true,
      userName: "ci-deploy",
    });
    // facts.md: the deny policy's aws:TokenIssueTime is the containment time.
    expect(w.iam.userPolicies.get("ci-deploy")).toEqual([
      { name: "AWSRevokeOlderSessions", cutoff: incident.containment?.containedAt },
    ]);
    expect(incident.containment?.keyStatusAfter).toBe("Inactive");
    expect(w.alerts.resolved).toHaveLength(1);
    expect(w.alerts.resolved[0]?.comment).toContain(w.accessKeyId);
    expect(w.notifier.sent.map((n) => n.kind)).toEqual(["contained"]);
    const steps = w.incidents.only().timeline.map((e) => `${e.step}:${e.outcome}`);
    expect(steps).toEqual(
      expect.arrayContaining([
        "webhook-received:done",
        "alert-fetched:done",
        "key-located:done",
        "key-deactivated:done",
        "sessions-revoked:done",
        "quarantine-checked:done",
        "key-status-verified:done",
        "incident-recorded:done",
        "alert-resolved:done",
        "notified:done",
      ]),
    );
  });

  it.each(["false_positive", "used_in_tests"])(
    "a person's %s resolution made before the first run is never overwritten, and said loudly; the key is still contained",
    async (resolution) => {
      const w = world({ alertState: { state: "resolved", resolution } });
      const { incident } = await respondToAlert(w.job(), w.deps);
      expect(w.iam.keys.get(w.accessKeyId)?.status).toBe("Inactive");
      expect(w.alerts.resolved).toEqual([]);
      expect(incident.warnings.join("\n")).toContain(`resolved the GitHub alert as ${resolution}`);
    },
  );

  it("an alert already resolved as revoked is not resolved again", async () => {
    const w = world({ alertState: { state: "resolved", resolution: "revoked" } });
    const { incident } = await respondToAlert(w.job(), w.deps);
    expect(incident.status).toBe("contained");
    expect(w.alerts.resolved).toEqual([]);
  });

  it("GitHub says inactive but IAM has the key Active: the key is contained and the stale check said", async () => {
    const w = world({ validity: "inactive" });
    const { incident } = await respondToAlert(w.job(), w.deps);
    expect(w.iam.keys.get(w.accessKeyId)?.status).toBe("Inactive");
    expect(incident.status).toBe("contained-with-warnings");
    expect(incident.warnings.join("\n")).toMatch(/GitHub.*inactive.*IAM.*Active/);
  });

  it("GitHub says inactive and IAM agrees: sessions are revoked all the same and a person is asked who deactivated it", async () => {
    const w = world({ validity: "inactive" });
    w.iam.keys.set(w.accessKeyId, { userName: "ci-deploy", status: "Inactive" });
    const { incident } = await respondToAlert(w.job(), w.deps);
    expect(w.iam.userPolicies.get("ci-deploy")).toHaveLength(1);
    expect(incident.status).toBe("contained-with-warnings");
    expect(incident.warnings.join("\n")).toMatch(/deactivated before the responder ran.*UpdateAccessKey/);
  });

  it("GitHub says inactive and the key no longer exists: escalated as deleted, not reported as a failed containment", async () => {
    const w = world({ validity: "inactive" });
    w.iam.keys.delete(w.accessKeyId);
    const { incident } = await respondToAlert(w.job(), w.deps);
    expect(incident.status).toBe("escalated");
    expect(incident.summary).toMatch(/deleted/);
    expect(incident.summary).not.toMatch(/NOT contained/);
    expect(w.notifier.sent.map((n) => n.kind)).toEqual(["escalated"]);
  });

  it("uses the home account's IAM directly when the key is the responder's own account's", async () => {
    const w = world({ member: false });
    const { incident } = await respondToAlert(w.job(), w.deps);
    expect(incident.status).toBe("contained");
    expect(incident.location).toMatchObject({ accountId: w.home, viaMemberRole: false });
  });

  it("runs the three containment calls only after the owner is known, and all three of them", async () => {
    const w = world();
    await respondToAlert(w.job(), w.deps);
    expect(w.iam.calls.slice(0, 1)).toEqual(["GetAccessKeyLastUsed"]);
    expect(new Set(w.iam.calls.slice(1, 4))).toEqual(
      new Set(["UpdateAccessKey", "PutUserPolicy", "ListAttachedUserPolicies"]),
    );
  });

  it("reports an AWS quarantine policy already attached and still contains", async () => {
    const w = world();
    w.iam.attached = ["AWSCompromisedKeyQuarantineV3", "ReadOnlyAccess"];
    const { incident } = await respondToAlert(w.job(), w.deps);
    expect(incident.status).toBe("contained");
    expect(incident.containment?.quarantinePolicies).toEqual(["AWSCompromisedKeyQuarantineV3"]);
    expect(incident.summary).toContain("AWSCompromisedKeyQuarantineV3");
  });

  it("accepts an alert whose secret is the key id alone, and fingerprints nothing then", async () => {
    const w = world({ secret: (id) => id });
    const { incident } = await respondToAlert(w.job(), w.deps);
    expect(incident.status).toBe("contained");
    expect(incident.secretFingerprint).toBeUndefined();
  });

  it("keeps only a short fingerprint of the secret half", async () => {
    const w = world();
    const { incident } = await respondToAlert(w.job(), w.deps);
    expect(incident.secretFingerprint).toMatch(/^sha256:[0-9a-f]{12}$/);
  });
});

describe("respondToAlert: idempotency", () => {
  it("three redeliveries and a retried message give one incident, one deactivation, one resolution, one notification", async () => {
    const w = world();
    await respondToAlert(w.job("d-1"), w.deps);
    const again = await respondToAlert(w.job("d-2"), w.deps);
    await respondToAlert(w.job("d-3", "reopened"), w.deps);
    await respondToAlert(w.job("d-3", "reopened"), w.deps);

    expect(again.duplicate).toBe(true);
    expect(w.incidents.creates).toBe(1);
    expect(w.iam.calls.filter((c) => c === "UpdateAccessKey")).toHaveLength(1);
    expect(w.alerts.resolved).toHaveLength(1);
    expect(w.notifier.sent).toHaveLength(1);
    const incident = w.incidents.only();
    expect(incident.timeline.filter((e) => e.step === "key-deactivated")).toHaveLength(1);
    expect(incident.deliveryIds).toEqual(["d-1", "d-2", "d-3"]);
  });

  it("a replayed delivery of a handled alert reads the incident and asks GitHub nothing (facts.md: dedupe on X-GitHub-Delivery)", async () => {
    const w = world();
    await respondToAlert(w.job("d-1"), w.deps);
    expect(w.alerts.fetches).toBe(1);
    const replay = await respondToAlert(w.job("d-1"), w.deps);
    const redelivery = await respondToAlert(w.job("d-2"), w.deps);
    expect(replay.duplicate).toBe(true);
    expect(redelivery.duplicate).toBe(true);
    // GitHub's rate limit is not spent on replays: the incident says all is done.
    expect(w.alerts.fetches).toBe(1);
    expect(w.alerts.resolved).toHaveLength(1);
    expect(w.incidents.only().deliveryIds).toEqual(["d-1", "d-2"]);
  });

  it("a delivery that finds the alert not yet resolved by an earlier run asks GitHub its state before resolving", async () => {
    const w = world();
    w.alerts.failResolve.push(new PermanentFailure("GitHub refused", "Forbidden"));
    await respondToAlert(w.job("d-1"), w.deps, { finalAttempt: true });
    expect(w.alerts.resolved).toHaveLength(0);
    await respondToAlert(w.job("d-2"), w.deps);
    expect(w.alerts.fetches).toBe(2);
    expect(w.alerts.resolved).toHaveLength(1);
  });

  it("two concurrent deliveries race: one incident, one resolution, one notification", async () => {
    const w = world();
    const results = await Promise.all([
      respondToAlert(w.job("d-1"), w.deps),
      respondToAlert(w.job("d-2"), w.deps),
    ]);
    expect(results.filter((r) => r.duplicate)).toHaveLength(1);
    expect(w.incidents.creates).toBe(1);
    expect(w.alerts.resolved).toHaveLength(1);
    expect(w.notifier.sent).toHaveLength(1);
  });
});

describe("respondToAlert: a temporary (ASIA) key", () => {
  /** A world whose alert names an ASIA key of the member account, and the calls CloudTrail has for it. */
  function temporaryWorld(identity: TrailEvent["userIdentity"] | undefined, userName = "ci-deploy") {
    const sessionKey = fakeAccessKeyId("ASIA");
    const w = world({ userName, secret: () => sessionKey });
    w.directory.owners.set(sessionKey, w.member);
    const events: TrailEvent[] = identity
      ? [
          {
            eventId: "e-1",
            eventTime: "2026-11-26T01:00:00Z",
            eventName: "ListBuckets",
            eventSource: "s3.amazonaws.com",
            awsRegion: "eu-west-1",
            userIdentity: { ...identity, accessKeyId: sessionKey },
          },
        ]
      : [];
    w.directory.activity.set(w.member, {
      accountId: w.member,
      enabledRegions: async () => ["us-east-1", "eu-west-1"],
      lookupByAccessKey: async ({ region, accessKeyId }) => {
        const page = events.filter(
          (e) => e.awsRegion === region && e.userIdentity.accessKeyId === accessKeyId,
        );
        return { events: page, raw: page.map((e) => JSON.stringify(e)) };
      },
    });
    return { ...w, sessionKey };
  }

  it("GetSessionToken credentials: the minting user's older sessions are denied, no key is deactivated", async () => {
    const w = temporaryWorld({ type: "IAMUser", userName: "ci-deploy" });
    const { incident } = await respondToAlert(w.job(), w.deps);
    expect(incident.status).toBe("contained");
    expect(w.iam.userPolicies.get("ci-deploy")?.[0]?.cutoff).toBe(incident.containment?.containedAt);
    expect(w.iam.calls).not.toContain("UpdateAccessKey");
    expect(incident.summary).toContain("minted by user ci-deploy");
  });

  it("a protected user's session is escalated, nothing revoked", async () => {
    const w = temporaryWorld({ type: "IAMUser", userName: "break-glass" }, "break-glass");
    w.deps.settings = settings({ managedAccountIds: [w.member], protectedUsers: ["break-glass"] });
    const { incident } = await respondToAlert(w.job(), w.deps);
    expect(incident.status).toBe("escalated");
    expect(w.iam.calls).not.toContain("PutUserPolicy");
  });

  it("a key CloudTrail has no call for is escalated, saying events can lag, not reported as contained", async () => {
    const w = temporaryWorld(undefined);
    const { incident } = await respondToAlert(w.job(), w.deps);
    expect(incident.status).toBe("escalated");
    expect(incident.summary).toMatch(/no call by it in the last 36 hours/);
    expect(w.iam.calls).not.toContain("PutRolePolicy");
    expect(w.notifier.sent.map((n) => n.kind)).toEqual(["escalated"]);
  });
});

describe("respondToAlert: when it cannot or must not contain", () => {
  it("says not-ours for a key in an account it does not manage, changes nothing, and notifies", async () => {
    const w = world();
    w.directory.owners.set(w.accessKeyId, "123456789012");
    const { incident } = await respondToAlert(w.job(), w.deps);
    expect(incident.status).toBe("not-ours");
    expect(incident.summary).toContain("123456789012");
    expect(w.iam.keys.get(w.accessKeyId)?.status).toBe("Active");
    expect(w.alerts.resolved).toHaveLength(0);
    expect(w.notifier.sent.map((n) => n.kind)).toEqual(["not-ours"]);
  });

  it("escalates a protected user's key and leaves it active", async () => {
    const w = world({ userName: "break-glass" });
    w.deps.settings = settings({ managedAccountIds: [w.member], protectedUsers: ["break-glass"] });
    const { incident } = await respondToAlert(w.job(), w.deps);
    expect(incident.status).toBe("escalated");
    expect(incident.summary).toMatch(/protected user break-glass/);
    expect(w.iam.calls).not.toContain("UpdateAccessKey");
    expect(w.iam.calls).not.toContain("PutUserPolicy");
    expect(w.notifier.sent.map((n) => n.kind)).toEqual(["escalated"]);
  });

  it("treats protected user names case-insensitively, as IAM does (protected Admin covers admin)", async () => {
    const w = world({ userName: "admin" });
    w.deps.settings = settings({ managedAccountIds: [w.member], protectedUsers: ["Admin"] });
    const { incident } = await respondToAlert(w.job(), w.deps);
    expect(incident.status).toBe("escalated");
    expect(w.iam.keys.get(w.accessKeyId)?.status).toBe("Active");
    expect(w.iam.calls).not.toContain("UpdateAccessKey");
  });

  it("dry-run writes nothing (no IAM change, no incident, no alert resolution) and says what it would do", async () => {
    const w = world();
    w.deps.settings = settings({ managedAccountIds: [w.member], mode: "dry-run" });
    const { incident } = await respondToAlert(w.job(), w.deps);
    expect(incident.status).toBe("dry-run");
    expect(w.iam.calls).not.toContain("UpdateAccessKey");
    expect(w.iam.calls).not.toContain("PutUserPolicy");
    expect(w.incidents.records.size).toBe(0);
    expect(w.alerts.resolved).toHaveLength(0);
    expect(incident.timeline.filter((e) => e.outcome === "would-do").map((e) => e.step)).toEqual([
      "key-deactivated",
      "sessions-revoked",
      "alert-resolved",
    ]);
    expect(w.notifier.sent.map((n) => n.kind)).toEqual(["dry-run"]);
  });

  it("AccessDenied on deactivation gives a failed incident and the loud notification", async () => {
    const w = world();
    w.iam.failDeactivate.push(
      new PermanentFailure("iam:UpdateAccessKey: AWS denied it (AccessDenied)", "AccessDenied"),
    );
    const { incident } = await respondToAlert(w.job(), w.deps);
    expect(incident.status).toBe("failed");
    expect(incident.failure).toMatchObject({ step: "key-deactivated", code: "AccessDenied" });
    expect(w.alerts.resolved).toHaveLength(0);
    expect(w.notifier.sent.map((n) => n.kind)).toEqual(["failed"]);
  });

  it("a transient deactivation failure is tried again at once, and the key dies in the same delivery", async () => {
    const w = world();
    w.iam.failDeactivate.push(new TransientFailure("Throttling", "Throttling"));
    const { incident } = await respondToAlert(w.job(), w.deps);
    expect(incident.status).toBe("contained");
    expect(w.iam.keys.get(w.accessKeyId)?.status).toBe("Inactive");
    expect(w.incidents.creates).toBe(1);
  });

  it("a transient deactivation failure that outlasts the tries asks for a retry (no incident yet), and the last attempt records failed", async () => {
    const throttled = () => new TransientFailure("Throttling", "Throttling");
    const w = world();
    w.iam.failDeactivate.push(throttled(), throttled(), throttled());
    await expect(respondToAlert(w.job(), w.deps)).rejects.toBeInstanceOf(TransientFailure);
    expect(w.incidents.records.size).toBe(0);

    const retried = await respondToAlert(w.job(), w.deps);
    expect(retried.incident.status).toBe("contained");

    const other = world();
    other.iam.failDeactivate.push(throttled(), throttled(), throttled());
    const final = await respondToAlert(other.job(), other.deps, { finalAttempt: true });
    expect(final.incident.status).toBe("failed");
    expect(other.notifier.sent.map((n) => n.kind)).toEqual(["failed"]);
  });

  it("a failed incident is retried by a later delivery and becomes contained, still one incident", async () => {
    const w = world();
    w.iam.failDeactivate.push(new PermanentFailure("denied", "AccessDenied"));
    await respondToAlert(w.job("d-1"), w.deps);
    const { incident } = await respondToAlert(w.job("d-2", "reopened"), w.deps);
    expect(incident.status).toBe("contained");
    expect(w.incidents.creates).toBe(1);
    expect(w.incidents.only().deliveryIds).toEqual(["d-1", "d-2"]);
  });

  it("contains with warnings when the sessions cannot be revoked", async () => {
    const w = world();
    w.iam.failDeny.push(new PermanentFailure("denied", "AccessDenied"));
    const { incident } = await respondToAlert(w.job(), w.deps);
    expect(incident.status).toBe("contained-with-warnings");
    expect(incident.warnings.join(" ")).toMatch(/NOT revoked/);
    expect(w.iam.keys.get(w.accessKeyId)?.status).toBe("Inactive");
    // Sessions still valid for up to 36 hours: the loud message, not the reassuring one.
    expect(w.notifier.sent.map((n) => n.kind)).toEqual(["partial"]);
  });

  it("fails loudly when the alert holds no AWS key id", async () => {
    const w = world({ secret: () => "not-a-key" });
    const { incident } = await respondToAlert(w.job(), w.deps);
    expect(incident.status).toBe("failed");
    expect(incident.failure?.code).toBe("NoAccessKeyId");
    expect(w.notifier.sent.map((n) => n.kind)).toEqual(["failed"]);
  });

  it("a GitHub fetch denied is a failed incident, not silence", async () => {
    const w = world();
    w.alerts.failGet = new PermanentFailure("GitHub denied access", "github-403");
    const { incident } = await respondToAlert(w.job(), w.deps);
    expect(incident.status).toBe("failed");
    expect(incident.failure?.step).toBe("alert-fetched");
    expect(w.notifier.sent.map((n) => n.kind)).toEqual(["failed"]);
  });
});

describe("respondToAlert: resuming after partial failure", () => {
  it("Slack down: the incident is recorded, the message is retried, and the retry notifies once without resolving twice", async () => {
    const w = world();
    w.notifier.failures.push(new TransientFailure("Slack 500", "SlackFailed"));
    await expect(respondToAlert(w.job(), w.deps)).rejects.toBeInstanceOf(TransientFailure);
    const recorded = w.incidents.only();
    expect(recorded.status).toBe("contained");
    expect(recorded.timeline.find((e) => e.step === "notified")?.outcome).toBe("failed");

    await respondToAlert(w.job(), w.deps);
    expect(w.notifier.sent).toHaveLength(1);
    expect(w.alerts.resolved).toHaveLength(1);
    expect(w.iam.calls.filter((c) => c === "UpdateAccessKey")).toHaveLength(1);
  });

  it("GitHub resolution failing transiently is retried on the next delivery", async () => {
    const w = world();
    w.alerts.failResolve.push(new TransientFailure("GitHub 502", "github-502"));
    await expect(respondToAlert(w.job(), w.deps)).rejects.toBeInstanceOf(TransientFailure);
    expect(w.alerts.resolved).toHaveLength(0);
    await respondToAlert(w.job(), w.deps);
    expect(w.alerts.resolved).toHaveLength(1);
    expect(
      w.incidents
        .only()
        .timeline.filter((e) => e.step === "alert-resolved")
        .map((e) => e.outcome),
    ).toEqual(["failed", "done"]);
  });
});

describe("respondToKey for an AWS Health notice", () => {
  const notice = (accountId: string) => ({
    eventId: "7bf73129-1428-4cd3-a780-95db273d1602",
    eventArn: "arn:aws:health:global::event/RISK/AWS_RISK_CREDENTIALS_EXPOSED/x",
    accountId,
  });

  it("contains the key where it is, and says so when the notice named another account", async () => {
    const w = world();
    const { incident } = await respondToKey(w.accessKeyId, w.deps, { notice: notice(w.home) });
    expect(w.iam.keys.get(w.accessKeyId)?.status).toBe("Inactive");
    expect(incident.source).toBe("aws-health");
    expect(incident.warnings.join("\n")).toContain(
      `names account ${w.home}, but the key is in account ${w.member}`,
    );
  });

  it("says nothing of the account when the notice names the right one", async () => {
    const w = world();
    const { incident } = await respondToKey(w.accessKeyId, w.deps, { notice: notice(w.member) });
    expect(incident.warnings.join("\n")).not.toContain("AWS Health's notice names account");
  });
});

describe("respondToKey (manual)", () => {
  it("contains a key reported by hand, with no GitHub involved", async () => {
    const w = world();
    const { incident } = await respondToKey(w.accessKeyId, w.deps, { requestedBy: "alice" });
    expect(incident.status).toBe("contained");
    expect(incident.source).toBe("manual");
    expect(w.alerts.fetches).toBe(0);
    expect(w.alerts.resolved).toHaveLength(0);
    expect(w.iam.keys.get(w.accessKeyId)?.status).toBe("Inactive");
  });
});

describe("secret hygiene in the playbook", () => {
  it("the secret half never reaches the incident, the logs, the notification or the GitHub comment", async () => {
    const w = world();
    await respondToAlert(w.job(), w.deps);
    await respondToAlert(w.job("d-2"), w.deps);
    const everything = [
      JSON.stringify([...w.incidents.records.values()]),
      w.log.text(),
      JSON.stringify(w.notifier.sent),
      JSON.stringify(w.alerts.resolved),
    ].join("\n");
    expect(everything.length).toBeGreaterThan(500);
    expect(everything).not.toContain(w.secret);
  });
});
