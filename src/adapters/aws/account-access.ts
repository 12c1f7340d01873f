/**
 * Where a key lives, and the AWS APIs of that account (playbook step 2, "Locate"). The home account
 * uses the responder's own credentials; a member account is reached through the member-account
 * role, assumed once and cached while the credentials are valid; IAM and CloudTrail in that account
 * share them.
 */
import {
  AssumeRoleCommand,
  GetAccessKeyInfoCommand,
  GetCallerIdentityCommand,
  type STSClient,
} from "@aws-sdk/client-sts";
import { PermanentFailure } from "../../domain/errors.js";
import type { AccountIam, ActivityLog, KeyDirectory } from "../../ports.js";
import { AwsAccountIam } from "./account-iam.js";
import type { AwsClients, TemporaryCredentials } from "./aws-clients.js";
import { toResponderError } from "./aws-errors.js";
import { CloudTrailActivityLog } from "./cloudtrail-activity.js";

export interface AwsKeyDirectoryOptions {
  sts: STSClient;
  /** Builds the clients for the home credentials (undefined) or a member role's. */
  clients: AwsClients;
  memberRoleName: string;
  /** The member role's `sts:ExternalId` condition (infra/member-role.yml's ExternalId), if any. */
  externalId?: string;
  /** Known in advance in AWS (the function's account); looked up once otherwise. */
  homeAccountId?: string;
  /** Refresh assumed credentials this long before they expire. */
  refreshMarginMs?: number;
}

export class AwsKeyDirectory implements KeyDirectory {
  readonly #options: AwsKeyDirectoryOptions;
  #home: Promise<string> | undefined;
  readonly #members = new Map<string, { credentials: TemporaryCredentials; expiresAt: number }>();

  constructor(options: AwsKeyDirectoryOptions) {
    this.#options = options;
    if (options.homeAccountId) this.#home = Promise.resolve(options.homeAccountId);
  }

  async accountOf(accessKeyId: string): Promise<string> {
    try {
      const out = await this.#options.sts.send(new GetAccessKeyInfoCommand({ AccessKeyId: accessKeyId }));
      if (!out.Account) throw new PermanentFailure("sts:GetAccessKeyInfo returned no account", "NoAccount");
      return out.Account;
    } catch (error: unknown) {
      if (error instanceof PermanentFailure) throw error;
      throw toResponderError(error, "sts:GetAccessKeyInfo");
    }
  }

  homeAccountId(): Promise<string> {
    this.#home ??= this.#options.sts
      .send(new GetCallerIdentityCommand({}))
      .then((out) => {
        if (!out.Account)
          throw new PermanentFailure("sts:GetCallerIdentity returned no account", "NoAccount");
        return out.Account;
      })
      .catch((error: unknown) => {
        this.#home = undefined;
        throw error instanceof PermanentFailure ? error : toResponderError(error, "sts:GetCallerIdentity");
      });
    return this.#home;
  }

  async iamIn(accountId: string): Promise<AccountIam> {
    const credentials = await this.#credentialsFor(accountId);
    return new AwsAccountIam(accountId, credentials !== undefined, this.#options.clients.iam(credentials));
  }

  async activityIn(accountId: string): Promise<ActivityLog> {
    const credentials = await this.#credentialsFor(accountId);
    return new CloudTrailActivityLog(accountId, this.#options.clients, credentials);
  }

  /** undefined for the home account (the responder's own credentials). */
  async #credentialsFor(accountId: string): Promise<TemporaryCredentials | undefined> {
    if (accountId === (await this.homeAccountId())) return undefined;
    const cached = this.#members.get(accountId);
    if (cached && cached.expiresAt > Date.now()) return cached.credentials;
    const roleArn = `arn:aws:iam::${accountId}:role/${this.#options.memberRoleName}`;
    try {
      const out = await this.#options.sts.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: "leak-responder",
          DurationSeconds: 3600,
          ...(this.#options.externalId ? { ExternalId: this.#options.externalId } : {}),
        }),
      );
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
        throw new PermanentFailure(`sts:AssumeRole ${roleArn} returned no credentials`, "NoCredentials");
      }
      const credentials: TemporaryCredentials = {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        expiration: c.Expiration,
      };
      const margin = this.#options.refreshMarginMs ?? 5 * 60_000;
      this.#members.set(accountId, { credentials, expiresAt: c.Expiration.getTime() - margin });
      return credentials;
    } catch (error: unknown) {
      if (error instanceof PermanentFailure) throw error;
      throw toResponderError(error, `sts:AssumeRole ${roleArn} (is the member-account role deployed there?)`);
    }
  }
}
