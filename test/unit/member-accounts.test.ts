/**
 * Member accounts from the organisation (issue 12): a key in an account of the organisation that the
 * static MANAGED_ACCOUNT_IDS does not list is contained, not reported as "not ours".
 */
import { describe, expect, it } from "vitest";
import { respondToAlert } from "../../src/playbook/respond.js";
import { settings } from "../support/fakes.js";
import { world } from "../support/respond-world.js";

describe("member accounts from AWS Organizations", () => {
  it("contains a key in an organisation account missing from the static list", async () => {
    const w = world();
    w.deps.settings = settings({ managedAccountIds: [] });
    w.deps.memberAccounts = { list: async () => [w.member] };
    const { incident } = await respondToAlert(w.job(), w.deps);
    expect(incident.status).not.toBe("not-ours");
    expect(w.iam.keys.get(w.accessKeyId)?.status).toBe("Inactive");
  });

  it("still reports a key outside both the list and the organisation as not ours, untouched", async () => {
    const w = world();
    w.deps.settings = settings({ managedAccountIds: [] });
    w.deps.memberAccounts = { list: async () => [] };
    const { incident } = await respondToAlert(w.job(), w.deps);
    expect(incident.status).toBe("not-ours");
    expect(w.iam.keys.get(w.accessKeyId)?.status).toBe("Active");
  });
});
