/**
 * The second trigger: AWS Health's `AWS_RISK_CREDENTIALS_EXPOSED` (facts.md: AWS is the partner
 * for public leaks of AWS keys; it raises this event and attaches a quarantine policy), for keys
 * leaked where GitHub secret scanning does not look. An EventBridge rule puts the event on the
 * alert queue as it is (serverless.yml). It carries no signature: whoever may send to the queue
 * could send one (the queue's policy admits the rule; of this account's principals, the stack lets
 * only the intake's role send), so it is validated like any other input and names keys only.
 *
 * Shape (AWS Health's EventBridge schema reference): `detail.affectedEntities[].entityValue` holds
 * the access key id; `detail.affectedAccount` the key's account in an organizational view (else the
 * event's `account`); `detail.eventDescription[].latestDescription` says where it was found.
 */
import { isAccessKeyId } from "../domain/access-key.js";
import { type ExposureNotice, issuePaths, REPOSITORY_FULL_NAME } from "../domain/alert-job.js";
import { InvalidInputError } from "../domain/errors.js";
import * as z from "../domain/validation.js";

const CREDENTIALS_EXPOSED = "AWS_RISK_CREDENTIALS_EXPOSED";

const HealthEventSchema = z.object({
  id: z.string().check(z.minLength(1), z.maxLength(100)),
  source: z.literal("aws.health"),
  "detail-type": z.string().check(z.maxLength(100)),
  account: z.string().check(z.regex(/^\d{12}$/)),
  time: z.iso.datetime(),
  detail: z.object({
    eventArn: z.string().check(z.minLength(1), z.maxLength(1600)),
    eventTypeCode: z.string().check(z.maxLength(200)),
    affectedAccount: z.optional(z.string().check(z.regex(/^\d{12}$/))),
    startTime: z.optional(z.string().check(z.maxLength(100))),
    eventDescription: z.optional(
      z
        .array(
          z.object({
            language: z.optional(z.string().check(z.maxLength(20))),
            latestDescription: z.string().check(z.maxLength(20_000)),
          }),
        )
        .check(z.maxLength(20)),
    ),
    affectedEntities: z.optional(
      z.array(z.object({ entityValue: z.string().check(z.maxLength(1600)) })).check(z.maxLength(100)),
    ),
  }),
});

/** One exposure notice: the keys it names, and the notice each of their incidents records. */
export type CredentialsExposure = ExposureNotice & { accessKeyIds: string[] };

/** True for anything that claims to be an AWS Health event (it is then validated, not guessed at). */
export function looksLikeHealthEvent(raw: unknown): boolean {
  return typeof raw === "object" && raw !== null && (raw as { source?: unknown }).source === "aws.health";
}

export function parseCredentialsExposure(raw: unknown): CredentialsExposure {
  const parsed = HealthEventSchema.safeParse(raw);
  if (!parsed.success) {
    throw new InvalidInputError(
      `Queued AWS Health event does not have the expected shape (${issuePaths(parsed.error)})`,
    );
  }
  const event = parsed.data;
  if (event.detail.eventTypeCode !== CREDENTIALS_EXPOSED) {
    throw new InvalidInputError(
      `Queued AWS Health event is ${event.detail.eventTypeCode.slice(0, 80)}, not ${CREDENTIALS_EXPOSED}: check the EventBridge rule's pattern`,
    );
  }
  const accessKeyIds = [
    ...new Set(
      (event.detail.affectedEntities ?? []).map((entity) => entity.entityValue.trim()).filter(isAccessKeyId),
    ),
  ];
  if (accessKeyIds.length === 0) {
    throw new InvalidInputError("AWS Health exposure event names no access key id in affectedEntities");
  }
  const descriptions = (event.detail.eventDescription ?? []).map((d) => d.latestDescription);
  const repository = descriptions.map(repositoryIn).find((name) => name !== undefined);
  const detectedAt = event.detail.startTime ? new Date(event.detail.startTime) : undefined;
  return {
    eventId: event.id,
    eventArn: event.detail.eventArn,
    accountId: event.detail.affectedAccount ?? event.account,
    accessKeyIds,
    ...(detectedAt && !Number.isNaN(detectedAt.getTime()) ? { detectedAt: detectedAt.toISOString() } : {}),
    ...(repository ? { repository } : {}),
  };
}

/** The first `github.com/OWNER/NAME` a description names, when it is a valid repository name. */
export function repositoryIn(text: string): string | undefined {
  for (const match of text.matchAll(/(?<![\w.-])github\.com[/:]([A-Za-z0-9_-]+)\/([A-Za-z0-9._-]+)/g)) {
    const name = `${match[1]}/${(match[2] ?? "").replace(/\.git$/, "").replace(/\.+$/, "")}`;
    if (REPOSITORY_FULL_NAME.test(name)) return name;
  }
  return undefined;
}
