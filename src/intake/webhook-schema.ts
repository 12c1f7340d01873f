/**
 * The parts of GitHub's webhook deliveries the intake relies on, validated after the signature check
 * and JSON parse (style.md: verify, then parse, then validate). Only the fields the queue message
 * needs are checked; everything else in GitHub's payload (dozens of URLs, the sender, the
 * organization) is ignored (zod's default: unknown keys are stripped, not refused), so additions on
 * GitHub's side never break the intake and nothing else is copied.
 * Field names and types follow @octokit/openapi-webhooks-types
 * (`webhook-secret-scanning-alert-*`, `secret-scanning-alert-webhook`).
 */
import { REPOSITORY_FULL_NAME } from "../domain/alert-job.js";
import * as z from "../domain/validation.js";

/** Event names are lowercase words joined by underscores (`secret_scanning_alert`, `ping`). */
export const EVENT_NAME = /^[a-z][a-z_]{0,63}$/;

/**
 * GitHub's delivery ids are GUIDs; the pattern is a little wider so a format change on GitHub's side is
 * not refused, but narrow enough that the id is safe in a log line, an S3 key or a file name.
 */
export const DELIVERY_ID = /^[A-Za-z0-9._-]{1,100}$/;

/** Every GitHub delivery is a JSON object (checked by hand: a schema would copy every key). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export const SecretScanningAlertEnvelopeSchema = z.object({
  action: z.string().check(z.minLength(1), z.maxLength(40)),
});

/** GitHub's ids and numbers: positive integers that survive a round trip through a double. */
const positiveSafeInteger = () => z.number().check(z.int(), z.positive(), z.maximum(Number.MAX_SAFE_INTEGER));

/** `secret_scanning_alert`: every action carries the alert and the repository. */
export const SecretScanningAlertDeliverySchema = z.object({
  action: z.string().check(z.minLength(1), z.maxLength(40)),
  alert: z.object({
    number: positiveSafeInteger(),
    secret_type: z.string().check(z.minLength(1), z.maxLength(100)),
    // `validated` is acted on only when the key is live; the other values are GitHub's today.
    validity: z.nullish(z.string().check(z.maxLength(40))),
  }),
  repository: z.object({
    full_name: z.string().check(z.regex(REPOSITORY_FULL_NAME, "is not an owner/name repository name")),
    // Whether the issue opened in the repository is a public page. Neither is refused for its value:
    // a visibility GitHub adds later is read as unknown, which is treated as public.
    private: z.catch(z.nullish(z.boolean()), undefined),
    visibility: z.catch(z.nullish(z.string().check(z.maxLength(40))), undefined),
  }),
  // Present when the delivery comes from a GitHub App installation: the respond step reads the
  // alert through that installation.
  installation: z.nullish(z.looseObject({ id: positiveSafeInteger() })),
});

export type SecretScanningAlertDelivery = z.infer<typeof SecretScanningAlertDeliverySchema>;

/** A short, stack-free description of what is wrong: for a 422 body and a log line. */
export function describeIssues(error: z.ValidationError): string {
  const first = error.issues[0];
  if (!first) return "invalid payload";
  const path = first.path.length > 0 ? first.path.map(String).join(".") : "payload";
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : "";
  return `${path}: ${first.message}${more}`.slice(0, 200);
}
