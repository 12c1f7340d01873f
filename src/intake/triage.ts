/**
 * Which verified deliveries become work. Pure: an event name, a parsed payload and the configured AWS
 * secret types in; a decision with its reason out. Queued: `secret_scanning_alert` with `created`,
 * `reopened`, `publicly_leaked`, or `validated` while the key is live, for an AWS secret type.
 * Everything else is acknowledged and ignored, with a reason a person can read in GitHub's delivery log.
 */
import { REPOSITORY_VISIBILITIES, type RepositoryVisibility } from "../domain/alert-job.js";
import {
  describeIssues,
  isJsonObject,
  SecretScanningAlertDeliverySchema,
  SecretScanningAlertEnvelopeSchema,
} from "./webhook-schema.js";

/** facts.md (GitHub: the alert): actions that mean "a live secret may be out there now". */
export const QUEUED_ACTIONS: ReadonlySet<string> = new Set([
  "created",
  "reopened",
  "publicly_leaked",
  "validated",
]);

export interface AlertToQueue {
  repository: string;
  alertNumber: number;
  action: string;
  secretType: string;
  installationId?: number;
  repositoryVisibility?: RepositoryVisibility;
}

export type TriageDecision =
  | { outcome: "ping" }
  | { outcome: "queue"; alert: AlertToQueue }
  | { outcome: "ignore"; reason: string }
  /** The delivery is not shaped as its event says: answered 422. */
  | { outcome: "invalid"; reason: string };

export function triage(event: string, payload: unknown, awsSecretTypes: ReadonlySet<string>): TriageDecision {
  if (!isJsonObject(payload)) {
    return { outcome: "invalid", reason: "payload is not a JSON object" };
  }
  if (event === "ping") return { outcome: "ping" };
  if (event !== "secret_scanning_alert")
    return { outcome: "ignore", reason: `event ${event} is not handled` };

  // The action is read first so that actions we ignore are never refused for their shape: a new
  // action with a different payload on GitHub's side must not turn into failed deliveries.
  const envelope = SecretScanningAlertEnvelopeSchema.safeParse(payload);
  if (!envelope.success) return { outcome: "invalid", reason: describeIssues(envelope.error) };
  const action = envelope.data.action;
  if (!QUEUED_ACTIONS.has(action))
    return { outcome: "ignore", reason: `action ${safe(action)} is not handled` };

  const delivery = SecretScanningAlertDeliverySchema.safeParse(payload);
  if (!delivery.success) return { outcome: "invalid", reason: describeIssues(delivery.error) };
  const { alert, repository, installation } = delivery.data;

  if (!awsSecretTypes.has(alert.secret_type)) {
    return { outcome: "ignore", reason: `secret type ${safe(alert.secret_type)} is not an AWS type` };
  }
  // `validated` fires whenever validity changes; only a key that became (or still is) live needs us.
  if (action === "validated" && alert.validity !== "active") {
    return { outcome: "ignore", reason: `validated with validity ${safe(alert.validity ?? "absent")}` };
  }
  return {
    outcome: "queue",
    alert: {
      repository: repository.full_name,
      alertNumber: alert.number,
      action,
      secretType: alert.secret_type,
      ...(installation ? { installationId: installation.id } : {}),
      ...withVisibility(repository),
    },
  };
}

/**
 * `visibility` names internal repositories too; older payloads carry only `private` (an internal
 * repository is `private: true`, so `false` is public). Neither: unknown, left out.
 */
function withVisibility(repository: {
  private?: boolean | null | undefined;
  visibility?: string | null | undefined;
}): { repositoryVisibility?: RepositoryVisibility } {
  const named = REPOSITORY_VISIBILITIES.find((known) => known === repository.visibility);
  if (named) return { repositoryVisibility: named };
  if (repository.visibility == null && typeof repository.private === "boolean")
    return { repositoryVisibility: repository.private ? "private" : "public" };
  return {};
}

/** Reasons echo payload strings back to GitHub and into logs: keep them short and printable. */
function safe(value: string): string {
  return value.replace(/[^\w.-]/g, "?").slice(0, 60);
}
