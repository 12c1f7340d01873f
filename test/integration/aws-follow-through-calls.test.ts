/**
 * The follow-through's AWS reads against the sandbox's IAM (query protocol), over real HTTP with the
 * real @aws-sdk/client-iam, in a member account through the member role: a planned role's trust
 * policy (IAM returns it URL-encoded), GitHub's OIDC provider and its audiences, "not there" for
 * either, and AccessDenied (a member role not updated yet) as a permanent failure naming the call.
 */
import { IAMClient } from "@aws-sdk/client-iam";
import { STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { iamService } from "../../sandbox/aws/iam.js";
import { stsService } from "../../sandbox/aws/sts.js";
import { type DemoWorld, seedDemoWorld } from "../../sandbox/scenario.js";
import { Sandbox } from "../../sandbox/server.js";
import { AwsKeyDirectory } from "../../src/adapters/aws/account-access.js";
import type { AwsClients, TemporaryCredentials } from "../../src/adapters/aws/aws-clients.js";
import { PermanentFailure } from "../../src/domain/errors.js";
import { OIDC_PROVIDER_URL, providerArn, trustPolicy } from "../../src/oidc-plan/trust-policy.js";
import { judgeTrust } from "../../src/oidc-plan/trust-verdict.js";

const sandbox = new Sandbox({ services: [stsService, iamService] });
let world: DemoWorld;
const ROLE = "gh-acme-api-branch-main";

function directory(): AwsKeyDirectory {
  const base = { endpoint: sandbox.url, region: "us-east-1", credentials: world.responder };
  const unused = () => {
    throw new Error("not used by these reads");
  };
  const clients: AwsClients = {
    iam: (c?: TemporaryCredentials) => new IAMClient({ ...base, ...(c ? { credentials: c } : {}) }),
    cloudTrail: unused,
    account: unused,
  };
  return new AwsKeyDirectory({ sts: new STSClient(base), clients, memberRoleName: world.memberRoleName });
}

beforeAll(async () => {
  await sandbox.start();
  world = seedDemoWorld(sandbox);
});
afterAll(() => sandbox.stop());

describe("AccountIam's OIDC reads against the sandbox's IAM (real SDK client)", () => {
  it("reads a planned role's trust policy as JSON and GitHub's provider audiences, in the member account", async () => {
    const account = world.memberAccountId;
    const planned = trustPolicy(account, [
      { value: "repo:acme/api:ref:refs/heads/main", match: "StringEquals" },
    ]);
    sandbox.state.addRole(account, ROLE, []).trustPolicy = JSON.stringify(planned);
    sandbox.state.addOidcProvider(account, OIDC_PROVIDER_URL, ["sts.amazonaws.com"]);
    const iam = await directory().iamIn(account);
    const trust = await iam.roleTrustPolicy(ROLE);
    expect(JSON.parse(trust ?? "{}")).toEqual(planned);
    expect(judgeTrust(trust ?? "", "acme/api", account)).toEqual({ state: "created" });
    expect(await iam.oidcProviderAudiences(providerArn(account))).toEqual(["sts.amazonaws.com"]);
    const [read] = sandbox.state.callsTo("iam", "GetRole");
    expect(read?.accountId).toBe(account);
    expect(read?.callerArn).toContain(`assumed-role/${world.memberRoleName}`);
  });

  it("answers undefined for a role or provider that is not there (not an error: not created yet)", async () => {
    const iam = await directory().iamIn(world.homeAccountId);
    expect(await iam.roleTrustPolicy("gh-acme-api-env-production")).toBeUndefined();
    expect(await iam.oidcProviderAudiences(providerArn(world.homeAccountId))).toBeUndefined();
  });

  it("AccessDenied is a permanent failure that names the call", async () => {
    const iam = await directory().iamIn(world.memberAccountId);
    sandbox.faults.inject({ service: "iam", operation: "GetRole", kind: "access-denied", times: 1 });
    const error = await iam.roleTrustPolicy(ROLE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentFailure);
    expect((error as Error).message).toContain(`iam:GetRole ${ROLE}`);
  });
});
