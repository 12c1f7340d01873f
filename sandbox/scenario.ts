/**
 * The demo's world, also used by the end-to-end tests: a home account where the responder runs, a
 * member account with the member role, a CI user whose key leaked in a repository and already
 * minted a session token, the GitHub side (an App installation and an open alert), and the key's
 * CloudTrail history: CI deploys from GitHub Actions runners, then an attacker after the leak.
 */
import { generateKeyPairSync, randomBytes, randomInt } from "node:crypto";
import { fakeAccessKeyId, fakeAccountId } from "./fake-ids.js";
import type { Sandbox } from "./server.js";
import type { AccessKeyRecord, CredentialRecord, GitHubAlert, TrailRecord } from "./state.js";
import { addressIn, attackerStory, ciHistory } from "./trail-history.js";

export interface TemporaryCredentialSet {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

export interface DemoWorld {
  homeAccountId: string;
  memberAccountId: string;
  responderRoleArn: string;
  /** The responder's own credentials (its function role's session). */
  responder: TemporaryCredentialSet;
  memberRoleName: string;
  repository: string;
  installationId: number;
  app: { appId: number; privateKeyPem: string };
  leaked: { userName: string; accountId: string; key: AccessKeyRecord; alert: GitHubAlert };
  /** A session the leaked key minted before anyone noticed (GetSessionToken). */
  mintedSession: TemporaryCredentialSet;
  bucket: string;
  webhookSecret: string;
  /** The leaked key's CloudTrail history, as seeded (see DemoHistory). */
  history: DemoHistory;
}

/** What the seeded CloudTrail history holds, for tests to check the responder's forensics against. */
export interface DemoHistory {
  /**
   * The GitHub Actions runner ranges the sandbox's `GET /meta` serves (field `actions`); every CI
   * event comes from an address inside the IPv4 ones (facts.md: tell the expected CI from others).
   */
  runnerCidrs: string[];
  /** Where every attacker event comes from (outside the runner ranges). */
  attackerIp: string;
  /** The attacker's first call is 47 s after this. */
  leakedAt: Date;
  /** The role the minted session assumed, in the key's account, and the session AssumeRole returned. */
  assumedRoleName: string;
  assumedRoleArn: string;
  roleSession: TemporaryCredentialSet;
  /** The user the attacker created (CreateUser succeeded; it exists in the key's account). */
  createdUserName: string;
  /**
   * How many events LookupEvents returns per access key id (the leaked AKIA key, the minted session,
   * the role session): management events only, all within the last 90 days.
   */
  eventCounts: Record<string, number>;
  /** The regions holding any of those events. */
  regions: string[];
}

export interface DemoWorldOptions {
  /** Put the leaked key in the home account instead of the member account. */
  keyInHomeAccount?: boolean;
  repository?: string;
  userName?: string;
  /** What the alert's `secret` holds (defaults to the key id and its secret half, as a pair). */
  alertSecret?: (key: AccessKeyRecord) => string;
  /** The GitHub App's RSA key pair (PEM): tests that build many worlds generate one, it is slow. */
  appKeyPair?: { publicKeyPem: string; privateKeyPem: string };
}

export function seedDemoWorld(sandbox: Sandbox, options: DemoWorldOptions = {}): DemoWorld {
  const state = sandbox.state;
  const homeAccountId = fakeAccountId();
  const memberAccountId = fakeAccountId();
  state.addAccount(homeAccountId, "security-tooling");
  state.addAccount(memberAccountId, "payments-prod");

  const responderRole = state.addRole(homeAccountId, "leak-responder-respond", [homeAccountId]);
  const now = Date.now();
  const responderCreds = state.issueTemporaryCredentials({
    accountId: homeAccountId,
    arn: `arn:aws:sts::${homeAccountId}:assumed-role/${responderRole.name}/respond`,
    userId: `${responderRole.roleId}:respond`,
    kind: "assumed-role",
    roleName: responderRole.name,
    issuedAt: new Date(now),
    expiresAt: new Date(now + 12 * 3600_000),
  });
  const memberRoleName = "LeakResponderMember";
  state.addRole(memberAccountId, memberRoleName, [responderRole.arn]);
  state.addRole(homeAccountId, memberRoleName, [responderRole.arn]);

  const keyAccount = options.keyInHomeAccount ? homeAccountId : memberAccountId;
  const userName = options.userName ?? "ci-deploy";
  const user = state.addUser(keyAccount, userName);
  const key = state.addAccessKey(keyAccount, userName, { createdAt: new Date(now - 400 * 86_400_000) });
  // IAM's last-used data lags CloudTrail by up to hours, so it still names the CI's S3 use rather
  // than the attacker's calls of the last minutes.
  key.lastUsed = { date: new Date(now - 3_600_000), service: "s3", region: "eu-west-1" };
  state.addUser(keyAccount, "break-glass-admin");

  const alertCreatedAt = now - 60_000;
  // The push that leaked the key; the attack starts minutes later.
  const committedAt = new Date(alertCreatedAt - 9 * 60_000);
  const history = seedHistory(sandbox, {
    accountId: keyAccount,
    userName,
    principalId: user.userId,
    accessKeyId: key.accessKeyId,
    now,
    // The attack starts minutes after the push and is still going when GitHub raises the alert.
    leakedAt: new Date(alertCreatedAt - 6 * 60_000),
  });
  const minted = history.minted;

  const appKeys = options.appKeyPair ?? demoAppKeyPair();
  const appId = state.nextNumericId();
  state.githubApps.set(appId, { publicKeyPem: appKeys.publicKeyPem });
  const installationId = state.nextNumericId();
  const repository = options.repository ?? "example-org/payments-api";
  const commitSha = randomBytes(20).toString("hex");
  state.addRepo(repository, {
    installationId,
    defaultBranch: "main",
    environments: ["production"],
    commits: new Map([[commitSha, { date: committedAt.toISOString(), message: "Add deploy settings" }]]),
    files: new Map(Object.entries(DEMO_WORKFLOWS)),
    // The secrets its workflows read, and one that has nothing to do with AWS (names only).
    actionsSecrets: ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "CODECOV_TOKEN"],
  });
  const alert = state.addAlert(repository, {
    secretType: "aws_access_key_id",
    secretTypeDisplayName: "Amazon AWS Access Key ID",
    secret: options.alertSecret ? options.alertSecret(key) : `${key.accessKeyId}\n${key.secretAccessKey}`,
    createdAt: new Date(alertCreatedAt).toISOString(),
    locations: [
      {
        type: "commit",
        details: {
          path: "deploy/settings.env",
          start_line: 12,
          end_line: 13,
          start_column: 19,
          end_column: 39,
          blob_sha: randomBytes(20).toString("hex"),
          commit_sha: commitSha,
          blob_url: `https://github.com/${repository}/blob/${commitSha}/deploy/settings.env`,
          commit_url: `https://github.com/${repository}/commit/${commitSha}`,
        },
      },
    ],
  });

  const bucket = "example-org-incidents";
  state.buckets.set(bucket, new Map());

  return {
    homeAccountId,
    memberAccountId,
    responderRoleArn: responderRole.arn,
    responder: {
      accessKeyId: responderCreds.accessKeyId,
      secretAccessKey: responderCreds.secretAccessKey,
      sessionToken: responderCreds.sessionToken ?? "",
    },
    memberRoleName,
    repository,
    installationId,
    app: { appId, privateKeyPem: appKeys.privateKeyPem },
    leaked: { userName, accountId: keyAccount, key, alert },
    mintedSession: {
      accessKeyId: minted.accessKeyId,
      secretAccessKey: minted.secretAccessKey,
      sessionToken: minted.sessionToken ?? "",
    },
    bucket,
    webhookSecret: randomBytes(24).toString("base64url"),
    history: history.demo,
  };
}

/** A fresh RSA key pair for the demo's GitHub App (the App signs its JWTs with it). */
export function demoAppKeyPair(): { publicKeyPem: string; privateKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

/** GitHub Actions runner ranges for the demo: documentation ranges (RFC 5737, RFC 3849), never real hosts. */
const RUNNER_CIDRS = ["198.51.100.0/24", "203.0.113.0/24", "2001:db8:4a::/48"];

/**
 * The leaked key's CloudTrail history: two weeks of CI deploys from runner addresses (up to an hour
 * ago), then the attacker story from leakedAt, whose GetSessionToken and AssumeRole mint the live
 * credentials returned here (issued when the trail says they were). Also serves the runner ranges at
 * GitHub's /meta.
 */
function seedHistory(
  sandbox: Sandbox,
  input: {
    accountId: string;
    userName: string;
    principalId: string;
    accessKeyId: string;
    now: number;
    leakedAt: Date;
  },
): { demo: DemoHistory; minted: CredentialRecord & { accessKeyId: string } } {
  const state = sandbox.state;
  const { accountId, userName, now } = input;
  const owner = { accountId, userName, accessKeyId: input.accessKeyId, principalId: input.principalId };
  state.githubMeta = { actions: [...RUNNER_CIDRS] };
  const ipv4Ranges = RUNNER_CIDRS.filter((cidr) => !cidr.includes(":"));
  const runnerIps = Array.from({ length: 6 }, (_, i) => addressIn(ipv4Ranges[i % ipv4Ranges.length] ?? ""));
  const attackerIp = `192.0.2.${randomInt(2, 254)}`;

  const ci = ciHistory({
    ...owner,
    from: new Date(now - 14 * 86_400_000),
    to: new Date(now - 3_600_000),
    runnerIps,
    count: 160,
    regions: ["eu-west-1"],
  });

  const assumedRoleName = "deploy-admin";
  // The CI user's account trusts its own principals with the role, as many deploy roles do.
  const role = state.addRole(accountId, assumedRoleName, [accountId]);
  const story = attackerStory({
    ...owner,
    leakedAt: input.leakedAt,
    attackerIp,
    mintedSession: { accessKeyId: fakeAccessKeyId("ASIA") },
    roleToAssume: role.arn,
    roleId: role.roleId,
    roleSession: { accessKeyId: fakeAccessKeyId("ASIA") },
  });
  const roleSession = story.roleSession;
  if (!roleSession) throw new Error("sandbox: the attacker story assumed no role");

  // The credentials the trail says were minted, live in the sandbox from the moment it says so.
  const user = state.user(accountId, userName);
  const minted = state.issueTemporaryCredentials(
    {
      accountId,
      arn: user.arn,
      userId: user.userId,
      kind: "session",
      userName,
      issuedAt: story.sessionIssuedAt,
      expiresAt: new Date(story.sessionIssuedAt.getTime() + 36 * 3_600_000),
    },
    story.sessionAccessKeyId,
  );
  const assumed = state.issueTemporaryCredentials(
    {
      accountId,
      arn: `arn:aws:sts::${accountId}:assumed-role/${assumedRoleName}/${roleSession.sessionName}`,
      userId: `${role.roleId}:${roleSession.sessionName}`,
      kind: "assumed-role",
      roleName: assumedRoleName,
      issuedAt: roleSession.issuedAt,
      expiresAt: new Date(roleSession.issuedAt.getTime() + 3_600_000),
    },
    roleSession.accessKeyId,
  );
  // The persistence the trail records: the user exists, with the policy the role attached.
  const created = state.addUser(accountId, story.createdUserName);
  created.attachedPolicies.push({
    policyName: "AdministratorAccess",
    policyArn: "arn:aws:iam::aws:policy/AdministratorAccess",
  });

  const records = [...ci, ...story.records];
  state.addTrailRecords(accountId, records);
  return {
    minted,
    demo: {
      runnerCidrs: [...RUNNER_CIDRS],
      attackerIp,
      leakedAt: input.leakedAt,
      assumedRoleName,
      assumedRoleArn: role.arn,
      roleSession: {
        accessKeyId: assumed.accessKeyId,
        secretAccessKey: assumed.secretAccessKey,
        sessionToken: assumed.sessionToken ?? "",
      },
      createdUserName: story.createdUserName,
      eventCounts: lookupCounts(records),
      regions: [...new Set(records.filter((r) => r.managementEvent).map((r) => r.awsRegion))].sort(),
    },
  };
}

/** Management events per access key id: what LookupEvents by AccessKeyId returns for each. */
function lookupCounts(records: TrailRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const record of records) {
    const keyId = record.userIdentity.accessKeyId;
    if (!record.managementEvent || !keyId) continue;
    counts[keyId] = (counts[keyId] ?? 0) + 1;
  }
  return counts;
}

/** The environment that points the responder at the sandbox for this world (as `serve --sandbox` does). */
export function demoEnv(
  sandbox: Sandbox,
  world: DemoWorld,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: sandbox.url,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: world.responder.accessKeyId,
    AWS_SECRET_ACCESS_KEY: world.responder.secretAccessKey,
    AWS_SESSION_TOKEN: world.responder.sessionToken,
    GITHUB_API_URL: sandbox.githubUrl,
    GITHUB_APP_ID: String(world.app.appId),
    GITHUB_APP_PRIVATE_KEY: world.app.privateKeyPem,
    GITHUB_WEBHOOK_SECRET: world.webhookSecret,
    SLACK_WEBHOOK_URL: sandbox.slackWebhookUrl,
    INCIDENT_BUCKET: world.bucket,
    MANAGED_ACCOUNT_IDS: world.memberAccountId,
    MEMBER_ROLE_NAME: world.memberRoleName,
    PROTECTED_USERS: "break-glass-admin",
    ...extra,
  };
}

/** The demo repository's workflows: static keys the OIDC plan must migrate (secret names only). */
export const DEMO_WORKFLOWS: Record<string, string> = {
  ".github/workflows/deploy.yml": `name: Deploy
on:
  push:
    branches: [main]

jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: npm ci && npm test

  deploy:
    needs: test
    runs-on: ubuntu-latest
    environment: production
    steps:
      - uses: actions/checkout@v4
      # Static keys: what leaked. The plan replaces them with a role.
      - uses: aws-actions/configure-aws-credentials@v1
        with:
          aws-access-key-id: \${{ secrets.AWS_ACCESS_KEY_ID }}
          aws-secret-access-key: \${{ secrets.AWS_SECRET_ACCESS_KEY }}
          aws-region: eu-west-1
      - run: aws s3 sync ./dist s3://example-org-payments-deploy/releases/
      - run: aws cloudformation deploy --stack-name payments-api --template-file stack.yml
`,
  ".github/workflows/nightly-report.yml": `name: Nightly report
on:
  schedule:
    - cron: "0 3 * * *"
env:
  AWS_ACCESS_KEY_ID: \${{ secrets.AWS_ACCESS_KEY_ID }}
  AWS_SECRET_ACCESS_KEY: \${{ secrets.AWS_SECRET_ACCESS_KEY }}
  AWS_DEFAULT_REGION: eu-west-1
jobs:
  report:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: aws s3 cp s3://example-org-payments-deploy/reports/latest.csv .
`,
};
