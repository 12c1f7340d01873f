/**
 * What an attacker's calls look like in CloudTrail: one rule per API call (and, for calls that pass a
 * role, one more for the privilege they borrow), each with a category, a severity and where it comes
 * from. facts.md (AWS: CloudTrail) lists the recon, persistence and impact calls seen after leaks;
 * the rest is cited from MITRE ATT&CK (cloud matrix technique ids), Stratus Red Team technique ids
 * (DataDog/stratus-red-team), the actions AWS itself denies with AWSCompromisedKeyQuarantineV2/V3
 * (AWS managed policy reference) and published attacker playbooks.
 *
 * A rule is raised by a successful call; a denied call of the same action is reported as an attempt
 * with ATTEMPT_WEIGHT of the weight (the attacker tried; the account said no).
 */
import { isJsonObject } from "./bounded-json.js";
import { canonicalEventName } from "./event-actions.js";
import { printable } from "./printable-text.js";
import type { TrailEvent } from "./trail-event.js";

/** Most alarming first: the order findings and messages list them in. */
export const SIGNAL_CATEGORIES = [
  "defense-evasion",
  "credential-access",
  "exfiltration",
  "persistence",
  "privilege-escalation",
  "impact",
  "recon",
] as const;
export type SignalCategory = (typeof SIGNAL_CATEGORIES)[number];

export type Severity = "low" | "medium" | "high" | "critical";
export const SEVERITY_WEIGHT: Readonly<Record<Severity, number>> = {
  low: 1,
  medium: 3,
  high: 6,
  critical: 10,
};
/** A denied attempt weighs this fraction of a success. */
export const ATTEMPT_WEIGHT = 0.25;

export interface SignalRule {
  /** `service:Operation`, plus `#pass-role` for the second rule of a call that passes a role. */
  id: string;
  eventSource: string;
  /** The API operation, without Lambda's version suffix. */
  eventName: string;
  category: SignalCategory;
  severity: Severity;
  /** What the caller did, completing "used the key to ...". */
  does: string;
  /** Where the rule comes from: facts.md, MITRE ATT&CK ids, Stratus Red Team ids, AWS docs. */
  source: string;
  /**
   * The call every client makes first to learn whose key it is: aws-actions/configure-aws-credentials
   * calls sts:GetCallerIdentity on every run, so from a runner it is no signal at all.
   */
  keyCheck?: boolean;
  /** Raise only when this holds (e.g. the ACL grants everyone). */
  when?: (event: TrailEvent) => boolean;
  /** A short detail for people: the user created, the instance type, the model invoked. */
  detail?: (event: TrailEvent) => string | undefined;
}

const FACTS_RECON = "facts.md (AWS: CloudTrail: recon after a leak)";
const FACTS_PERSISTENCE = "facts.md (AWS: CloudTrail: persistence after a leak)";
const FACTS_IMPACT = "facts.md (AWS: CloudTrail: impact after a leak)";
const QUARANTINE = "denied by AWSCompromisedKeyQuarantineV2/V3 (AWS managed policy reference)";
/** November 2026: the actions of its document the reference shows in full (the rest is not cited). */
const QUARANTINE_V4 = "denied by AWSCompromisedKeyQuarantineV4 (AWS managed policy reference, November 2026)";
const RHINO = "Rhino Security Labs, AWS IAM privilege escalation methods";
const DATADOG_TRAIL = "Datadog Security Labs, Following attackers' trail in AWS (common enumeration calls)";
const LLMJACKING = "Sysdig TRT, LLMjacking (2024)";
const stratus = (id: string) => `Stratus Red Team ${id}`;
const cite = (...parts: string[]) => parts.join("; ");

// ---------------------------------------------------------------------------------------------
// Reading request and response fields for details and conditions
// ---------------------------------------------------------------------------------------------

const DETAIL_MAX = 160;

function field(root: unknown, ...path: string[]): unknown {
  let value = root;
  for (const key of path) {
    if (!isJsonObject(value)) return undefined;
    value = value[key];
  }
  return value;
}

function text(root: unknown, ...path: string[]): string | undefined {
  const value = field(root, ...path);
  if (typeof value === "string" && value.length > 0) return printable(value, DETAIL_MAX);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

const request = (event: TrailEvent, ...path: string[]) => text(event.requestParameters, ...path);
const response = (event: TrailEvent, ...path: string[]) => text(event.responseElements, ...path);

/** The request parameters as JSON text, for "does it mention X anywhere" conditions; bounded. */
function requestJson(event: TrailEvent): string {
  const json = JSON.stringify(event.requestParameters ?? {});
  return json.length > 100_000 ? json.slice(0, 100_000) : json;
}

const joined = (...parts: Array<string | undefined>) => {
  const present = parts.filter((part): part is string => part !== undefined);
  return present.length > 0 ? present.join(" ") : undefined;
};

const userDetail = (event: TrailEvent) => joined("user", request(event, "userName"));
const roleDetail = (event: TrailEvent) => joined("role", request(event, "roleName"));

function attachDetail(event: TrailEvent): string | undefined {
  const target = request(event, "userName") ?? request(event, "roleName") ?? request(event, "groupName");
  const policy = request(event, "policyArn") ?? request(event, "policyName");
  return joined(policy, target ? `to ${target}` : undefined);
}

function instancesDetail(event: TrailEvent): string | undefined {
  const launched = field(event.responseElements, "instancesSet", "items");
  const requested = field(event.requestParameters, "instancesSet", "items");
  const count =
    Array.isArray(launched) && launched.length > 0
      ? String(launched.length)
      : (text(Array.isArray(requested) ? requested[0] : undefined, "maxCount") ??
        request(event, "instanceCount"));
  const type =
    request(event, "instanceType") ??
    request(event, "launchSpecification", "instanceType") ??
    text(Array.isArray(launched) ? launched[0] : undefined, "instanceType");
  return joined(count ? `${count} ×` : undefined, type, `in ${event.awsRegion}`);
}

const PUBLIC_GRANTEE = /AllUsers|AuthenticatedUsers|public-read|"\*"/;

/** CloudTrail logs a policy document as an object or as JSON text; undefined when it is neither. */
function policyDocument(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value.length > 100_000 ? "" : value);
  } catch {
    return undefined;
  }
}

const asList = (value: unknown): unknown[] =>
  Array.isArray(value) ? value : value === undefined ? [] : [value];

const ACCOUNT_IN_PRINCIPAL = /^(?:arn:aws[\w-]*:iam::)?(\d{12})(?::|$)/;

/**
 * A bucket policy that opens the bucket: an Allow to everyone ("*") or to another account. A policy
 * of Deny statements only restricts (aws.exfiltration.s3-backdoor-bucket-policy grants an outside
 * account; "deny insecure transport" is hardening).
 */
function opensBucket(event: TrailEvent): boolean {
  const policy = policyDocument(field(event.requestParameters, "bucketPolicy"));
  const own = event.recipientAccountId ?? event.userIdentity.accountId;
  return asList(field(policy, "Statement")).some((statement) => {
    if (field(statement, "Effect") !== "Allow") return false;
    const principal = field(statement, "Principal");
    const principals =
      principal === "*" ? ["*"] : asList(field(principal, "AWS")).filter((p) => typeof p === "string");
    return principals.some((p) => {
      if (p === "*") return true;
      const account = ACCOUNT_IN_PRINCIPAL.exec(String(p))?.[1];
      return account !== undefined && account !== own;
    });
  });
}

/** Another account than the one the call was made in, anywhere in the request (a destination). */
function mentionsForeignAccount(event: TrailEvent, json: string): boolean {
  const own = event.recipientAccountId ?? event.userIdentity.accountId;
  return [...json.matchAll(/(?<![\d])(\d{12})(?![\d])/g)].some((match) => match[1] !== own);
}

/** A resource of the call owned by another account (CloudTrail's `resources[].accountId`). */
function touchesForeignResource(event: TrailEvent): boolean {
  const own = event.recipientAccountId ?? event.userIdentity.accountId;
  return (event.resources ?? []).some(
    (resource) => resource.accountId !== undefined && resource.accountId !== own,
  );
}

/** Event selectors that stop recording management events or write calls (CloudTrail PutEventSelectors). */
function dropsManagementEvents(event: TrailEvent): boolean {
  const basic = asList(field(event.requestParameters, "eventSelectors"));
  const advanced = asList(field(event.requestParameters, "advancedEventSelectors"));
  if (basic.length === 0 && advanced.length === 0) return true;
  if (basic.length > 0) {
    return basic.every(
      (selector) =>
        field(selector, "includeManagementEvents") === false ||
        field(selector, "readWriteType") === "ReadOnly",
    );
  }
  return !advanced.some((selector) => /"Management"/.test(JSON.stringify(selector)));
}

/** A lifecycle rule that deletes objects (Expiration / NoncurrentVersionExpiration), not just tidies. */
const expiresObjects = (event: TrailEvent) => /"(Noncurrent)?(Version)?Expiration"/.test(requestJson(event));

/** S3 logs a bucket's logging status; an empty one turns server access logging off. */
const turnsLoggingOff = (event: TrailEvent) =>
  field(event.requestParameters, "BucketLoggingStatus", "LoggingEnabled") === undefined;

/** The key names ransomware crews leave behind after wiping a bucket (Stratus aws.impact.s3-ransomware-*). */
const RANSOM_NOTE_KEY =
  /(ransom|decrypt|restore|recover|bitcoin|your[\s_-]?(files|data)|how[\s_-]?to[\s_-]?(get|pay|recover|restore))/i;
export const isRansomNote = (event: TrailEvent) => RANSOM_NOTE_KEY.test(request(event, "key") ?? "");

/** A snapshot or image shared by adding a permission (not removing one). */
const addsPermission = (attribute: string) => (event: TrailEvent) =>
  field(event.requestParameters, attribute, "add") !== undefined;

/** True when the call passes a role for a service to assume (iam:PassRole is implied, not logged). */
const passes =
  (...paths: string[][]) =>
  (event: TrailEvent): boolean =>
    paths.some((path) => field(event.requestParameters, ...path) !== undefined);

const passedRole =
  (...paths: string[][]) =>
  (event: TrailEvent): string | undefined => {
    for (const path of paths) {
      const value = text(event.requestParameters, ...path);
      if (value) return `passes ${value}`;
    }
    return undefined;
  };

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

type RuleSpec = Omit<SignalRule, "id" | "eventSource" | "eventName">;

function rules(eventSource: string, entries: Record<string, RuleSpec>, suffix = ""): SignalRule[] {
  const service = eventSource.replace(/\.amazonaws\.com$/, "");
  return Object.entries(entries).map(([eventName, spec]) => ({
    id: `${service}:${eventName}${suffix}`,
    eventSource,
    eventName,
    ...spec,
  }));
}

const recon = (
  severity: Severity,
  does: string,
  source: string,
  extra: Partial<RuleSpec> = {},
): RuleSpec => ({
  category: "recon",
  severity,
  does,
  source,
  ...extra,
});
const persistence = (
  severity: Severity,
  does: string,
  source: string,
  extra: Partial<RuleSpec> = {},
): RuleSpec => ({
  category: "persistence",
  severity,
  does,
  source,
  ...extra,
});
const escalation = (
  severity: Severity,
  does: string,
  source: string,
  extra: Partial<RuleSpec> = {},
): RuleSpec => ({
  category: "privilege-escalation",
  severity,
  does,
  source,
  ...extra,
});
const impact = (
  severity: Severity,
  does: string,
  source: string,
  extra: Partial<RuleSpec> = {},
): RuleSpec => ({
  category: "impact",
  severity,
  does,
  source,
  ...extra,
});
const credentialAccess = (
  severity: Severity,
  does: string,
  source: string,
  extra: Partial<RuleSpec> = {},
): RuleSpec => ({
  category: "credential-access",
  severity,
  does,
  source,
  ...extra,
});
const exfiltration = (
  severity: Severity,
  does: string,
  source: string,
  extra: Partial<RuleSpec> = {},
): RuleSpec => ({
  category: "exfiltration",
  severity,
  does,
  source,
  ...extra,
});
const evasion = (
  severity: Severity,
  does: string,
  source: string,
  extra: Partial<RuleSpec> = {},
): RuleSpec => ({
  category: "defense-evasion",
  severity,
  does,
  source,
  ...extra,
});

const MITRE_CLOUD_ACCOUNTS = "MITRE ATT&CK T1087.004 (Account Discovery: Cloud Account)";
const MITRE_CLOUD_GROUPS = "MITRE ATT&CK T1069.003 (Permission Groups Discovery: Cloud Groups)";
const MITRE_INFRA = "MITRE ATT&CK T1580 (Cloud Infrastructure Discovery)";
const MITRE_SERVICES = "MITRE ATT&CK T1526 (Cloud Service Discovery)";
const MITRE_LOGS_DISCOVERY = "MITRE ATT&CK T1654 (Log Enumeration)";
const MITRE_EXTRA_CREDENTIALS = "MITRE ATT&CK T1098.001 (Account Manipulation: Additional Cloud Credentials)";
const MITRE_EXTRA_ROLES = "MITRE ATT&CK T1098.003 (Account Manipulation: Additional Cloud Roles)";
const MITRE_ACCOUNT_MANIPULATION = "MITRE ATT&CK T1098 (Account Manipulation)";
const MITRE_CREATE_ACCOUNT = "MITRE ATT&CK T1136.003 (Create Account: Cloud Account)";
const MITRE_TRUST = "MITRE ATT&CK T1484.002 (Domain or Tenant Policy Modification: Trust Modification)";
const MITRE_SSH_KEYS = "MITRE ATT&CK T1098.004 (Account Manipulation: SSH Authorized Keys)";
const MITRE_COMPUTE = "MITRE ATT&CK T1496.001 (Resource Hijacking: Compute Hijacking)";
const MITRE_CLOUD_SERVICE = "MITRE ATT&CK T1496.004 (Resource Hijacking: Cloud Service Hijacking)";
const MITRE_CREATE_INSTANCE =
  "MITRE ATT&CK T1578.002 (Modify Cloud Compute Infrastructure: Create Cloud Instance)";
const MITRE_SERVERLESS = "MITRE ATT&CK T1648 (Serverless Execution)";
const MITRE_TRANSFER = "MITRE ATT&CK T1537 (Transfer Data to Cloud Account)";
const MITRE_STORAGE = "MITRE ATT&CK T1530 (Data from Cloud Storage)";
const MITRE_DESTRUCTION = "MITRE ATT&CK T1485 (Data Destruction)";
const MITRE_CLOUD_ADMIN = "MITRE ATT&CK T1651 (Cloud Administration Command)";
const MITRE_CLOUD_LOGS = "MITRE ATT&CK T1562.008 (Impair Defenses: Disable or Modify Cloud Logs)";
const MITRE_TOOLS = "MITRE ATT&CK T1562.001 (Impair Defenses: Disable or Modify Tools)";
const MITRE_FIREWALL = "MITRE ATT&CK T1562.007 (Impair Defenses: Disable or Modify Cloud Firewall)";
const MITRE_MFA = "MITRE ATT&CK T1556.006 (Modify Authentication Process: Multi-Factor Authentication)";
const MITRE_HIERARCHY = "MITRE ATT&CK T1666 (Modify Cloud Resource Hierarchy)";
const MITRE_CLOUD_SECRETS =
  "MITRE ATT&CK T1555.006 (Credentials from Password Stores: Cloud Secrets Management Stores)";
const MITRE_UNSECURED_CREDENTIALS = "MITRE ATT&CK T1552 (Unsecured Credentials)";
const MITRE_RECOVERY = "MITRE ATT&CK T1490 (Inhibit System Recovery)";
const MITRE_SERVICE_STOP = "MITRE ATT&CK T1489 (Service Stop)";
const MITRE_RANSOM = "MITRE ATT&CK T1486 (Data Encrypted for Impact)";
const MITRE_REGIONS = "MITRE ATT&CK T1535 (Unused/Unsupported Cloud Regions)";
const MITRE_REMOTE = "MITRE ATT&CK T1021.004 (Remote Services: SSH)";
const MITRE_WEB_SHELL = "MITRE ATT&CK T1505 (Server Software Component)";

export const SIGNAL_RULES: readonly SignalRule[] = [
  ...rules("sts.amazonaws.com", {
    GetCallerIdentity: recon(
      "low",
      "check whose key it is",
      cite(FACTS_RECON, MITRE_CLOUD_ACCOUNTS, DATADOG_TRAIL, "the first call of key checkers"),
      { keyCheck: true },
    ),
    GetAccessKeyInfo: recon("low", "look up the key's account", cite(MITRE_CLOUD_ACCOUNTS)),
    GetSessionToken: persistence(
      "high",
      "mint temporary credentials that outlive the key",
      cite(
        FACTS_PERSISTENCE,
        "facts.md (AWS: locate and contain: minted sessions stay valid up to 36 h)",
        MITRE_EXTRA_CREDENTIALS,
      ),
      { detail: (e) => joined("minted", response(e, "credentials", "accessKeyId")) },
    ),
    AssumeRole: escalation(
      "medium",
      "assume a role",
      cite(
        "facts.md (AWS: CloudTrail: pivot: AssumeRole mints derived keys; revoke sessions on the roles assumed)",
        "MITRE ATT&CK T1078.004 (Valid Accounts: Cloud Accounts)",
      ),
      { detail: (e) => request(e, "roleArn") },
    ),
    GetFederationToken: persistence(
      "high",
      "mint federated credentials that outlive the key",
      cite(FACTS_PERSISTENCE, stratus("aws.persistence.sts-federation-token"), MITRE_EXTRA_CREDENTIALS),
      { detail: (e) => joined("minted", response(e, "credentials", "accessKeyId")) },
    ),
  }),
  ...rules("s3.amazonaws.com", {
    ListBuckets: recon("medium", "list the S3 buckets", cite(FACTS_RECON, MITRE_INFRA, DATADOG_TRAIL)),
    GetBucketPolicy: recon("low", "read a bucket policy", cite(MITRE_INFRA), {
      detail: (e) => request(e, "bucketName"),
    }),
    PutBucketPolicy: exfiltration(
      "high",
      "open a bucket to everyone or another account",
      cite(stratus("aws.exfiltration.s3-backdoor-bucket-policy"), MITRE_TRANSFER),
      { when: opensBucket, detail: (e) => request(e, "bucketName") },
    ),
    PutBucketReplication: exfiltration(
      "high",
      "replicate a bucket to another account",
      cite(MITRE_TRANSFER, "AWS docs, S3 replication: destination buckets in another account"),
      {
        when: (e) =>
          mentionsForeignAccount(
            e,
            JSON.stringify(field(e.requestParameters, "ReplicationConfiguration") ?? {}),
          ),
        detail: (e) => request(e, "bucketName"),
      },
    ),
    CopyObject: exfiltration("high", "copy objects to another account's bucket", cite(MITRE_TRANSFER), {
      when: touchesForeignResource,
      detail: (e) => request(e, "bucketName"),
    }),
    DeleteObjects: impact(
      "high",
      "delete objects in bulk",
      cite(MITRE_DESTRUCTION, stratus("aws.impact.s3-ransomware-batch-deletion")),
      { detail: (e) => request(e, "bucketName") },
    ),
    PutBucketVersioning: impact(
      "high",
      "suspend a bucket's versioning (no way back after deletion)",
      cite(MITRE_RECOVERY, stratus("aws.impact.s3-ransomware-batch-deletion")),
      {
        when: (e) => field(e.requestParameters, "VersioningConfiguration", "Status") === "Suspended",
        detail: (e) => request(e, "bucketName"),
      },
    ),
    DeleteBucketEncryption: impact("medium", "remove a bucket's default encryption", cite(MITRE_STORAGE), {
      detail: (e) => request(e, "bucketName"),
    }),
    PutBucketLogging: evasion("high", "turn off a bucket's access logging", cite(MITRE_CLOUD_LOGS), {
      when: turnsLoggingOff,
      detail: (e) => request(e, "bucketName"),
    }),
    DeleteBucketLogging: evasion("high", "turn off a bucket's access logging", cite(MITRE_CLOUD_LOGS), {
      detail: (e) => request(e, "bucketName"),
    }),
    PutBucketAcl: impact("high", "make a bucket readable by everyone", cite(MITRE_STORAGE), {
      when: (e) => PUBLIC_GRANTEE.test(requestJson(e)),
      detail: (e) => request(e, "bucketName"),
    }),
    PutBucketPublicAccessBlock: impact(
      "high",
      "turn off a bucket's public access block",
      cite(MITRE_STORAGE),
      {
        when: (e) => /false/.test(requestJson(e)),
        detail: (e) => request(e, "bucketName"),
      },
    ),
    DeleteBucketPublicAccessBlock: impact(
      "high",
      "remove a bucket's public access block",
      cite(MITRE_STORAGE),
      {
        detail: (e) => request(e, "bucketName"),
      },
    ),
    DeleteBucket: impact("high", "delete a bucket", cite(MITRE_DESTRUCTION), {
      detail: (e) => request(e, "bucketName"),
    }),
    PutBucketLifecycle: impact(
      "medium",
      "set a lifecycle rule that expires objects",
      cite(stratus("aws.defense-evasion.cloudtrail-lifecycle-rule"), MITRE_DESTRUCTION),
      { when: expiresObjects, detail: (e) => request(e, "bucketName") },
    ),
  }),

  ...rules("iam.amazonaws.com", {
    ListUsers: recon("medium", "list the IAM users", cite(FACTS_RECON, MITRE_CLOUD_ACCOUNTS)),
    ListRoles: recon("medium", "list the IAM roles", cite(MITRE_CLOUD_ACCOUNTS)),
    ListGroups: recon("low", "list the IAM groups", cite(MITRE_CLOUD_GROUPS)),
    ListPolicies: recon("low", "list the IAM policies", cite(MITRE_CLOUD_GROUPS)),
    ListAccessKeys: recon("medium", "list access keys", cite(MITRE_CLOUD_ACCOUNTS)),
    ListAttachedUserPolicies: recon("low", "list a user's policies", cite(MITRE_CLOUD_GROUPS)),
    ListUserPolicies: recon("low", "list a user's inline policies", cite(MITRE_CLOUD_GROUPS)),
    GetUser: recon("low", "read an IAM user", cite(MITRE_CLOUD_ACCOUNTS)),
    GetAccountSummary: recon("low", "read the IAM account summary", cite(MITRE_CLOUD_ACCOUNTS)),
    ListAccountAliases: recon("low", "read the account alias", cite(MITRE_CLOUD_ACCOUNTS)),
    GetAccountAuthorizationDetails: recon(
      "high",
      "dump every IAM user, role and policy",
      cite(FACTS_RECON, MITRE_CLOUD_ACCOUNTS, MITRE_CLOUD_GROUPS),
    ),
    CreateUser: persistence(
      "high",
      "create an IAM user",
      cite(
        FACTS_PERSISTENCE,
        MITRE_CREATE_ACCOUNT,
        stratus("aws.persistence.iam-create-admin-user"),
        QUARANTINE,
      ),
      { detail: userDetail },
    ),
    CreateAccessKey: persistence(
      "critical",
      "create an access key",
      cite(
        FACTS_PERSISTENCE,
        MITRE_EXTRA_CREDENTIALS,
        stratus("aws.persistence.iam-backdoor-user"),
        QUARANTINE,
      ),
      {
        detail: (e) =>
          joined(
            response(e, "accessKey", "accessKeyId"),
            request(e, "userName") ? `for ${request(e, "userName")}` : undefined,
          ),
      },
    ),
    CreateLoginProfile: persistence(
      "high",
      "give a user a console password",
      cite(
        FACTS_PERSISTENCE,
        MITRE_EXTRA_CREDENTIALS,
        stratus("aws.persistence.iam-create-user-login-profile"),
        QUARANTINE,
      ),
      { detail: userDetail },
    ),
    UpdateLoginProfile: persistence(
      "high",
      "change a user's console password",
      cite(
        FACTS_PERSISTENCE,
        MITRE_ACCOUNT_MANIPULATION,
        stratus("aws.privilege-escalation.iam-update-user-login-profile"),
        QUARANTINE,
      ),
      { detail: userDetail },
    ),
    CreateRole: persistence(
      "high",
      "create an IAM role",
      cite(
        FACTS_PERSISTENCE,
        MITRE_EXTRA_ROLES,
        stratus("aws.persistence.iam-create-backdoor-role"),
        QUARANTINE,
      ),
      { detail: roleDetail },
    ),
    UpdateAssumeRolePolicy: persistence(
      "high",
      "change who may assume a role",
      cite(
        FACTS_PERSISTENCE,
        MITRE_ACCOUNT_MANIPULATION,
        stratus("aws.persistence.iam-backdoor-role"),
        QUARANTINE,
      ),
      { detail: roleDetail },
    ),
    CreateServiceSpecificCredential: persistence(
      "medium",
      "create a service-specific credential",
      cite(MITRE_EXTRA_CREDENTIALS),
      {
        detail: (e) =>
          joined(
            request(e, "serviceName"),
            request(e, "userName") ? `for ${request(e, "userName")}` : undefined,
          ),
      },
    ),
    UploadSSHPublicKey: persistence("medium", "upload an SSH key for a user", cite(MITRE_SSH_KEYS), {
      detail: userDetail,
    }),
    CreateOpenIDConnectProvider: persistence("high", "add an OIDC identity provider", cite(MITRE_TRUST), {
      detail: (e) => request(e, "url"),
    }),
    CreateSAMLProvider: persistence("high", "add a SAML identity provider", cite(MITRE_TRUST), {
      detail: (e) => request(e, "name"),
    }),
    AttachUserPolicy: escalation(
      "critical",
      "attach a policy to a user",
      cite(FACTS_PERSISTENCE, RHINO, MITRE_EXTRA_ROLES, QUARANTINE),
      { detail: attachDetail },
    ),
    PutUserPolicy: escalation(
      "critical",
      "write an inline policy on a user",
      cite(FACTS_PERSISTENCE, RHINO, MITRE_EXTRA_ROLES, QUARANTINE),
      { detail: attachDetail },
    ),
    AttachGroupPolicy: escalation(
      "high",
      "attach a policy to a group",
      cite(RHINO, MITRE_EXTRA_ROLES, QUARANTINE),
      {
        detail: attachDetail,
      },
    ),
    PutGroupPolicy: escalation(
      "high",
      "write an inline policy on a group",
      cite(RHINO, MITRE_EXTRA_ROLES, QUARANTINE),
      {
        detail: attachDetail,
      },
    ),
    AttachRolePolicy: escalation(
      "high",
      "attach a policy to a role",
      cite(RHINO, MITRE_EXTRA_ROLES, QUARANTINE),
      {
        detail: attachDetail,
      },
    ),
    PutRolePolicy: escalation(
      "high",
      "write an inline policy on a role",
      cite(RHINO, MITRE_EXTRA_ROLES, QUARANTINE),
      {
        detail: attachDetail,
      },
    ),
    AddUserToGroup: escalation("high", "add a user to a group", cite(RHINO, MITRE_EXTRA_ROLES, QUARANTINE), {
      detail: (e) =>
        joined(request(e, "userName"), request(e, "groupName") ? `to ${request(e, "groupName")}` : undefined),
    }),
    CreatePolicyVersion: escalation("high", "rewrite a managed policy", cite(RHINO, QUARANTINE), {
      detail: (e) => request(e, "policyArn"),
    }),
    SetDefaultPolicyVersion: escalation(
      "high",
      "switch a policy to another version",
      cite(RHINO, QUARANTINE),
      {
        detail: (e) => request(e, "policyArn"),
      },
    ),
    DeleteUserPermissionsBoundary: escalation("high", "remove a user's permissions boundary", cite(RHINO), {
      detail: userDetail,
    }),
    DeleteRolePermissionsBoundary: escalation("high", "remove a role's permissions boundary", cite(RHINO), {
      detail: roleDetail,
    }),
    DeactivateMFADevice: evasion("high", "turn off a user's MFA device", cite(MITRE_MFA), {
      detail: userDetail,
    }),
    DeleteVirtualMFADevice: evasion("high", "delete an MFA device", cite(MITRE_MFA), {
      detail: (e) => request(e, "serialNumber"),
    }),
  }),
  ...rules("ec2.amazonaws.com", {
    DescribeRegions: recon("low", "list the enabled regions", cite(FACTS_RECON, MITRE_INFRA)),
    DescribeInstances: recon("medium", "list the EC2 instances", cite(MITRE_INFRA)),
    DescribeSecurityGroups: recon("low", "list the security groups", cite(MITRE_INFRA)),
    DescribeVpcs: recon("low", "list the VPCs", cite(MITRE_INFRA)),
    DescribeInstanceAttribute: recon(
      "medium",
      "read an instance attribute (user data holds secrets)",
      cite(MITRE_INFRA, stratus("aws.discovery.ec2-download-user-data")),
    ),
    RunInstances: impact(
      "high",
      "launch EC2 instances",
      cite(
        FACTS_IMPACT,
        MITRE_COMPUTE,
        MITRE_CREATE_INSTANCE,
        stratus("aws.execution.ec2-launch-unusual-instances"),
        QUARANTINE,
        QUARANTINE_V4,
      ),
      { detail: instancesDetail },
    ),
    RequestSpotInstances: impact(
      "high",
      "request spot instances",
      cite(FACTS_IMPACT, MITRE_COMPUTE, QUARANTINE, QUARANTINE_V4),
      {
        detail: instancesDetail,
      },
    ),
    RequestSpotFleet: impact("high", "request a spot fleet", cite(MITRE_COMPUTE), {
      detail: (e) => `in ${e.awsRegion}`,
    }),
    CreateFleet: impact("high", "create an EC2 fleet", cite(MITRE_COMPUTE), {
      detail: (e) => `in ${e.awsRegion}`,
    }),
    StartInstances: impact(
      "medium",
      "start stopped instances",
      cite(MITRE_COMPUTE, QUARANTINE, QUARANTINE_V4),
      { detail: (e) => `in ${e.awsRegion}` },
    ),
    // A long-term bill in one call: reserved capacity cannot be cancelled.
    PurchaseReservedInstancesOffering: impact(
      "critical",
      "buy reserved EC2 capacity (a bill that cannot be cancelled)",
      cite(MITRE_COMPUTE, QUARANTINE_V4),
      { detail: (e) => `in ${e.awsRegion}` },
    ),
    ModifySnapshotAttribute: exfiltration(
      "high",
      "share an EBS snapshot",
      cite(MITRE_TRANSFER, stratus("aws.exfiltration.ec2-share-ebs-snapshot")),
      { when: addsPermission("createVolumePermission"), detail: (e) => request(e, "snapshotId") },
    ),
    ModifyImageAttribute: exfiltration(
      "high",
      "share an AMI",
      cite(MITRE_TRANSFER, stratus("aws.exfiltration.ec2-share-ami")),
      { when: addsPermission("launchPermission"), detail: (e) => request(e, "imageId") },
    ),
    CreateInstanceExportTask: exfiltration("high", "export an instance to S3", cite(MITRE_TRANSFER), {
      detail: (e) => request(e, "instanceId"),
    }),
    ExportImage: exfiltration("high", "export an AMI to S3", cite(MITRE_TRANSFER), {
      detail: (e) => request(e, "imageId"),
    }),
    GetPasswordData: credentialAccess(
      "high",
      "read a Windows instance's administrator password",
      cite(MITRE_UNSECURED_CREDENTIALS, stratus("aws.credential-access.ec2-get-password-data")),
      { detail: (e) => request(e, "instanceId") },
    ),
    TerminateInstances: impact("high", "terminate instances", cite(MITRE_DESTRUCTION, QUARANTINE), {
      detail: (e) => `in ${e.awsRegion}`,
    }),
    StopInstances: impact("medium", "stop instances", cite(MITRE_SERVICE_STOP, QUARANTINE), {
      detail: (e) => `in ${e.awsRegion}`,
    }),
    EnableSerialConsoleAccess: evasion(
      "high",
      "turn on the EC2 serial console for the account",
      cite(stratus("aws.lateral-movement.ec2-serial-console-send-ssh-public-key"), MITRE_REMOTE),
    ),
    CreateKeyPair: persistence("medium", "create an SSH key pair", cite(MITRE_SSH_KEYS), {
      detail: (e) => request(e, "keyName"),
    }),
    ImportKeyPair: persistence("medium", "import an SSH key pair", cite(MITRE_SSH_KEYS), {
      detail: (e) => request(e, "keyName"),
    }),
    ModifyInstanceAttribute: escalation(
      "high",
      "rewrite an instance's user data (runs as its role)",
      cite(stratus("aws.execution.ec2-user-data"), RHINO),
      { when: passes(["userData"]), detail: (e) => request(e, "instanceId") },
    ),
    AssociateIamInstanceProfile: escalation(
      "high",
      "attach a role to an instance",
      cite(RHINO, "iam:PassRole"),
      {
        detail: passedRole(["iamInstanceProfile", "arn"], ["iamInstanceProfile", "name"]),
      },
    ),
    ReplaceIamInstanceProfileAssociation: escalation(
      "high",
      "swap the role of an instance",
      cite(RHINO, "iam:PassRole"),
      {
        detail: passedRole(["iamInstanceProfile", "arn"], ["iamInstanceProfile", "name"]),
      },
    ),
    AuthorizeSecurityGroupIngress: evasion(
      "medium",
      "open a security group to the internet",
      cite(MITRE_FIREWALL, stratus("aws.exfiltration.ec2-security-group-open-port-22-ingress")),
      { when: (e) => /0\.0\.0\.0\/0|::\/0/.test(requestJson(e)), detail: (e) => request(e, "groupId") },
    ),
    DeleteFlowLogs: evasion(
      "high",
      "delete VPC flow logs",
      cite(MITRE_CLOUD_LOGS, stratus("aws.defense-evasion.vpc-remove-flow-logs")),
    ),
  }),
  ...rules("ses.amazonaws.com", {
    GetSendQuota: recon(
      "medium",
      "check the SES sending quota",
      cite(FACTS_RECON, stratus("aws.discovery.ses-enumerate"), DATADOG_TRAIL),
    ),
    GetAccountSendingEnabled: recon(
      "medium",
      "check that SES can send",
      cite(stratus("aws.discovery.ses-enumerate")),
    ),
    ListIdentities: recon(
      "medium",
      "list the SES sender identities",
      cite(FACTS_RECON, stratus("aws.discovery.ses-enumerate")),
    ),
    GetIdentityVerificationAttributes: recon(
      "medium",
      "check which SES senders are verified",
      cite(stratus("aws.discovery.ses-enumerate")),
    ),
    GetAccount: recon(
      "medium",
      "read the SES account (sandbox, quota)",
      cite(MITRE_SERVICES, stratus("aws.discovery.ses-enumerate")),
    ),
    ListEmailIdentities: recon(
      "medium",
      "list the SES sender identities",
      cite(MITRE_SERVICES, stratus("aws.discovery.ses-enumerate")),
    ),
    UpdateAccountSendingEnabled: impact("high", "turn SES sending on", cite(MITRE_CLOUD_SERVICE)),
    VerifyEmailIdentity: impact("high", "add an SES sender address", cite(MITRE_CLOUD_SERVICE), {
      detail: (e) => request(e, "emailAddress"),
    }),
    VerifyDomainIdentity: impact("high", "add an SES sender domain", cite(MITRE_CLOUD_SERVICE), {
      detail: (e) => request(e, "domain"),
    }),
    CreateEmailIdentity: impact("high", "add an SES sender identity", cite(MITRE_CLOUD_SERVICE), {
      detail: (e) => request(e, "emailIdentity"),
    }),
    PutAccountDetails: impact("high", "ask AWS to lift the SES sandbox", cite(MITRE_CLOUD_SERVICE)),
  }),
  ...rules("lambda.amazonaws.com", {
    ListFunctions: recon("low", "list the Lambda functions", cite(MITRE_SERVICES)),
    CreateFunction: impact(
      "high",
      "create a Lambda function",
      cite(FACTS_IMPACT, MITRE_SERVERLESS, QUARANTINE),
      { detail: (e) => request(e, "functionName") },
    ),
    UpdateFunctionCode: persistence(
      "medium",
      "replace a Lambda function's code",
      cite(stratus("aws.persistence.lambda-overwrite-code"), MITRE_SERVERLESS),
      { detail: (e) => request(e, "functionName") },
    ),
    PublishLayerVersion: persistence(
      "medium",
      "publish a Lambda layer (code that runs inside functions)",
      cite(stratus("aws.persistence.lambda-layer-extension"), MITRE_WEB_SHELL),
      { detail: (e) => request(e, "layerName") },
    ),
    AddLayerVersionPermission: persistence(
      "high",
      "share a Lambda layer with everyone or another account",
      cite(stratus("aws.persistence.lambda-layer-extension"), MITRE_TRANSFER),
      {
        when: (e) => {
          const principal = request(e, "principal");
          const own = e.recipientAccountId ?? e.userIdentity.accountId;
          return principal === "*" || (principal !== undefined && principal !== own);
        },
        detail: (e) => request(e, "layerName"),
      },
    ),
    CreateFunctionUrlConfig: persistence(
      "high",
      "expose a function on a public URL with no authentication",
      cite(MITRE_WEB_SHELL, "AWS docs, Lambda function URLs: AuthType NONE is public"),
      { when: (e) => request(e, "authType") === "NONE", detail: (e) => request(e, "functionName") },
    ),
    UpdateFunctionUrlConfig: persistence(
      "high",
      "make a function URL public (no authentication)",
      cite(MITRE_WEB_SHELL, "AWS docs, Lambda function URLs: AuthType NONE is public"),
      { when: (e) => request(e, "authType") === "NONE", detail: (e) => request(e, "functionName") },
    ),
    AddPermission: persistence(
      "high",
      "let another principal invoke a Lambda function",
      cite(stratus("aws.persistence.lambda-backdoor-function"), QUARANTINE),
      {
        detail: (e) =>
          joined(
            request(e, "functionName"),
            request(e, "principal") ? `for ${request(e, "principal")}` : undefined,
          ),
      },
    ),
  }),
  ...rules(
    "lambda.amazonaws.com",
    {
      CreateFunction: escalation(
        "high",
        "give a new function a role",
        cite(RHINO, "iam:PassRole", QUARANTINE),
        {
          when: passes(["role"]),
          detail: passedRole(["role"]),
        },
      ),
      UpdateFunctionConfiguration: escalation(
        "high",
        "change the role of a function",
        cite(RHINO, "iam:PassRole"),
        {
          when: passes(["role"]),
          detail: passedRole(["role"]),
        },
      ),
    },
    "#pass-role",
  ),
  ...rules(
    "ec2.amazonaws.com",
    {
      RunInstances: escalation(
        "high",
        "launch instances with a role",
        cite(RHINO, "iam:PassRole", QUARANTINE),
        {
          when: passes(["iamInstanceProfile"]),
          detail: passedRole(["iamInstanceProfile", "arn"], ["iamInstanceProfile", "name"]),
        },
      ),
    },
    "#pass-role",
  ),
  ...rules(
    "cloudformation.amazonaws.com",
    {
      CreateStack: escalation("medium", "run a stack with a service role", cite(RHINO, "iam:PassRole"), {
        when: passes(["roleARN"]),
        detail: passedRole(["roleARN"]),
      }),
      UpdateStack: escalation(
        "medium",
        "run a stack update with a service role",
        cite(RHINO, "iam:PassRole"),
        {
          when: passes(["roleARN"]),
          detail: passedRole(["roleARN"]),
        },
      ),
    },
    "#pass-role",
  ),
  ...rules(
    "codebuild.amazonaws.com",
    {
      CreateProject: escalation("medium", "create a build project with a role", cite(RHINO, "iam:PassRole"), {
        when: passes(["serviceRole"]),
        detail: passedRole(["serviceRole"]),
      }),
    },
    "#pass-role",
  ),
  ...rules(
    "glue.amazonaws.com",
    {
      CreateDevEndpoint: escalation(
        "high",
        "create a Glue endpoint with a role",
        cite(RHINO, "iam:PassRole"),
        {
          when: passes(["roleArn"]),
          detail: passedRole(["roleArn"]),
        },
      ),
    },
    "#pass-role",
  ),
  ...rules("ssm.amazonaws.com", {
    GetParameter: credentialAccess(
      "high",
      "decrypt SecureString parameters",
      cite(MITRE_CLOUD_SECRETS, stratus("aws.credential-access.ssm-retrieve-securestring-parameters")),
      {
        when: (e) => field(e.requestParameters, "withDecryption") === true,
        detail: (e) => request(e, "name"),
      },
    ),
    GetParameters: credentialAccess(
      "high",
      "decrypt SecureString parameters",
      cite(MITRE_CLOUD_SECRETS, stratus("aws.credential-access.ssm-retrieve-securestring-parameters")),
      { when: (e) => field(e.requestParameters, "withDecryption") === true },
    ),
    GetParametersByPath: credentialAccess(
      "high",
      "decrypt SecureString parameters",
      cite(MITRE_CLOUD_SECRETS, stratus("aws.credential-access.ssm-retrieve-securestring-parameters")),
      {
        when: (e) => field(e.requestParameters, "withDecryption") === true,
        detail: (e) => request(e, "path"),
      },
    ),
    SendCommand: escalation(
      "high",
      "run commands on instances (as their role)",
      cite(MITRE_CLOUD_ADMIN, stratus("aws.execution.ssm-send-command")),
      { detail: (e) => request(e, "documentName") },
    ),
    StartSession: escalation(
      "high",
      "open a shell on an instance",
      cite(MITRE_CLOUD_ADMIN, stratus("aws.execution.ssm-start-session")),
      { detail: (e) => request(e, "target") },
    ),
  }),
  ...rules("bedrock.amazonaws.com", {
    ListFoundationModels: recon(
      "medium",
      "list the Bedrock models",
      cite(MITRE_SERVICES, stratus("aws.discovery.bedrock-enumerate-models-multiple-regions"), LLMJACKING),
    ),
    GetModelInvocationLoggingConfiguration: recon(
      "medium",
      "check whether Bedrock prompts are logged",
      cite(MITRE_LOGS_DISCOVERY, LLMJACKING),
    ),
    InvokeModel: impact(
      "high",
      "run Bedrock models",
      cite(FACTS_IMPACT, MITRE_CLOUD_SERVICE, stratus("aws.impact.bedrock-invoke-model"), LLMJACKING),
      { detail: (e) => request(e, "modelId") },
    ),
    InvokeModelWithResponseStream: impact(
      "high",
      "run Bedrock models",
      cite(MITRE_CLOUD_SERVICE, LLMJACKING),
      {
        detail: (e) => request(e, "modelId"),
      },
    ),
    Converse: impact("high", "run Bedrock models", cite(MITRE_CLOUD_SERVICE, LLMJACKING), {
      detail: (e) => request(e, "modelId"),
    }),
    ConverseStream: impact("high", "run Bedrock models", cite(MITRE_CLOUD_SERVICE, LLMJACKING), {
      detail: (e) => request(e, "modelId"),
    }),
    PutUseCaseForModelAccess: impact(
      "high",
      "request access to Bedrock models",
      cite(MITRE_CLOUD_SERVICE, LLMJACKING),
    ),
    PutFoundationModelEntitlement: impact(
      "high",
      "enable Bedrock models",
      cite(MITRE_CLOUD_SERVICE, LLMJACKING),
      {
        detail: (e) => request(e, "modelId"),
      },
    ),
    DeleteModelInvocationLoggingConfiguration: evasion(
      "high",
      "turn off Bedrock prompt logging",
      cite(MITRE_CLOUD_LOGS, stratus("aws.defense-evasion.bedrock-model-invocation-logging-delete")),
    ),
  }),
  ...rules("organizations.amazonaws.com", {
    DescribeOrganization: recon("low", "read the AWS organization", cite(MITRE_CLOUD_ACCOUNTS)),
    ListAccounts: recon("medium", "list the organization's accounts", cite(MITRE_CLOUD_ACCOUNTS)),
    CreateAccount: persistence(
      "high",
      "create an AWS account",
      cite(MITRE_CREATE_ACCOUNT, "denied by AWSCompromisedKeyQuarantine (v1)"),
    ),
    LeaveOrganization: evasion(
      "critical",
      "take the account out of its organization",
      cite(MITRE_HIERARCHY, stratus("aws.defense-evasion.organizations-leave")),
    ),
  }),
  ...rules("cloudtrail.amazonaws.com", {
    DescribeTrails: recon("low", "look at how the account is logged", cite(MITRE_LOGS_DISCOVERY)),
    LookupEvents: recon(
      "medium",
      "read the account's CloudTrail history",
      cite(MITRE_LOGS_DISCOVERY, QUARANTINE, QUARANTINE_V4),
    ),
    StopLogging: evasion(
      "critical",
      "stop a CloudTrail trail",
      cite(MITRE_CLOUD_LOGS, stratus("aws.defense-evasion.cloudtrail-stop")),
      { detail: (e) => request(e, "name") },
    ),
    DeleteTrail: evasion(
      "critical",
      "delete a CloudTrail trail",
      cite(MITRE_CLOUD_LOGS, stratus("aws.defense-evasion.cloudtrail-delete")),
      { detail: (e) => request(e, "name") },
    ),
    UpdateTrail: evasion("high", "change a CloudTrail trail", cite(MITRE_CLOUD_LOGS), {
      detail: (e) => request(e, "name"),
    }),
    PutEventSelectors: evasion(
      "high",
      "stop a trail recording management events",
      cite(MITRE_CLOUD_LOGS, stratus("aws.defense-evasion.cloudtrail-event-selectors")),
      { when: dropsManagementEvents, detail: (e) => request(e, "trailName") },
    ),
  }),
  ...rules("guardduty.amazonaws.com", {
    ListDetectors: recon(
      "low",
      "check for GuardDuty",
      cite("MITRE ATT&CK T1518.001 (Security Software Discovery)"),
    ),
    DeleteDetector: evasion("critical", "delete the GuardDuty detector", cite(MITRE_TOOLS)),
    UpdateDetector: evasion("high", "turn GuardDuty off", cite(MITRE_TOOLS), {
      when: (e) => field(e.requestParameters, "enable") === false,
    }),
    DisassociateFromAdministratorAccount: evasion(
      "high",
      "detach GuardDuty from its administrator",
      cite(MITRE_TOOLS),
    ),
    DisassociateFromMasterAccount: evasion(
      "high",
      "detach GuardDuty from its administrator",
      cite(MITRE_TOOLS),
    ),
    CreateIPSet: evasion("high", "add a GuardDuty trusted IP list", cite(MITRE_TOOLS)),
    DeletePublishingDestination: evasion("high", "stop GuardDuty exporting findings", cite(MITRE_TOOLS)),
    CreateFilter: evasion("high", "add a GuardDuty filter that archives findings", cite(MITRE_TOOLS), {
      when: (e) => field(e.requestParameters, "action") === "ARCHIVE",
    }),
    DeleteMembers: evasion("high", "remove GuardDuty member accounts", cite(MITRE_TOOLS)),
    StopMonitoringMembers: evasion("high", "stop GuardDuty monitoring member accounts", cite(MITRE_TOOLS)),
    UpdateIPSet: evasion("high", "change a GuardDuty trusted IP list", cite(MITRE_TOOLS)),
  }),
  ...rules("securityhub.amazonaws.com", {
    DisableSecurityHub: evasion("high", "turn Security Hub off", cite(MITRE_TOOLS)),
    BatchDisableStandards: evasion("high", "turn Security Hub standards off", cite(MITRE_TOOLS)),
    DisableImportFindingsForProduct: evasion(
      "medium",
      "stop a product's findings reaching Security Hub",
      cite(MITRE_TOOLS),
    ),
    DeleteActionTarget: evasion("medium", "delete a Security Hub action", cite(MITRE_TOOLS)),
  }),
  ...rules("macie2.amazonaws.com", {
    DisableMacie: evasion("high", "turn Macie off", cite(MITRE_TOOLS)),
    UpdateMacieSession: evasion("high", "pause Macie", cite(MITRE_TOOLS), {
      when: (e) => field(e.requestParameters, "status") === "PAUSED",
    }),
  }),
  ...rules("wafv2.amazonaws.com", {
    DeleteWebACL: evasion("high", "delete a WAF web ACL", cite(MITRE_FIREWALL), {
      detail: (e) => request(e, "name"),
    }),
    DisassociateWebACL: evasion("high", "detach a WAF web ACL from a resource", cite(MITRE_FIREWALL), {
      detail: (e) => request(e, "resourceArn"),
    }),
    DeleteFirewallManagerRuleGroups: evasion(
      "high",
      "delete Firewall Manager WAF rules",
      cite(MITRE_FIREWALL),
    ),
  }),
  ...rules("waf.amazonaws.com", {
    DeleteWebACL: evasion("high", "delete a WAF Classic web ACL", cite(MITRE_FIREWALL)),
  }),
  ...rules("waf-regional.amazonaws.com", {
    DeleteWebACL: evasion("high", "delete a WAF Classic web ACL", cite(MITRE_FIREWALL)),
    DisassociateWebACL: evasion("high", "detach a WAF Classic web ACL", cite(MITRE_FIREWALL)),
  }),
  ...rules("secretsmanager.amazonaws.com", {
    GetSecretValue: credentialAccess(
      "high",
      "read secrets",
      cite(MITRE_CLOUD_SECRETS, stratus("aws.credential-access.secretsmanager-retrieve-secrets")),
      { detail: (e) => request(e, "secretId") },
    ),
    BatchGetSecretValue: credentialAccess(
      "high",
      "read secrets in bulk",
      cite(MITRE_CLOUD_SECRETS, stratus("aws.credential-access.secretsmanager-batch-retrieve-secrets")),
    ),
  }),
  ...rules("ec2-instance-connect.amazonaws.com", {
    SendSSHPublicKey: escalation(
      "high",
      "push an SSH key to an instance (EC2 Instance Connect)",
      cite(MITRE_REMOTE, stratus("aws.lateral-movement.ec2-instance-connect")),
      {
        detail: (e) =>
          joined(
            request(e, "instanceOSUser"),
            request(e, "instanceId") ? `on ${request(e, "instanceId")}` : undefined,
          ),
      },
    ),
    SendSerialConsoleSSHPublicKey: escalation(
      "high",
      "push an SSH key to an instance's serial console",
      cite(MITRE_REMOTE, stratus("aws.lateral-movement.ec2-serial-console-send-ssh-public-key")),
      { detail: (e) => request(e, "instanceId") },
    ),
  }),
  ...rules("account.amazonaws.com", {
    EnableRegion: evasion(
      "high",
      "enable an opt-in region (out of sight of monitoring)",
      cite(MITRE_REGIONS, "AWS docs, Account Management: EnableRegion"),
      { detail: (e) => request(e, "RegionName") ?? request(e, "regionName") },
    ),
  }),
  ...rules("config.amazonaws.com", {
    StopConfigurationRecorder: evasion("high", "stop AWS Config recording", cite(MITRE_TOOLS)),
    DeleteConfigurationRecorder: evasion("high", "delete the AWS Config recorder", cite(MITRE_TOOLS)),
    DeleteDeliveryChannel: evasion("high", "delete the AWS Config delivery channel", cite(MITRE_TOOLS)),
  }),
  ...rules("logs.amazonaws.com", {
    DeleteLogGroup: evasion("medium", "delete a CloudWatch log group", cite(MITRE_CLOUD_LOGS), {
      detail: (e) => request(e, "logGroupName"),
    }),
  }),
  ...rules("route53resolver.amazonaws.com", {
    DeleteResolverQueryLogConfig: evasion(
      "high",
      "delete DNS query logging",
      cite(MITRE_CLOUD_LOGS, stratus("aws.defense-evasion.dns-delete-logs")),
    ),
  }),
  ...rules("rolesanywhere.amazonaws.com", {
    CreateTrustAnchor: persistence(
      "high",
      "add an IAM Roles Anywhere trust anchor",
      cite(MITRE_TRUST, stratus("aws.persistence.rolesanywhere-create-trust-anchor")),
    ),
  }),
  ...rules("rds.amazonaws.com", {
    ModifyDBSnapshotAttribute: exfiltration(
      "high",
      "share a database snapshot",
      cite(MITRE_TRANSFER, stratus("aws.exfiltration.rds-share-snapshot")),
      { when: (e) => /valuesToAdd/.test(requestJson(e)), detail: (e) => request(e, "dBSnapshotIdentifier") },
    ),
    ModifyDBClusterSnapshotAttribute: exfiltration(
      "high",
      "share a database cluster snapshot",
      cite(MITRE_TRANSFER, stratus("aws.exfiltration.rds-share-snapshot")),
      {
        when: (e) => /valuesToAdd/.test(requestJson(e)),
        detail: (e) => request(e, "dBClusterSnapshotIdentifier"),
      },
    ),
    ModifyDBInstance: exfiltration(
      "high",
      "make a database reachable from the internet",
      cite(MITRE_TRANSFER),
      {
        when: (e) => field(e.requestParameters, "publiclyAccessible") === true,
        detail: (e) => request(e, "dBInstanceIdentifier"),
      },
    ),
    StartExportTask: exfiltration("high", "export a database snapshot to S3", cite(MITRE_TRANSFER), {
      detail: (e) => request(e, "exportTaskIdentifier"),
    }),
    DeleteDBInstance: impact("high", "delete a database", cite(MITRE_DESTRUCTION), {
      detail: (e) => request(e, "dBInstanceIdentifier"),
    }),
    DeleteDBCluster: impact("high", "delete a database cluster", cite(MITRE_DESTRUCTION), {
      detail: (e) => request(e, "dBClusterIdentifier"),
    }),
    DeleteDBSnapshot: impact("high", "delete a database snapshot", cite(MITRE_RECOVERY), {
      detail: (e) => request(e, "dBSnapshotIdentifier"),
    }),
  }),
  ...rules("kms.amazonaws.com", {
    ScheduleKeyDeletion: impact("high", "schedule a KMS key for deletion", cite(MITRE_DESTRUCTION), {
      detail: (e) => request(e, "keyId"),
    }),
  }),
];

/**
 * Rules a single call cannot raise: they need what came before or around it (sequence-signals.ts).
 */
export const RANSOM_NOTE_RULE: SignalRule = {
  id: "s3:PutObject#ransom-note",
  eventSource: "s3.amazonaws.com",
  eventName: "PutObject",
  ...impact(
    "critical",
    "leave a ransom note after deleting objects",
    cite(MITRE_RANSOM, stratus("aws.impact.s3-ransomware-batch-deletion")),
    { detail: (e) => joined(request(e, "bucketName"), request(e, "key")) },
  ),
};

export const S3_DOWNLOAD_BURST_RULE: SignalRule = {
  id: "s3:GetObject#burst",
  eventSource: "s3.amazonaws.com",
  eventName: "GetObject",
  ...exfiltration(
    "high",
    "download objects in bulk",
    cite(
      MITRE_STORAGE,
      MITRE_TRANSFER,
      "Datadog Security Labs, Following attackers' trail in AWS (S3 data events)",
    ),
    { detail: (e) => request(e, "bucketName") },
  ),
};

const RULES_BY_CALL = new Map<string, SignalRule[]>();
for (const rule of SIGNAL_RULES) {
  const key = `${rule.eventSource} ${rule.eventName}`;
  const list = RULES_BY_CALL.get(key) ?? [];
  list.push(rule);
  RULES_BY_CALL.set(key, list);
}

/** The rules an event raises (most calls raise none; a call that passes a role may raise two). */
export function signalRulesFor(event: TrailEvent): SignalRule[] {
  const key = `${event.eventSource} ${canonicalEventName(event.eventSource, event.eventName)}`;
  const candidates = RULES_BY_CALL.get(key);
  if (!candidates) return [];
  return candidates.filter((rule) => !rule.when || rule.when(event));
}

/** A rule's short, printable detail for one event, if it has one. */
export function signalDetail(rule: SignalRule, event: TrailEvent): string | undefined {
  const detail = rule.detail?.(event);
  return detail === undefined ? undefined : printable(detail, DETAIL_MAX);
}
