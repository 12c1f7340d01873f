/**
 * The demo's world, also used by the end-to-end tests: a home account where the responder runs, a
 * member account with the member role, a CI user whose key leaked in a repository and already
 * minted a session token, and the GitHub side (an App installation and an open alert).
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { fakeAccountId } from "./fake-ids.js";
import type { Sandbox } from "./server.js";
import type { AccessKeyRecord, GitHubAlert } from "./state.js";

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
}

export interface DemoWorldOptions {
  /** Put the leaked key in the home account instead of the member account. */
  keyInHomeAccount?: boolean;
  repository?: string;
  userName?: string;
  /** What the alert's `secret` holds (defaults to the key id and its secret half, as a pair). */
  alertSecret?: (key: AccessKeyRecord) => string;
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
  key.lastUsed = { date: new Date(now - 3_600_000), service: "s3", region: "eu-west-1" };
  state.addUser(keyAccount, "break-glass-admin");

  const minted = state.issueTemporaryCredentials({
    accountId: keyAccount,
    arn: user.arn,
    userId: user.userId,
    kind: "session",
    userName,
    issuedAt: new Date(now - 2 * 3_600_000),
    expiresAt: new Date(now + 34 * 3_600_000),
  });

  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const appId = state.nextNumericId();
  state.githubApps.set(appId, { publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString() });
  const installationId = state.nextNumericId();
  const repository = options.repository ?? "acme/payments-api";
  state.addRepo(repository, { installationId, defaultBranch: "main", environments: ["production"] });
  const commitSha = randomBytes(20).toString("hex");
  const alert = state.addAlert(repository, {
    secretType: "aws_access_key_id",
    secretTypeDisplayName: "Amazon AWS Access Key ID",
    secret: options.alertSecret ? options.alertSecret(key) : `${key.accessKeyId}\n${key.secretAccessKey}`,
    createdAt: new Date(now - 60_000).toISOString(),
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

  const bucket = "leak-responder-incidents";
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
    app: { appId, privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString() },
    leaked: { userName, accountId: keyAccount, key, alert },
    mintedSession: {
      accessKeyId: minted.accessKeyId,
      secretAccessKey: minted.secretAccessKey,
      sessionToken: minted.sessionToken ?? "",
    },
    bucket,
    webhookSecret: randomBytes(24).toString("base64url"),
  };
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
