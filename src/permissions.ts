/**
 * The single source of truth for the AWS actions leak-responder uses, and who is granted each.
 * serverless.yml (the intake, contain, investigate and notify roles) and infra/member-role.yml (the
 * containment and investigator member roles) grant exactly these:
 * test/integration/package.test.ts compares the packaged templates with this list in both
 * directions, so an action cannot be granted "just in case" nor called without being granted.
 * When code starts calling a new AWS API, add it here first; the test then says which template
 * is missing it.
 */

/**
 * The six identities: the four function roles (home account) and the two member-account roles.
 * Issue 11's separate path: only the containment identities ("contain", "member") can change a key;
 * "investigate" and "investigator" parse attacker-written CloudTrail and workflows, so they can read
 * and deny older role sessions but never deactivate a key or write a user policy; "notify" has no
 * IAM, STS or CloudTrail power at all.
 */
export type Grantee = "intake" | "contain" | "investigate" | "notify" | "member" | "investigator";

/** The identities that may change a key (iam:UpdateAccessKey, iam:PutUserPolicy). */
export const CONTAINMENT_GRANTEES: readonly Grantee[] = ["contain", "member"];

export interface AwsAction {
  /** The IAM action, `service:Action`. Never a wildcard. */
  readonly action: `${string}:${string}`;
  /** Who needs it granted; empty when AWS authorises the call without any policy. */
  readonly grantedTo: readonly Grantee[];
  /**
   * Who sends the request: the code (through this SDK command), the Lambda service on the
   * function's behalf (logs, the SQS event source mapping) or SSM on the code's behalf (KMS).
   */
  readonly caller:
    | {
        readonly kind: "code";
        readonly client: `@aws-sdk/client-${string}`;
        readonly command: `${string}Command`;
        readonly via?: string;
        /**
         * The action is needed only when the command carries one of these parameters (S3's
         * PutObject with Object Lock retention also needs s3:PutObjectRetention).
         */
        readonly withParameters?: readonly string[];
      }
    | { readonly kind: "lambda-service" }
    | { readonly kind: "ssm-on-behalf" };
  /** The playbook step or port method that needs it (design.md numbering), and why. */
  readonly usedFor: string;
  /** Granted only when a deployment parameter asks for it. */
  readonly conditional?: string;
  /**
   * The action has no resource type in IAM, so `Resource: "*"` is the only way to grant it. Every
   * other action must be granted on named resources.
   */
  readonly resourceStarOnly?: true;
}

export const AWS_ACTIONS: readonly AwsAction[] = [
  // --- Every function ----------------------------------------------------------------------------
  {
    action: "logs:CreateLogStream",
    grantedTo: ["intake", "contain", "investigate", "notify"],
    caller: { kind: "lambda-service" },
    usedFor: "The Lambda runtime writes the function's structured logs to its own log group.",
  },
  {
    action: "logs:PutLogEvents",
    grantedTo: ["intake", "contain", "investigate", "notify"],
    caller: { kind: "lambda-service" },
    usedFor: "The Lambda runtime writes the function's structured logs to its own log group.",
  },
  {
    action: "ssm:GetParameters",
    grantedTo: ["intake", "contain", "investigate", "notify"],
    caller: {
      kind: "code",
      client: "@aws-sdk/client-ssm",
      command: "GetParametersCommand",
      // SSMProvider.getParametersByName with decrypt for every name sends one GetParameters.
      via: "@aws-lambda-powertools/parameters/ssm (src/adapters/aws/ssm-secrets.ts)",
    },
    usedFor:
      "withSsmSecrets at cold start: the webhook secret(s) for the intake; the GitHub App key or token for contain and investigate; the Slack webhook URL or bot token for notify.",
  },
  {
    action: "kms:Decrypt",
    grantedTo: ["intake", "contain", "investigate", "notify"],
    caller: { kind: "ssm-on-behalf" },
    usedFor:
      "SSM decrypts SecureString parameters encrypted with a customer managed key (kms:ViaService ssm).",
    conditional: "ssmKmsKeyArn",
  },

  // --- intake, contain, investigate, notify: queueing ----------------------------------------------
  {
    action: "sqs:SendMessage",
    grantedTo: ["intake", "contain", "investigate", "notify"],
    caller: { kind: "code", client: "@aws-sdk/client-sqs", command: "SendMessageCommand" },
    usedFor:
      "JobQueue.send (src/adapters/aws/sqs-queue.ts): the intake queues the verified alert for contain. StageQueues (src/adapters/aws/sqs-stage-queues.ts): contain hands over to the investigation and notification queues; investigate queues its continuation and the follow-up messages. DeadLetterQueue.put (src/adapters/aws/poison-messages.ts): investigate and notify move a message that can never succeed to their own queue's dead-letter queue at once.",
  },

  // --- contain, investigate, notify: their queues ------------------------------------------------
  {
    action: "sqs:ReceiveMessage",
    grantedTo: ["contain", "investigate", "notify"],
    caller: { kind: "lambda-service" },
    usedFor: "The SQS event source mappings poll each function's queue (alert, investigation, notification).",
  },
  {
    action: "sqs:DeleteMessage",
    grantedTo: ["contain", "investigate", "notify"],
    caller: { kind: "lambda-service" },
    usedFor: "The event source mapping deletes the records the function did not report as failed.",
  },
  {
    action: "sqs:GetQueueAttributes",
    grantedTo: ["contain", "investigate", "notify"],
    caller: { kind: "lambda-service" },
    usedFor: "The event source mapping reads the queue's attributes when it is created and while polling.",
  },

  // --- contain: 2. Locate (investigate: the account of a role to revoke, the follow-through) -------
  {
    action: "sts:GetAccessKeyInfo",
    grantedTo: ["contain"],
    caller: { kind: "code", client: "@aws-sdk/client-sts", command: "GetAccessKeyInfoCommand" },
    usedFor: "KeyDirectory.accountOf (src/adapters/aws/key-directory.ts): which account owns the key.",
    resourceStarOnly: true,
  },
  {
    action: "sts:GetCallerIdentity",
    grantedTo: [],
    caller: { kind: "code", client: "@aws-sdk/client-sts", command: "GetCallerIdentityCommand" },
    usedFor: "KeyDirectory.homeAccountId: the responder's own account. AWS allows it to every principal.",
  },
  {
    action: "sts:AssumeRole",
    grantedTo: ["contain", "investigate"],
    caller: { kind: "code", client: "@aws-sdk/client-sts", command: "AssumeRoleCommand" },
    usedFor:
      "KeyDirectory.iamIn: a member-account role, when the key is not in the home account: contain the containment role (MEMBER_ROLE_NAME), investigate the investigator role.",
  },
  {
    action: "organizations:ListAccounts",
    grantedTo: ["contain", "investigate"],
    caller: { kind: "code", client: "@aws-sdk/client-organizations", command: "ListAccountsCommand" },
    usedFor:
      "MemberAccounts.list (src/adapters/aws/organization-accounts.ts): the organisation's ACTIVE accounts are managed.",
    conditional: "organizationAccounts",
    resourceStarOnly: true,
  },
  {
    action: "iam:GetAccessKeyLastUsed",
    grantedTo: ["contain", "investigate", "member", "investigator"],
    caller: { kind: "code", client: "@aws-sdk/client-iam", command: "GetAccessKeyLastUsedCommand" },
    usedFor:
      "AccountIam.findKeyOwner: the key's user and last use (contain: locate; investigate: the follow-through's use after containment).",
  },

  // --- contain: 3. Contain (the containment identities only, CONTAINMENT_GRANTEES) -----------------
  {
    action: "iam:UpdateAccessKey",
    grantedTo: ["contain", "member"],
    caller: { kind: "code", client: "@aws-sdk/client-iam", command: "UpdateAccessKeyCommand" },
    usedFor: "AccountIam.deactivateKey: Status=Inactive (facts.md: deactivate, never delete).",
  },
  {
    action: "iam:PutUserPolicy",
    grantedTo: ["contain", "member"],
    caller: { kind: "code", client: "@aws-sdk/client-iam", command: "PutUserPolicyCommand" },
    usedFor: "AccountIam.denyOlderUserSessions: the deny-older-sessions inline policy on the user.",
  },
  {
    action: "iam:ListAttachedUserPolicies",
    grantedTo: ["contain", "member"],
    caller: { kind: "code", client: "@aws-sdk/client-iam", command: "ListAttachedUserPoliciesCommand" },
    usedFor: "AccountIam.attachedUserPolicies: report an AWSCompromisedKeyQuarantine policy already there.",
  },
  {
    action: "iam:ListAccessKeys",
    grantedTo: ["contain", "investigate", "member", "investigator"],
    caller: { kind: "code", client: "@aws-sdk/client-iam", command: "ListAccessKeysCommand" },
    usedFor:
      "AccountIam.keyStatus: verify the key is Inactive after containment (contain), and still Inactive every day (investigate's follow-through).",
  },

  // --- investigate: the daily follow-through's OIDC check (reads only) ------------------------------
  {
    action: "iam:GetRole",
    grantedTo: ["investigate", "investigator"],
    caller: { kind: "code", client: "@aws-sdk/client-iam", command: "GetRoleCommand" },
    usedFor:
      "AccountIam.roleTrustPolicy: the follow-through reads each OIDC role the plan names (gh-*, src/oidc-plan/plan.ts) to verify it exists and trusts only the repository's pinned workflows. Granted on role/gh-* only.",
  },
  {
    action: "iam:GetOpenIDConnectProvider",
    grantedTo: ["investigate", "investigator"],
    caller: { kind: "code", client: "@aws-sdk/client-iam", command: "GetOpenIDConnectProviderCommand" },
    usedFor:
      "AccountIam.oidcProviderAudiences: the follow-through verifies GitHub's OIDC provider exists with the sts.amazonaws.com audience. Granted on oidc-provider/token.actions.githubusercontent.com only.",
  },

  // --- investigate: 5. Preserve (contain: a temporary key's minting role) --------------------------
  {
    action: "iam:PutRolePolicy",
    grantedTo: ["contain", "investigate", "member", "investigator"],
    caller: { kind: "code", client: "@aws-sdk/client-iam", command: "PutRolePolicyCommand" },
    usedFor:
      "Revoke sessions on every role the leaked key assumed (investigate), or on the role that minted a leaked temporary key (contain): deny-older-sessions on the role.",
  },
  {
    action: "cloudtrail:LookupEvents",
    grantedTo: ["contain", "investigate", "member", "investigator"],
    caller: { kind: "code", client: "@aws-sdk/client-cloudtrail", command: "LookupEventsCommand" },
    usedFor:
      "The CloudTrail snapshot of the key (and derived ASIA keys) in every enabled region (investigate); the minter of a temporary key (contain, src/playbook/temporary-key.ts).",
    resourceStarOnly: true,
  },
  {
    action: "account:ListRegions",
    grantedTo: ["contain", "investigate", "member", "investigator"],
    caller: { kind: "code", client: "@aws-sdk/client-account", command: "ListRegionsCommand" },
    usedFor:
      "ActivityLog.enabledRegions: the account's enabled regions (every page), so CloudTrail is read in each: the snapshot, and the search for a temporary key's minter.",
  },

  // --- incidents (contain, investigate, notify), evidence (investigate), reports (one bucket) -----
  {
    action: "s3:GetObject",
    grantedTo: ["contain", "investigate", "notify"],
    caller: { kind: "code", client: "@aws-sdk/client-s3", command: "GetObjectCommand" },
    usedFor: "IncidentStore.get (src/adapters/aws/s3-incident-store.ts): incidents/<id>/incident.json.",
  },
  {
    action: "s3:PutObject",
    grantedTo: ["contain", "investigate", "notify"],
    caller: { kind: "code", client: "@aws-sdk/client-s3", command: "PutObjectCommand" },
    usedFor:
      "IncidentStore.create/update (If-None-Match / If-Match), evidence and reports beside the incident.",
  },
  {
    action: "s3:PutObjectRetention",
    grantedTo: ["investigate"],
    caller: {
      kind: "code",
      client: "@aws-sdk/client-s3",
      command: "PutObjectCommand",
      withParameters: ["ObjectLockMode", "ObjectLockRetainUntilDate"],
    },
    usedFor:
      "EvidenceStore.putOnce (src/adapters/aws/s3-evidence-store.ts): each evidence object is written under Object Lock COMPLIANCE retention; granted on incidents/*/evidence/* only.",
  },
  {
    action: "s3:ListBucket",
    grantedTo: ["contain", "investigate", "notify"],
    caller: { kind: "code", client: "@aws-sdk/client-s3", command: "ListObjectsV2Command" },
    usedFor: "IncidentStore.list; also lets S3 answer 404 (not 403) for an incident that does not exist yet.",
  },
];

/**
 * Never granted to any identity (design.md: never delete a key or a user automatically; the
 * responder never mints credentials). The test fails if any template mentions one of these.
 */
export const NEVER_GRANTED: readonly string[] = [
  "iam:CreateAccessKey",
  "iam:DeleteAccessKey",
  "iam:DeleteUser",
];

/** The actions a grantee's policy must allow: no more, no fewer. */
export function actionsGrantedTo(grantee: Grantee): string[] {
  return AWS_ACTIONS.filter((entry) => entry.grantedTo.includes(grantee))
    .map((entry) => entry.action)
    .sort();
}
