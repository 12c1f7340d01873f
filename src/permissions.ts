/**
 * The single source of truth for the AWS actions leak-responder uses, and who is granted each.
 * serverless.yml (the intake and respond roles) and infra/member-role.yml grant exactly these:
 * test/integration/package.test.ts compares the packaged templates with this list in both
 * directions, so an action cannot be granted "just in case" nor called without being granted.
 * When code starts calling a new AWS API, add it here first; the test then says which template
 * is missing it.
 */

/** The three identities: the two function roles (home account) and the member-account role. */
export type Grantee = "intake" | "respond" | "member";

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
  // --- Both functions ---------------------------------------------------------------------------
  {
    action: "logs:CreateLogStream",
    grantedTo: ["intake", "respond"],
    caller: { kind: "lambda-service" },
    usedFor: "The Lambda runtime writes the function's structured logs to its own log group.",
  },
  {
    action: "logs:PutLogEvents",
    grantedTo: ["intake", "respond"],
    caller: { kind: "lambda-service" },
    usedFor: "The Lambda runtime writes the function's structured logs to its own log group.",
  },
  {
    action: "ssm:GetParameters",
    grantedTo: ["intake", "respond"],
    caller: {
      kind: "code",
      client: "@aws-sdk/client-ssm",
      command: "GetParametersCommand",
      // SSMProvider.getParametersByName with decrypt for every name sends one GetParameters.
      via: "@aws-lambda-powertools/parameters/ssm (src/adapters/aws/ssm-secrets.ts)",
    },
    usedFor:
      "withSsmSecrets at cold start: the webhook secret(s) for the intake; the GitHub App key or token and the Slack webhook URL for respond.",
  },
  {
    action: "kms:Decrypt",
    grantedTo: ["intake", "respond"],
    caller: { kind: "ssm-on-behalf" },
    usedFor:
      "SSM decrypts SecureString parameters encrypted with a customer managed key (kms:ViaService ssm).",
    conditional: "ssmKmsKeyArn",
  },

  // --- intake -----------------------------------------------------------------------------------
  {
    action: "sqs:SendMessage",
    grantedTo: ["intake"],
    caller: { kind: "code", client: "@aws-sdk/client-sqs", command: "SendMessageCommand" },
    usedFor: "JobQueue.send (src/adapters/aws/sqs-queue.ts): queue the verified alert for respond.",
  },

  // --- respond: the queue -------------------------------------------------------------------------
  {
    action: "sqs:ReceiveMessage",
    grantedTo: ["respond"],
    caller: { kind: "lambda-service" },
    usedFor: "The SQS event source mapping polls the alert queue for respond.",
  },
  {
    action: "sqs:DeleteMessage",
    grantedTo: ["respond"],
    caller: { kind: "lambda-service" },
    usedFor: "The event source mapping deletes the records respond did not report as failed.",
  },
  {
    action: "sqs:GetQueueAttributes",
    grantedTo: ["respond"],
    caller: { kind: "lambda-service" },
    usedFor: "The event source mapping reads the queue's attributes when it is created and while polling.",
  },

  // --- respond: 2. Locate -----------------------------------------------------------------------
  {
    action: "sts:GetAccessKeyInfo",
    grantedTo: ["respond"],
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
    grantedTo: ["respond"],
    caller: { kind: "code", client: "@aws-sdk/client-sts", command: "AssumeRoleCommand" },
    usedFor: "KeyDirectory.iamIn: the member-account role, when the key is not in the home account.",
  },
  {
    action: "organizations:ListAccounts",
    grantedTo: ["respond"],
    caller: { kind: "code", client: "@aws-sdk/client-organizations", command: "ListAccountsCommand" },
    usedFor:
      "MemberAccounts.list (src/adapters/aws/organization-accounts.ts): the organisation's ACTIVE accounts are managed.",
    conditional: "organizationAccounts",
    resourceStarOnly: true,
  },
  {
    action: "iam:GetAccessKeyLastUsed",
    grantedTo: ["respond", "member"],
    caller: { kind: "code", client: "@aws-sdk/client-iam", command: "GetAccessKeyLastUsedCommand" },
    usedFor: "AccountIam.findKeyOwner: the key's user and last use.",
  },

  // --- respond: 3. Contain ----------------------------------------------------------------------
  {
    action: "iam:UpdateAccessKey",
    grantedTo: ["respond", "member"],
    caller: { kind: "code", client: "@aws-sdk/client-iam", command: "UpdateAccessKeyCommand" },
    usedFor: "AccountIam.deactivateKey: Status=Inactive (facts.md: deactivate, never delete).",
  },
  {
    action: "iam:PutUserPolicy",
    grantedTo: ["respond", "member"],
    caller: { kind: "code", client: "@aws-sdk/client-iam", command: "PutUserPolicyCommand" },
    usedFor: "AccountIam.denyOlderUserSessions: the deny-older-sessions inline policy on the user.",
  },
  {
    action: "iam:ListAttachedUserPolicies",
    grantedTo: ["respond", "member"],
    caller: { kind: "code", client: "@aws-sdk/client-iam", command: "ListAttachedUserPoliciesCommand" },
    usedFor: "AccountIam.attachedUserPolicies: report an AWSCompromisedKeyQuarantine policy already there.",
  },
  {
    action: "iam:ListAccessKeys",
    grantedTo: ["respond", "member"],
    caller: { kind: "code", client: "@aws-sdk/client-iam", command: "ListAccessKeysCommand" },
    usedFor: "AccountIam.keyStatus: verify the key is Inactive after containment.",
  },

  // --- respond: 5. Preserve ---------------------------------------------------------------------
  {
    action: "iam:PutRolePolicy",
    grantedTo: ["respond", "member"],
    caller: { kind: "code", client: "@aws-sdk/client-iam", command: "PutRolePolicyCommand" },
    usedFor: "Revoke sessions on every role the leaked key assumed (deny-older-sessions on the role).",
  },
  {
    action: "cloudtrail:LookupEvents",
    grantedTo: ["respond", "member"],
    caller: { kind: "code", client: "@aws-sdk/client-cloudtrail", command: "LookupEventsCommand" },
    usedFor: "The CloudTrail snapshot of the key (and derived ASIA keys) in every enabled region.",
    resourceStarOnly: true,
  },
  {
    action: "ec2:DescribeRegions",
    grantedTo: ["respond", "member"],
    caller: { kind: "code", client: "@aws-sdk/client-ec2", command: "DescribeRegionsCommand" },
    usedFor: "The snapshot's list of the account's enabled regions.",
    resourceStarOnly: true,
  },

  // --- respond: incidents, evidence, reports (one bucket, incidents/ prefix) ---------------------
  {
    action: "s3:GetObject",
    grantedTo: ["respond"],
    caller: { kind: "code", client: "@aws-sdk/client-s3", command: "GetObjectCommand" },
    usedFor: "IncidentStore.get (src/adapters/aws/s3-incident-store.ts): incidents/<id>/incident.json.",
  },
  {
    action: "s3:PutObject",
    grantedTo: ["respond"],
    caller: { kind: "code", client: "@aws-sdk/client-s3", command: "PutObjectCommand" },
    usedFor:
      "IncidentStore.create/update (If-None-Match / If-Match), evidence and reports beside the incident.",
  },
  {
    action: "s3:PutObjectRetention",
    grantedTo: ["respond"],
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
    grantedTo: ["respond"],
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
