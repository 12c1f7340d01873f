/**
 * Where a key lives and IAM in that account (playbook step 2, "Locate", and the IAM calls of
 * step 3, "Contain"). The home account uses the responder's own credentials; a member account is
 * reached through the member-account role, assumed once and cached while the credentials are valid.
 */
import {
  GetAccessKeyLastUsedCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from "@aws-sdk/client-iam";
import { AssumeRoleCommand, GetAccessKeyInfoCommand, GetCallerIdentityCommand, type STSClient } from "@aws-sdk/client-sts";
import { PermanentFailure } from "../../domain/errors.js";
import { REVOKE_OLDER_SESSIONS_POLICY_NAME, revokeOlderSessionsPolicy } from "../../domain/revoke-sessions-policy.js";
import { withoutUndefined } from "../../domain/without-undefined.js";
import type { AccountIam, KeyDirectory, KeyOwner } from "../../ports.js";
import { isNotFound, toResponderError } from "./aws-errors.js";

export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

export interface AwsKeyDirectoryOptions {
  sts: STSClient;
  /** IAM with the responder's own credentials. */
  homeIam: IAMClient;
  /** Builds an IAM client for assumed-role credentials (tests point it at the sandbox). */
  iamWithCredentials: (credentials: TemporaryCredentials) => IAMClient;
  memberRoleName: string;
  /** Known in advance in AWS (the function's account); looked up once otherwise. */
  homeAccountId?: string;
  /** Refresh assumed credentials this long before they expire. */
  refreshMarginMs?: number;
}

/** IAM is global: one region for every account. */
export const IAM_REGION = "us-east-1";

export class AwsAccountIam implements AccountIam {
  constructor(
    readonly accountId: string,
    readonly viaMemberRole: boolean,
    private readonly iam: IAMClient,
  ) {}

  async findKeyOwner(accessKeyId: string): Promise<KeyOwner | undefined> {
    try {
      const out = await this.iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId }));
      if (!out.UserName) return undefined;
      const used = out.AccessKeyLastUsed;
      const lastUsed = withoutUndefined({
        date: used?.LastUsedDate?.toISOString(),
        service: used?.ServiceName === "N/A" ? undefined : used?.ServiceName,
        region: used?.Region === "N/A" ? undefined : used?.Region,
      });
      return { userName: out.UserName, ...(Object.keys(lastUsed).length > 0 ? { lastUsed } : {}) };
    } catch (error: unknown) {
      if (isNotFound(error)) return undefined;
      throw toResponderError(error, `iam:GetAccessKeyLastUsed in ${this.accountId}`);
    }
  }

  async deactivateKey(userName: string, accessKeyId: string): Promise<void> {
    try {
      await this.iam.send(new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId, Status: "Inactive" }));
    } catch (error: unknown) {
      throw toResponderError(error, `iam:UpdateAccessKey (deactivate) for ${userName} in ${this.accountId}`);
    }
  }

  async denyOlderUserSessions(userName: string, cutoff: Date): Promise<string> {
    try {
      await this.iam.send(
        new PutUserPolicyCommand({
          UserName: userName,
          PolicyName: REVOKE_OLDER_SESSIONS_POLICY_NAME,
          PolicyDocument: revokeOlderSessionsPolicy(cutoff),
        }),
      );
      return REVOKE_OLDER_SESSIONS_POLICY_NAME;
    } catch (error: unknown) {
      throw toResponderError(error, `iam:PutUserPolicy (revoke sessions) for ${userName} in ${this.accountId}`);
    }
  }

  async attachedUserPolicies(userName: string): Promise<string[]> {
    try {
      const names: string[] = [];
      let marker: string | undefined;
      do {
        const out = await this.iam.send(
          new ListAttachedUserPoliciesCommand({ UserName: userName, ...(marker ? { Marker: marker } : {}) }),
        );
        for (const policy of out.AttachedPolicies ?? []) if (policy.PolicyName) names.push(policy.PolicyName);
        marker = out.IsTruncated ? out.Marker : undefined;
      } while (marker);
      return names;
    } catch (error: unknown) {
      throw toResponderError(error, `iam:ListAttachedUserPolicies for ${userName} in ${this.accountId}`);
    }
  }

  async keyStatus(userName: string, accessKeyId: string): Promise<"Active" | "Inactive" | undefined> {
    try {
      let marker: string | undefined;
      do {
        const out = await this.iam.send(
          new ListAccessKeysCommand({ UserName: userName, ...(marker ? { Marker: marker } : {}) }),
        );
        const key = out.AccessKeyMetadata?.find((k) => k.AccessKeyId === accessKeyId);
        if (key) return key.Status === "Active" || key.Status === "Inactive" ? key.Status : undefined;
        marker = out.IsTruncated ? out.Marker : undefined;
      } while (marker);
      return undefined;
    } catch (error: unknown) {
      throw toResponderError(error, `iam:ListAccessKeys for ${userName} in ${this.accountId}`);
    }
  }
}

export class AwsKeyDirectory implements KeyDirectory {
  readonly #options: AwsKeyDirectoryOptions;
  #home: Promise<string> | undefined;
  readonly #members = new Map<string, { iam: AwsAccountIam; expiresAt: number }>();

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
        if (!out.Account) throw new PermanentFailure("sts:GetCallerIdentity returned no account", "NoAccount");
        return out.Account;
      })
      .catch((error: unknown) => {
        this.#home = undefined;
        throw error instanceof PermanentFailure ? error : toResponderError(error, "sts:GetCallerIdentity");
      });
    return this.#home;
  }

  async iamIn(accountId: string): Promise<AccountIam> {
    if (accountId === (await this.homeAccountId())) {
      return new AwsAccountIam(accountId, false, this.#options.homeIam);
    }
    const cached = this.#members.get(accountId);
    if (cached && cached.expiresAt > Date.now()) return cached.iam;
    const roleArn = `arn:aws:iam::${accountId}:role/${this.#options.memberRoleName}`;
    try {
      const out = await this.#options.sts.send(
        new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: "leak-responder", DurationSeconds: 3600 }),
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
      const iam = new AwsAccountIam(accountId, true, this.#options.iamWithCredentials(credentials));
      const margin = this.#options.refreshMarginMs ?? 5 * 60_000;
      this.#members.set(accountId, { iam, expiresAt: c.Expiration.getTime() - margin });
      return iam;
    } catch (error: unknown) {
      if (error instanceof PermanentFailure) throw error;
      throw toResponderError(error, `sts:AssumeRole ${roleArn} (is the member-account role deployed there?)`);
    }
  }
}

export function iamClientFor(credentials: TemporaryCredentials, maxAttempts = 5): IAMClient {
  return new IAMClient({
    region: IAM_REGION,
    maxAttempts,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
      expiration: credentials.expiration,
    },
  });
}
