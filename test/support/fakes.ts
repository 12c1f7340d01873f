/**
 * In-memory fakes of the playbook's ports, for unit tests of its logic (adapters are proven against
 * the sandbox in test/integration). Each records what was asked of it.
 */
import { tickChecklist } from "../../src/adapters/github/issue-tracker.js";
import { ConflictError, PermanentFailure } from "../../src/domain/errors.js";
import type { Incident } from "../../src/domain/incident.js";
import { SecretValue } from "../../src/domain/secret.js";
import { MemoryLog } from "../../src/logger.js";
import type { RepositoryReader, RepositorySecretNames } from "../../src/playbook/prevent.js";
import type { ResponderSettings } from "../../src/playbook/respond.js";
import type {
  AccountIam,
  ActivityLog,
  AlertDetails,
  AlertRef,
  AlertSource,
  Clock,
  FollowUp,
  IncidentStore,
  IssueRepositoryRef,
  IssueTracker,
  KeyDirectory,
  KeyOwner,
  LeakOrigin,
  NotificationKind,
  NotificationReceipt,
  Notifier,
  StoredIncident,
} from "../../src/ports.js";

export class FakeClock implements Clock {
  constructor(public current = new Date("2026-11-26T02:00:00.000Z")) {}
  now(): Date {
    this.current = new Date(this.current.getTime() + 7);
    return new Date(this.current);
  }
}

export class MemoryIncidentStore implements IncidentStore {
  readonly records = new Map<string, { json: string; etag: string }>();
  #version = 0;
  creates = 0;
  async get(id: string): Promise<StoredIncident | undefined> {
    const record = this.records.get(id);
    return record ? { incident: JSON.parse(record.json) as Incident, etag: record.etag } : undefined;
  }
  async create(incident: Incident): Promise<string> {
    if (this.records.has(incident.id)) throw new ConflictError("exists");
    this.creates += 1;
    return this.#put(incident);
  }
  async update(incident: Incident, etag: string): Promise<string> {
    if (this.records.get(incident.id)?.etag !== etag) throw new ConflictError("changed");
    return this.#put(incident);
  }
  async list(): Promise<string[]> {
    return [...this.records.keys()];
  }
  #put(incident: Incident): string {
    this.#version += 1;
    const etag = `"v${this.#version}"`;
    this.records.set(incident.id, { json: JSON.stringify(incident), etag });
    return etag;
  }
  only(): Incident {
    const [first, ...rest] = [...this.records.values()];
    if (!first || rest.length > 0)
      throw new Error(`expected exactly one incident, found ${this.records.size}`);
    return JSON.parse(first.json) as Incident;
  }
}

export class FakeAlertSource implements AlertSource {
  readonly resolved: Array<{ ref: AlertRef; comment: string }> = [];
  fetches = 0;
  failGet: Error | undefined;
  failResolve: Error[] = [];
  constructor(private readonly alert: Omit<AlertDetails, "secret"> & { secret: string }) {}
  async getAlert(): Promise<AlertDetails> {
    this.fetches += 1;
    if (this.failGet) throw this.failGet;
    return { ...this.alert, secret: new SecretValue(this.alert.secret) };
  }
  /** What leakOrigin answers, and what it was asked. */
  origin: LeakOrigin = { people: [] };
  readonly originAsked: Array<{ commitSha?: string; apiPath?: string }> = [];
  async leakOrigin(_ref: AlertRef, location: { commitSha?: string; apiPath?: string }): Promise<LeakOrigin> {
    this.originAsked.push(location);
    return this.origin;
  }
  async resolveAlert(ref: AlertRef, comment: string): Promise<void> {
    const failure = this.failResolve.shift();
    if (failure) throw failure;
    this.resolved.push({ ref, comment });
  }
}

export class FakeAccountIam implements AccountIam {
  readonly calls: string[] = [];
  readonly keys = new Map<string, { userName: string; status: "Active" | "Inactive" }>();
  readonly userPolicies = new Map<string, Array<{ name: string; cutoff: string }>>();
  attached: string[] = [];
  failDeactivate: Error[] = [];
  failDeny: Error[] = [];
  constructor(
    readonly accountId: string,
    readonly viaMemberRole: boolean,
  ) {}
  async findKeyOwner(accessKeyId: string): Promise<KeyOwner | undefined> {
    this.calls.push("GetAccessKeyLastUsed");
    const key = this.keys.get(accessKeyId);
    return key ? { userName: key.userName } : undefined;
  }
  async deactivateKey(userName: string, accessKeyId: string): Promise<void> {
    this.calls.push("UpdateAccessKey");
    const failure = this.failDeactivate.shift();
    if (failure) throw failure;
    const key = this.keys.get(accessKeyId);
    if (!key || key.userName !== userName) throw new PermanentFailure("no such key", "NoSuchEntity");
    key.status = "Inactive";
  }
  async denyOlderUserSessions(userName: string, cutoff: Date): Promise<string> {
    this.calls.push("PutUserPolicy");
    const failure = this.failDeny.shift();
    if (failure) throw failure;
    const list = this.userPolicies.get(userName) ?? [];
    list.push({ name: "AWSRevokeOlderSessions", cutoff: cutoff.toISOString() });
    this.userPolicies.set(userName, list);
    return "AWSRevokeOlderSessions";
  }
  async attachedUserPolicies(): Promise<string[]> {
    this.calls.push("ListAttachedUserPolicies");
    return this.attached;
  }
  readonly rolePolicies = new Map<string, string>();
  async denyOlderRoleSessions(roleName: string, cutoff: Date): Promise<string> {
    this.calls.push("PutRolePolicy");
    this.rolePolicies.set(roleName, cutoff.toISOString());
    return "AWSRevokeOlderSessions";
  }
  async keyStatus(_userName: string, accessKeyId: string): Promise<"Active" | "Inactive" | undefined> {
    this.calls.push("ListAccessKeys");
    return this.keys.get(accessKeyId)?.status;
  }
  /** Role name -> trust policy (JSON); provider ARN -> audiences; what reading them throws. */
  readonly roles = new Map<string, string>();
  readonly oidcProviders = new Map<string, string[]>();
  failRoleReads: Error | undefined;
  async roleTrustPolicy(roleName: string): Promise<string | undefined> {
    this.calls.push("GetRole");
    if (this.failRoleReads) throw this.failRoleReads;
    return this.roles.get(roleName);
  }
  async oidcProviderAudiences(providerArn: string): Promise<string[] | undefined> {
    this.calls.push("GetOpenIDConnectProvider");
    if (this.failRoleReads) throw this.failRoleReads;
    return this.oidcProviders.get(providerArn);
  }
}

export class FakeKeyDirectory implements KeyDirectory {
  readonly accounts = new Map<string, FakeAccountIam>();
  readonly owners = new Map<string, string>();
  constructor(readonly home: string) {}
  account(id: string, viaMemberRole = id !== this.home): FakeAccountIam {
    let iam = this.accounts.get(id);
    if (!iam) {
      iam = new FakeAccountIam(id, viaMemberRole);
      this.accounts.set(id, iam);
    }
    return iam;
  }
  async accountOf(accessKeyId: string): Promise<string> {
    return this.owners.get(accessKeyId) ?? "999999999999";
  }
  async homeAccountId(): Promise<string> {
    return this.home;
  }
  async iamIn(accountId: string): Promise<AccountIam> {
    return this.account(accountId);
  }
  readonly activity = new Map<string, ActivityLog>();
  async activityIn(accountId: string): Promise<ActivityLog> {
    const log = this.activity.get(accountId);
    if (!log) throw new PermanentFailure(`no activity log for ${accountId}`, "NoActivity");
    return log;
  }
}

export class RecordingNotifier implements Notifier {
  readonly sent: Array<{ kind: NotificationKind; incident: Incident }> = [];
  readonly followUps: FollowUp[] = [];
  failures: Error[] = [];
  async notify(incident: Incident, kind: NotificationKind): Promise<NotificationReceipt | undefined> {
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.sent.push({ kind, incident: structuredClone(incident) });
    return { channel: "C-TEST", ts: `${this.sent.length}.000100` };
  }
  async followUp(details: FollowUp): Promise<void> {
    this.followUps.push(structuredClone(details));
  }
}

export function settings(overrides: Partial<ResponderSettings> = {}): ResponderSettings {
  return { mode: "enforce", protectedUsers: [], managedAccountIds: [], ...overrides };
}

export { MemoryLog };

/** The smallest valid incident, for store contract tests. */
export function minimalIncident(id: string, summary: string): Incident {
  return {
    id,
    version: 1,
    source: "manual",
    status: "contained",
    summary,
    deliveryIds: [],
    mode: "enforce",
    warnings: [],
    timeline: [],
    createdAt: "2026-11-26T02:00:00.000Z",
    updatedAt: "2026-11-26T02:00:00.000Z",
  };
}

/** The repository as the plan and the follow-through read it: workflow files and secret names. */
export class FakeRepositoryReader implements RepositoryReader {
  files = new Map<string, string>();
  /** The repository's Actions secret names, or what listing them answers instead. */
  secrets: RepositorySecretNames | Error = { names: [] };
  constructor(readonly fullName: string) {}
  async load(): ReturnType<RepositoryReader["load"]> {
    const [owner = "", name = ""] = this.fullName.split("/");
    return {
      repository: { owner, name, defaultBranch: "main", environments: [] },
      workflows: [...this.files].map(([path, content]) => ({ path, content })),
      skipped: [],
    };
  }
  async secretNames(): Promise<RepositorySecretNames> {
    if (this.secrets instanceof Error) throw this.secrets;
    return this.secrets;
  }
  /** Each environment's secret names, or what listing them answers instead (none: no secrets). */
  readonly environmentSecrets = new Map<string, RepositorySecretNames | Error>();
  readonly environmentsAsked: string[] = [];
  async environmentSecretNames(_repository: string, environment: string): Promise<RepositorySecretNames> {
    this.environmentsAsked.push(environment);
    const answer = this.environmentSecrets.get(environment) ?? { names: [] };
    if (answer instanceof Error) throw answer;
    return answer;
  }
}

/** Issues kept as bodies; the checklist is ticked with the adapter's own text replacement. */
export class FakeIssueTracker implements IssueTracker {
  readonly bodies = new Map<number, string>();
  /** What updateChecklist answers instead of ticking (issues disabled, say). */
  unavailable: string | undefined;
  async findIssue(): Promise<undefined> {
    return undefined;
  }
  async openIssue(_ref: AlertRef, issue: { body: string }): Promise<{ number: number; url: string }> {
    const number = this.bodies.size + 1;
    this.bodies.set(number, issue.body);
    return { number, url: `https://github.com/acme/api/issues/${number}` };
  }
  async updateChecklist(
    _ref: IssueRepositoryRef,
    issueNumber: number,
    items: readonly string[],
  ): Promise<{ ticked: string[] } | { unavailable: string }> {
    if (this.unavailable) return { unavailable: this.unavailable };
    const next = tickChecklist(this.bodies.get(issueNumber) ?? "", items);
    this.bodies.set(issueNumber, next.body);
    return { ticked: next.ticked };
  }
}
