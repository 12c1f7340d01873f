/**
 * A storm on top of the demo's world: a whole organisation's keys leaking at once (an exposed `.env`
 * in a popular repository, a mass secret-scanning backfill). Many long-term keys spread over several
 * member accounts, each committed to one of many repositories with an open alert, each with a short
 * CI history in CloudTrail, so every incident's snapshot has real pages to read in some regions.
 */
import { randomBytes, randomInt } from "node:crypto";
import { fakeAccountId } from "./fake-ids.js";
import { DEMO_WORKFLOWS, type DemoWorld } from "./scenario.js";
import type { Sandbox } from "./server.js";
import { addressIn, ciHistory } from "./trail-history.js";

export interface StormOptions {
  /** Alerts in all, the demo's own included (default 500). */
  alerts?: number;
  /** Accounts holding the keys, the demo's home and member accounts included (default 5). */
  accounts?: number;
  /** Repositories the keys leaked in, the demo's own included (default 25). */
  repositories?: number;
  /** CI events per key (default 6), in one of a few regions. */
  eventsPerKey?: number;
  /**
   * What every storm alert's secret half starts with: a test plants one unique value here and
   * searches every output for it (design.md: never log, store or send the secret).
   */
  secretPrefix?: string;
}

export interface StormAlert {
  repository: string;
  number: number;
  accessKeyId: string;
  accountId: string;
  userName: string;
}

export interface StormWorld {
  /** Every account holding a storm key (member role in each); MANAGED_ACCOUNT_IDS needs them. */
  accountIds: string[];
  repositories: string[];
  /** Every alert of the storm, the demo's own first. */
  alerts: StormAlert[];
}

const DEPLOY_REGIONS = ["eu-west-1", "us-east-1", "us-west-2", "ap-southeast-2", "eu-central-1"];

export function seedStorm(sandbox: Sandbox, world: DemoWorld, options: StormOptions = {}): StormWorld {
  const state = sandbox.state;
  const alertCount = options.alerts ?? 500;
  const accountCount = Math.max(2, options.accounts ?? 5);
  const repositoryCount = Math.max(1, options.repositories ?? 25);
  const eventsPerKey = options.eventsPerKey ?? 6;
  const now = Date.now();

  const accountIds = [world.memberAccountId, world.homeAccountId];
  for (let i = accountIds.length; i < accountCount; i++) {
    const id = fakeAccountId();
    state.addAccount(id, `workload-${i}`);
    state.addRole(id, world.memberRoleName, [world.responderRoleArn]);
    accountIds.push(id);
  }

  const owner = world.repository.split("/")[0] ?? "acme";
  const repositories = [world.repository];
  for (let i = 1; i < repositoryCount; i++) {
    const name = `${owner}/service-${String(i).padStart(2, "0")}`;
    state.addRepo(name, {
      installationId: world.installationId,
      defaultBranch: "main",
      environments: ["production"],
      files: new Map(Object.entries(DEMO_WORKFLOWS)),
    });
    repositories.push(name);
  }

  const runnerRanges = state.githubMeta.actions.filter((cidr) => !cidr.includes(":"));
  const runnerIps = Array.from({ length: 6 }, (_, i) =>
    addressIn(runnerRanges[i % runnerRanges.length] ?? ""),
  );
  const alerts: StormAlert[] = [
    {
      repository: world.repository,
      number: world.leaked.alert.number,
      accessKeyId: world.leaked.key.accessKeyId,
      accountId: world.leaked.accountId,
      userName: world.leaked.userName,
    },
  ];
  for (let i = 1; i < alertCount; i++) {
    const accountId = accountIds[i % accountIds.length] ?? world.memberAccountId;
    const repository = repositories[i % repositories.length] ?? world.repository;
    const repo = state.repo(repository);
    if (!repo) throw new Error(`sandbox: no repository ${repository}`);
    const userName = `ci-${repo.name}-${i}`;
    const user = state.addUser(accountId, userName);
    const key = state.addAccessKey(accountId, userName, { createdAt: new Date(now - 200 * 86_400_000) });
    key.lastUsed = { date: new Date(now - 3_600_000), service: "s3", region: "eu-west-1" };
    const region = DEPLOY_REGIONS[i % DEPLOY_REGIONS.length] ?? "eu-west-1";
    state.addTrailRecords(
      accountId,
      ciHistory({
        accountId,
        userName,
        accessKeyId: key.accessKeyId,
        principalId: user.userId,
        from: new Date(now - 7 * 86_400_000),
        to: new Date(now - 3_600_000),
        runnerIps,
        count: eventsPerKey,
        regions: [region],
        repositoryName: repo.name,
      }),
    );

    const commitSha = randomBytes(20).toString("hex");
    const committedAt = new Date(now - randomInt(2, 30) * 60_000);
    repo.commits ??= new Map();
    repo.commits.set(commitSha, { date: committedAt.toISOString(), message: "Add .env" });
    const secretHalf = `${options.secretPrefix ?? ""}${key.secretAccessKey}`;
    const alert = state.addAlert(repository, {
      secretType: "aws_access_key_id",
      secretTypeDisplayName: "Amazon AWS Access Key ID",
      secret: `${key.accessKeyId}\n${secretHalf}`,
      createdAt: new Date(committedAt.getTime() + 60_000).toISOString(),
      locations: [
        {
          type: "commit",
          details: {
            path: ".env",
            start_line: 3,
            end_line: 4,
            start_column: 19,
            end_column: 59,
            blob_sha: randomBytes(20).toString("hex"),
            commit_sha: commitSha,
            blob_url: `https://github.com/${repository}/blob/${commitSha}/.env`,
            commit_url: `https://github.com/${repository}/commit/${commitSha}`,
          },
        },
      ],
    });
    alerts.push({ repository, number: alert.number, accessKeyId: key.accessKeyId, accountId, userName });
  }
  return { accountIds, repositories, alerts };
}
