/**
 * What the key actually did, as IAM actions: successful CloudTrail calls become `service:Action`
 * with the resources the events name (facts.md, AWS CloudTrail: the least-privilege anchor is the
 * trail). Calls that must not become permissions are set aside with a reason: failures, calls after
 * the leak, persistence and identity-recon signals (facts.md), and calls made by assumed roles.
 */
import {
  iamActionOf,
  needsNoPermission,
  servicePrefix,
  resourcesOf as trailResources,
} from "../forensics/event-actions.js";
import type { ActionUse } from "../forensics/findings.js";
import type { TrailEvent } from "../forensics/trail-event.js";

export interface ObservedCall {
  /** IAM service prefix, e.g. `s3`. */
  service: string;
  /** IAM action name as CloudTrail spells it (the catalogue gives the canonical case). */
  action: string;
  /** ARNs the events name; empty when none do. */
  resources: string[];
  count: number;
  firstSeen: string;
  lastSeen: string;
  regions: string[];
}

export type SetAsideReason =
  | "failed"
  | "not-from-ci"
  | "after-leak"
  | "attacker-signal"
  | "no-permission-needed"
  | "assumed-role"
  | "not-an-api-call";

export interface SetAsideCall {
  service: string;
  action: string;
  count: number;
  reason: SetAsideReason;
}

/** facts.md (signals after a leak): persistence and identity recon are never granted from evidence. */
const ATTACKER_SIGNALS = new Set([
  "iam:CreateUser",
  "iam:CreateAccessKey",
  "iam:CreateLoginProfile",
  "iam:UpdateLoginProfile",
  "iam:AttachUserPolicy",
  "iam:PutUserPolicy",
  "iam:CreateRole",
  "iam:UpdateAssumeRolePolicy",
  "sts:GetFederationToken",
  "sts:GetSessionToken",
  "iam:ListUsers",
  "iam:GetAccountAuthorizationDetails",
  "ses:GetSendQuota",
  "ses:ListIdentities",
]);
/** Calls any principal may make: never a statement (forensics/event-actions.ts keeps the list). */
export function noPermissionNeeded(action: string): boolean {
  return needsNoPermission(action);
}

export function serviceOf(eventSource: string): string | undefined {
  const service = servicePrefix(eventSource);
  return /^[a-z0-9-]{1,64}$/.test(service) ? service : undefined;
}

/** `service:Action` for an event (forensics/event-actions.ts does the CloudTrail-to-IAM naming). */
export function actionOf(event: Pick<TrailEvent, "eventSource" | "eventName">): string | undefined {
  const action = iamActionOf(event);
  return /^[a-z0-9-]{1,64}:[A-Za-z0-9]{1,128}$/.test(action) ? action : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 && value.length <= 512 && !/\s/.test(value)
    ? value
    : undefined;
}

/**
 * ARNs the event names: forensics/event-actions.ts's resources, plus the services a deploy commonly
 * touches that it does not cover (CloudFront distributions, ECS services, secrets by name).
 */
export function resourcesOf(event: TrailEvent, account: string | undefined): string[] {
  const withAccount =
    event.recipientAccountId || event.userIdentity.accountId || !account
      ? event
      : { ...event, userIdentity: { ...event.userIdentity, accountId: account } };
  const out = new Set(trailResources(withAccount));
  const service = serviceOf(event.eventSource) ?? "";
  const region = event.awsRegion;
  const acct = event.recipientAccountId ?? event.userIdentity.accountId ?? account ?? "*";
  const p = event.requestParameters ?? {};
  switch (service) {
    case "ecs": {
      const cluster = str(p.cluster)?.split("/").pop() ?? "*";
      for (const name of [str(p.service), ...(Array.isArray(p.services) ? p.services.map(str) : [])]) {
        if (name)
          out.add(
            name.startsWith("arn:") ? name : `arn:aws:ecs:${region}:${acct}:service/${cluster}/${name}`,
          );
      }
      break;
    }
    case "cloudfront": {
      const id = str(p.distributionId) ?? str(p.id);
      if (id) out.add(`arn:aws:cloudfront::${acct}:distribution/${id}`);
      break;
    }
    case "secretsmanager": {
      const id = str(p.secretId);
      // A secret's ARN ends in a random six-character suffix its name does not carry.
      if (id && !id.startsWith("arn:"))
        out.add(`arn:aws:secretsmanager:${region}:${acct}:secret:${id}-??????`);
      break;
    }
    default:
      break;
  }
  return [...out].sort();
}

export interface ObservedCalls {
  calls: ObservedCall[];
  setAside: SetAsideCall[];
  /** The most used region outside the global services, to default `aws-region` in workflows. */
  mainRegion?: string;
  accountId?: string;
}

export function observeCalls(
  events: readonly TrailEvent[],
  options: { leakedAt?: string; accountId?: string } = {},
): ObservedCalls {
  const calls = new Map<string, ObservedCall>();
  const setAside = new Map<string, SetAsideCall>();
  const regionCounts = new Map<string, number>();
  const accounts = new Map<string, number>();
  const leakedAt = options.leakedAt ? Date.parse(options.leakedAt) : Number.NaN;
  const aside = (service: string, action: string, reason: SetAsideReason) => {
    const k = `${service}:${action}:${reason}`;
    const entry = setAside.get(k) ?? { service, action, count: 0, reason };
    entry.count += 1;
    setAside.set(k, entry);
  };
  for (const event of events) {
    const full = actionOf(event);
    const [service = event.eventSource, action = event.eventName] = (full ?? "").split(":");
    if (!full) {
      aside(event.eventSource, event.eventName, "not-an-api-call");
      continue;
    }
    if (event.errorCode) aside(service, action, "failed");
    else if (!Number.isNaN(leakedAt) && Date.parse(event.eventTime) >= leakedAt)
      aside(service, action, "after-leak");
    else if (event.userIdentity.type === "AssumedRole") aside(service, action, "assumed-role");
    else if (noPermissionNeeded(full)) aside(service, action, "no-permission-needed");
    else if (ATTACKER_SIGNALS.has(full)) aside(service, action, "attacker-signal");
    else {
      const call = calls.get(full) ?? {
        service,
        action,
        resources: [],
        count: 0,
        firstSeen: event.eventTime,
        lastSeen: event.eventTime,
        regions: [],
      };
      call.count += 1;
      if (event.eventTime < call.firstSeen) call.firstSeen = event.eventTime;
      if (event.eventTime > call.lastSeen) call.lastSeen = event.eventTime;
      if (!call.regions.includes(event.awsRegion)) call.regions.push(event.awsRegion);
      for (const arn of resourcesOf(event, options.accountId))
        if (!call.resources.includes(arn)) call.resources.push(arn);
      calls.set(full, call);
      if (!["iam", "sts", "cloudfront", "route53", "organizations"].includes(service)) {
        regionCounts.set(event.awsRegion, (regionCounts.get(event.awsRegion) ?? 0) + 1);
      }
    }
    const account = event.recipientAccountId ?? event.userIdentity.accountId;
    if (account) accounts.set(account, (accounts.get(account) ?? 0) + 1);
  }
  const top = (counts: Map<string, number>) => [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  const mainRegion = top(regionCounts);
  const accountId = options.accountId ?? top(accounts);
  return {
    calls: [...calls.values()].sort((a, b) =>
      `${a.service}:${a.action}`.localeCompare(`${b.service}:${b.action}`),
    ),
    setAside: [...setAside.values()],
    ...(mainRegion === undefined ? {} : { mainRegion }),
    ...(accountId === undefined ? {} : { accountId }),
  };
}

/**
 * The same, from the incident's analysis (forensics/analyze.ts): only calls it judged expected (CI
 * runners, or before the leak) become permissions, with the resources of those calls; calls seen
 * only from elsewhere are set aside.
 */
export function callsFromAnalysis(actions: readonly ActionUse[], accountId?: string): ObservedCalls {
  const calls: ObservedCall[] = [];
  const setAside: SetAsideCall[] = [];
  for (const use of actions) {
    const [service = "", action = ""] = use.action.split(":");
    if (!/^[a-z0-9-]{1,64}$/.test(service) || !/^[A-Za-z0-9]{1,128}$/.test(action)) continue;
    if (use.needsNoPermission) {
      setAside.push({ service, action, count: use.calls, reason: "no-permission-needed" });
    } else if (ATTACKER_SIGNALS.has(use.action)) {
      setAside.push({ service, action, count: use.calls, reason: "attacker-signal" });
    } else if (use.expectedCalls === 0) {
      setAside.push({ service, action, count: use.calls, reason: "not-from-ci" });
    } else {
      calls.push({
        service,
        action,
        resources: [...use.resources],
        count: use.expectedCalls,
        firstSeen: use.firstSeen,
        lastSeen: use.lastSeen,
        regions: [],
      });
    }
  }
  return { calls, setAside, ...(accountId === undefined ? {} : { accountId }) };
}
