/**
 * Issue 12, the respond side of `leak-responder selftest`: a selftest alert is answered with the
 * canary key only, GitHub is never asked about it, the delivery decides dry run or live but can
 * never make a dry-run responder act, and a dry run is recorded where the CLI reads it.
 */
import { describe, expect, it } from "vitest";
import { fakeAccessKeyId } from "../../sandbox/fake-ids.js";
import { SelftestAlertSource } from "../../src/adapters/github/selftest-alert-source.js";
import { loadRespondConfig } from "../../src/config.js";
import { incidentIdFor } from "../../src/domain/alert-job.js";
import { ConfigError } from "../../src/domain/errors.js";
import { type SelftestMode, selftestRepository } from "../../src/domain/selftest.js";
import { respondToAlert } from "../../src/playbook/respond.js";
import { world } from "../support/respond-world.js";

/** The unit world plus a canary key of its own user, in the same managed account. */
function canaryWorld(responderMode: "enforce" | "dry-run" = "enforce") {
  const w = world();
  const canaryKeyId = fakeAccessKeyId();
  w.directory.owners.set(canaryKeyId, w.owner);
  w.iam.keys.set(canaryKeyId, { userName: "leak-responder-canary", status: "Active" });
  w.deps.alerts = new SelftestAlertSource(w.alerts, canaryKeyId);
  w.deps.settings = { ...w.deps.settings, mode: responderMode };
  const selftestJob = (mode: SelftestMode, alertNumber = 1_800_000_000) => {
    const { installationId: _none, ...job } = w.job(`selftest-${mode}`);
    return {
      ...job,
      repository: selftestRepository(mode),
      alertNumber,
      incidentId: incidentIdFor(selftestRepository(mode), alertNumber),
    };
  };
  return { ...w, canaryKeyId, selftestJob };
}

describe("a selftest alert on the respond side", () => {
  it("dry run: the canary is located, nothing changes, and the result is recorded for the CLI", async () => {
    const w = canaryWorld();
    const job = w.selftestJob("dry-run");
    const { incident } = await respondToAlert(job, w.deps);
    expect(incident).toMatchObject({ status: "dry-run", mode: "dry-run", accessKeyId: w.canaryKeyId });
    expect(w.iam.keys.get(w.canaryKeyId)?.status).toBe("Active");
    expect((await w.incidents.get(job.incidentId))?.incident.status).toBe("dry-run");
    expect(w.alerts.fetches).toBe(0);
    expect(w.notifier.sent.map((s) => s.kind)).toEqual(["dry-run"]);
  });

  it("live: the canary is deactivated, the real leaked key is untouched, GitHub is never called", async () => {
    const w = canaryWorld();
    const { incident } = await respondToAlert(w.selftestJob("live"), w.deps);
    expect(incident.status).toBe("contained");
    expect(w.iam.keys.get(w.canaryKeyId)?.status).toBe("Inactive");
    expect(w.iam.keys.get(w.accessKeyId)?.status).toBe("Active");
    expect(w.alerts.fetches).toBe(0);
    expect(w.alerts.resolved).toEqual([]);
  });

  it("a live selftest cannot make a dry-run responder act", async () => {
    const w = canaryWorld("dry-run");
    const { incident } = await respondToAlert(w.selftestJob("live"), w.deps);
    expect(incident.status).toBe("dry-run");
    expect(w.iam.keys.get(w.canaryKeyId)?.status).toBe("Active");
  });

  it("the reserved owner delivered by an App installation is a real alert, read from GitHub", async () => {
    const w = canaryWorld();
    const job = { ...w.selftestJob("live"), installationId: 42 };
    const { incident } = await respondToAlert(job, w.deps);
    expect(w.alerts.fetches).toBe(1);
    expect(incident.accessKeyId).toBe(w.accessKeyId);
  });

  it("without SELFTEST_CANARY_KEY_ID a selftest fails, saying what to set, and touches no key", async () => {
    const w = canaryWorld();
    w.deps.alerts = new SelftestAlertSource(w.alerts, undefined);
    const { incident } = await respondToAlert(w.selftestJob("live"), w.deps, { finalAttempt: true });
    expect(incident.status).toBe("failed");
    expect(JSON.stringify(incident.timeline)).toContain("SELFTEST_CANARY_KEY_ID is not set");
    expect(w.iam.keys.get(w.canaryKeyId)?.status).toBe("Active");
    expect(w.iam.keys.get(w.accessKeyId)?.status).toBe("Active");
  });
});

describe("SELFTEST_CANARY_KEY_ID", () => {
  const base = { INCIDENT_DIR: "/tmp/x", GITHUB_TOKEN: "t" };
  it("is read as the canary's key id, and anything but an IAM user's key id is refused by name", () => {
    const id = fakeAccessKeyId();
    expect(loadRespondConfig({ ...base, SELFTEST_CANARY_KEY_ID: id }).selftestCanaryKeyId).toBe(id);
    expect(loadRespondConfig(base).selftestCanaryKeyId).toBeUndefined();
    expect(() => loadRespondConfig({ ...base, SELFTEST_CANARY_KEY_ID: fakeAccessKeyId("ASIA") })).toThrow(
      ConfigError,
    );
    expect(() => loadRespondConfig({ ...base, SELFTEST_CANARY_KEY_ID: "*" })).toThrow(
      /SELFTEST_CANARY_KEY_ID/,
    );
  });
});
