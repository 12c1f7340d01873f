import { InvalidInputError } from "./errors.js";
import * as z from "./validation.js";

/**
 * `owner/name` of a GitHub repository. Owners are alphanumeric with hyphens (at most 39); an
 * Enterprise Managed Users owner adds one `_` before the enterprise short code (`octo_emu`), never a
 * doubled, leading or trailing one, so the first `__` of an incident id always ends the owner. Names
 * add `.` and `_` (at most 100).
 */
export const REPOSITORY_FULL_NAME =
  /^(?=[A-Za-z0-9_-]{1,39}\/)[A-Za-z0-9-]+(?:_[A-Za-z0-9-]+)*\/[A-Za-z0-9._-]{1,100}$/;

/** GitHub's repository visibilities (`repository.visibility` in webhook payloads). */
export const REPOSITORY_VISIBILITIES = ["public", "private", "internal"] as const;
export type RepositoryVisibility = (typeof REPOSITORY_VISIBILITIES)[number];

/**
 * What the intake puts on the queue for one alert delivery: identifiers only, never anything secret
 * (the webhook carries no secret anyway: facts.md). The respond function re-validates it.
 */
export const AlertJobSchema = z.object({
  version: z.literal(1),
  incidentId: z.string().check(z.minLength(1), z.maxLength(200)),
  deliveryId: z.string().check(z.minLength(1), z.maxLength(100)),
  repository: z.string().check(z.regex(REPOSITORY_FULL_NAME)),
  alertNumber: z.number().check(z.int(), z.positive()),
  action: z.string().check(z.minLength(1), z.maxLength(40)),
  secretType: z.string().check(z.minLength(1), z.maxLength(100)),
  receivedAt: z.iso.datetime(),
  installationId: z.optional(z.number().check(z.int(), z.positive())),
  /** Absent when the delivery did not say: treated as public (what goes into the issue is a public page). */
  repositoryVisibility: z.optional(z.enum(REPOSITORY_VISIBILITIES)),
});

export type AlertJob = z.infer<typeof AlertJobSchema>;

/**
 * An AWS Health `AWS_RISK_CREDENTIALS_EXPOSED` notice (src/intake/aws-health-event.ts), as the
 * incidents of the keys it names record it.
 */
export interface ExposureNotice {
  /** EventBridge's event id: a redelivery of the same event carries the same one. */
  eventId: string;
  eventArn: string;
  /** The account AWS says the keys belong to (checked against where the responder finds them). */
  accountId: string;
  /** When AWS found the key exposed (ISO 8601), when it says. */
  detectedAt?: string;
  /** `owner/name` when AWS's description names a GitHub repository. */
  repository?: string;
}

/**
 * One incident per repository and alert number (design.md: exactly one incident per alert). The id
 * is a safe S3 key and file name, and unambiguous: an owner never holds `__` (REPOSITORY_FULL_NAME),
 * so the first `__` after the prefix ends the owner, and the alert number is the last part.
 */
export function incidentIdFor(repository: string, alertNumber: number): string {
  const [owner = "", repo = ""] = repository.toLowerCase().split("/");
  return `gh__${owner}__${repo}__${alertNumber}`;
}

/** Incidents opened by hand (`leak-responder respond --key`) are keyed by the access key id. */
export function manualIncidentId(accessKeyId: string): string {
  return `key__${accessKeyId}`;
}

/** A queued message body, validated: a malformed one fails loudly (and ends in the DLQ). */
export function parseAlertJob(body: string): AlertJob {
  return alertJobFrom(parseQueuedJson(body));
}

/** The queue's message body as JSON (every message on it is JSON: an alert job or an AWS Health event). */
export function parseQueuedJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new InvalidInputError("Queued message is not JSON");
  }
}

/** Where a queued message differs from its shape: field paths only, never the values (they may be anything). */
export function issuePaths(error: z.ValidationError): string {
  return error.issues.map((issue) => issue.path.join(".") || "(root)").join(", ");
}

export function alertJobFrom(raw: unknown): AlertJob {
  const parsed = AlertJobSchema.safeParse(raw);
  if (!parsed.success) {
    throw new InvalidInputError(
      `Queued message does not have the alert job shape (${issuePaths(parsed.error)})`,
    );
  }
  return parsed.data;
}
