/**
 * Member accounts from AWS Organizations (issue 12), with the real @aws-sdk/client-organizations against
 * the sandbox's ListAccounts (JSON 1.1): every page, ACTIVE accounts only, one listing per cache period;
 * and the member role's ExternalId, end to end through the real STS client.
 */
import { AccountClient } from "@aws-sdk/client-account";
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { IAMClient } from "@aws-sdk/client-iam";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { iamService } from "../../sandbox/aws/iam.js";
import { organizationsService } from "../../sandbox/aws/organizations.js";
import { stsService } from "../../sandbox/aws/sts.js";
import { fakeAccountId } from "../../sandbox/fake-ids.js";
import { type DemoWorld, seedDemoWorld } from "../../sandbox/scenario.js";
import { Sandbox } from "../../sandbox/server.js";
import type { OrganizationAccountState } from "../../sandbox/state.js";
import { AwsKeyDirectory } from "../../src/adapters/aws/account-access.js";
import type { AwsClients, TemporaryCredentials } from "../../src/adapters/aws/aws-clients.js";
import { OrganizationAccounts } from "../../src/adapters/aws/organization-accounts.js";
import { PermanentFailure } from "../../src/domain/errors.js";

const sandbox = new Sandbox({ services: [stsService, iamService, organizationsService] });
let world: DemoWorld;
const managementAccountId = fakeAccountId();
const activeMembers: string[] = [];
const inactiveMembers: string[] = [];

function base(region = "us-east-1", credentials?: TemporaryCredentials) {
  return { endpoint: sandbox.url, region, credentials: credentials ?? world.responder, maxAttempts: 1 };
}

function organizationAccounts(now?: () => number): OrganizationAccounts {
  return new OrganizationAccounts(new OrganizationsClient(base()), now ? { now } : {});
}

beforeAll(async () => {
  await sandbox.start();
  world = seedDemoWorld(sandbox);
  const members = new Map<string, OrganizationAccountState>([
    [managementAccountId, "ACTIVE"],
    [world.homeAccountId, "ACTIVE"],
    [world.memberAccountId, "ACTIVE"],
  ]);
  // More than two pages of 20, and every state an account can be in.
  for (let i = 0; i < 45; i++) members.set(fakeAccountId(), "ACTIVE");
  for (const state of ["SUSPENDED", "PENDING_CLOSURE", "CLOSED"] as const) {
    const id = fakeAccountId();
    members.set(id, state);
    inactiveMembers.push(id);
  }
  for (const [id, state] of members) if (state === "ACTIVE") activeMembers.push(id);
  sandbox.state.organization = {
    id: "o-sandbox1234",
    managementAccountId,
    // The responder's home account is a delegated administrator (README, Deploy).
    delegatedAdministrators: new Set([world.homeAccountId]),
    members,
  };
});
afterAll(() => sandbox.stop());

describe("OrganizationAccounts (organizations:ListAccounts)", () => {
  it("lists every ACTIVE account across pages and leaves suspended and closed ones out", async () => {
    const ids = await organizationAccounts().list();
    expect([...ids].sort()).toEqual([...activeMembers].sort());
    for (const id of inactiveMembers) expect(ids).not.toContain(id);
    expect(sandbox.state.callsTo("organizations", "ListAccounts").length).toBe(3);
  });

  it("lists once per cache period, and again once it has passed (a new account is covered)", async () => {
    let now = 1_000_000;
    const accounts = organizationAccounts(() => now);
    const before = sandbox.state.callsTo("organizations", "ListAccounts").length;
    await accounts.list();
    const joined = fakeAccountId();
    sandbox.state.organization?.members.set(joined, "ACTIVE");
    now += 60_000;
    expect(await accounts.list()).not.toContain(joined);
    now += 5 * 60_000;
    expect(await accounts.list()).toContain(joined);
    expect(sandbox.state.callsTo("organizations", "ListAccounts").length - before).toBe(6);
  });

  it("says which permission is missing when the home account may not list the organisation", async () => {
    sandbox.state.organization?.delegatedAdministrators.delete(world.homeAccountId);
    try {
      await expect(organizationAccounts().list()).rejects.toThrow(
        /organizations:ListAccounts.*AccessDenied/s,
      );
    } finally {
      sandbox.state.organization?.delegatedAdministrators.add(world.homeAccountId);
    }
  });
});

describe("the member role's ExternalId", () => {
  function directory(externalId?: string): AwsKeyDirectory {
    const clients: AwsClients = {
      iam: (c) => new IAMClient(base("us-east-1", c)),
      cloudTrail: (region, c) => new CloudTrailClient(base(region, c)),
      account: (c) => new AccountClient(base("us-east-1", c)),
    };
    return new AwsKeyDirectory({
      sts: new STSClient(base()),
      clients,
      memberRoleName: world.memberRoleName,
      ...(externalId ? { externalId } : {}),
    });
  }

  it("is sent with AssumeRole, and a role that requires it refuses a responder without it", async () => {
    const role = sandbox.state.account(world.memberAccountId).roles.get(world.memberRoleName);
    if (!role) throw new Error("the demo world has no member role");
    role.externalId = "leak-responder-test-external-id";
    try {
      await expect(directory().iamIn(world.memberAccountId)).rejects.toBeInstanceOf(PermanentFailure);
      await expect(directory("another-id").iamIn(world.memberAccountId)).rejects.toThrow(/AccessDenied/);
      const iam = await directory("leak-responder-test-external-id").iamIn(world.memberAccountId);
      expect(iam.viaMemberRole).toBe(true);
      expect((await iam.findKeyOwner(world.leaked.key.accessKeyId))?.userName).toBe("ci-deploy");
    } finally {
      delete role.externalId;
    }
  });
});
