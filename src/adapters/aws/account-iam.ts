/**
 * IAM in one account, as containment needs it (playbook step 3): deactivate, revoke sessions, check
 * for AWS's quarantine policy, read the key back. Deactivate, never delete (facts.md). The daily
 * follow-through also reads the planned OIDC roles and GitHub's provider here.
 */
import {
  GetAccessKeyLastUsedCommand,
  GetOpenIDConnectProviderCommand,
  GetRoleCommand,
  type IAMClient,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from "@aws-sdk/client-iam";
import {
  REVOKE_OLDER_SESSIONS_POLICY_NAME,
  revokeOlderSessionsPolicy,
} from "../../domain/revoke-sessions-policy.js";
import { withoutUndefined } from "../../domain/without-undefined.js";
import type { AccountIam, KeyOwner } from "../../ports.js";
import { isNotFound, toResponderError } from "./aws-errors.js";

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
      await this.iam.send(
        new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId, Status: "Inactive" }),
      );
    } catch (error: unknown) {
      throw toResponderError(error, `iam:UpdateAccessKey (deactivate) for ${userName} in ${this.accountId}`);
    }
  }

  denyOlderUserSessions(userName: string, cutoff: Date): Promise<string> {
    const document = {
      PolicyName: REVOKE_OLDER_SESSIONS_POLICY_NAME,
      PolicyDocument: revokeOlderSessionsPolicy(cutoff),
    };
    return this.#revoke(
      new PutUserPolicyCommand({ UserName: userName, ...document }),
      `iam:PutUserPolicy on user ${userName}`,
    );
  }

  denyOlderRoleSessions(roleName: string, cutoff: Date): Promise<string> {
    const document = {
      PolicyName: REVOKE_OLDER_SESSIONS_POLICY_NAME,
      PolicyDocument: revokeOlderSessionsPolicy(cutoff),
    };
    return this.#revoke(
      new PutRolePolicyCommand({ RoleName: roleName, ...document }),
      `iam:PutRolePolicy on role ${roleName}`,
    );
  }

  /** The deny-older-sessions inline policy, on a user or a role (facts.md). */
  async #revoke(command: PutUserPolicyCommand | PutRolePolicyCommand, what: string): Promise<string> {
    try {
      // The SDK's send is overloaded per command type; both commands return nothing of use.
      await (this.iam.send as (c: PutUserPolicyCommand | PutRolePolicyCommand) => Promise<unknown>)(command);
      return REVOKE_OLDER_SESSIONS_POLICY_NAME;
    } catch (error: unknown) {
      throw toResponderError(error, `${what} (revoke sessions) in ${this.accountId}`);
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

  async roleTrustPolicy(roleName: string): Promise<string | undefined> {
    try {
      const out = await this.iam.send(new GetRoleCommand({ RoleName: roleName }));
      const document = out.Role?.AssumeRolePolicyDocument ?? "";
      // IAM returns policy documents URL-encoded (RFC 3986); a JSON document starts with `{`.
      return document.startsWith("{") ? document : decodeURIComponent(document);
    } catch (error: unknown) {
      if (isNotFound(error)) return undefined;
      throw toResponderError(error, `iam:GetRole ${roleName} in ${this.accountId}`);
    }
  }

  async oidcProviderAudiences(providerArn: string): Promise<string[] | undefined> {
    try {
      const out = await this.iam.send(
        new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: providerArn }),
      );
      return out.ClientIDList ?? [];
    } catch (error: unknown) {
      if (isNotFound(error)) return undefined;
      throw toResponderError(error, `iam:GetOpenIDConnectProvider in ${this.accountId}`);
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
