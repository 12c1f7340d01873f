/**
 * The second trigger: AWS Health's `AWS_RISK_CREDENTIALS_EXPOSED` (facts.md: AWS is the partner
 * for public leaks of AWS keys; it raises this event and attaches a quarantine policy), for keys
 * leaked where GitHub secret scanning does not look. An EventBridge rule puts the event on the
 * alert queue as it is (serverless.yml); the queue accepts it only from that rule, so it needs no
 * signature, but it is validated like any other input.
 *
 * Shape (AWS Health's EventBridge schema reference): `detail.affectedEntities[].entityValue` holds
 * the access key id; `detail.affectedAccount` the key's account in an organizational view (else the
 * event's `account`); `detail.eventDescription[].latestDescription` says where it was found.
 */
import { z } from "zod";
import { REPOSITORY_FULL_NAME } from "../domain/alert-job.js";
import { InvalidInputError } from "../domain/errors.js";

export const CREDENTIALS_EXPOSED = "AWS_RISK_CREDENTIALS_EXPOSED";
const ACCESS_KEY_ID = /^(AKIA|ASIA)[A-Z2-7]{16}$/;

const HealthEventSchema = z.object({
  id: z.string().min(1).max(100),
  source: z.literal("aws.health"),
  "detail-type": z.string().max(100),
  account: z.string().regex(/^\d{12}$/),
  time: z.iso.datetime(),
  detail: z.object({
    eventArn: z.string().min(1).max(1600),
    eventTypeCode: z.string().max(200),
    affectedAccount: z
      .string()
      .regex(/^\d{12}$/)
      .optional(),
    startTime: z.string().max(100).optional(),
    eventDescription: z
      .array(z.object({ language: z.string().max(20).optional(), latestDescription: z.string().max(20_000) }))
      .max(20)
      .optional(),
    affectedEntities: z
      .array(z.object({ entityValue: z.string().max(1600) }))
      .max(100)
      .optional(),
  }),
});

/** What the playbook needs of one exposure notice: identifiers and where the leak was seen. */
export interface CredentialsExposure {
  /** The EventBridge event id: EventBridge delivers at least once, so it names the delivery. */
  eventId: string;
  eventArn: string;
  /** The account AWS says the keys belong to. */
  accountId: string;
  accessKeyIds: string[];
  /** When AWS found the keys exposed (ISO 8601), when it says. */
  detectedAt?: string;
  receivedAt: string;
  /** `owner/name` when the description names a GitHub repository. */
  repository?: string;
}

/** True for anything that claims to be an AWS Health event (it is then validated, not guessed at). */
export function looksLikeHealthEvent(raw: unknown): boolean {
  return typeof raw === "object" && raw !== null && (raw as { source?: unknown }).source === "aws.health";
}

export function parseCredentialsExposure(raw: unknown): CredentialsExposure {
  const parsed = HealthEventSchema.safeParse(raw);
  if (!parsed.success) {
    const where = parsed.error.issues.map((issue) => issue.path.join(".") || "(root)").join(", ");
    throw new InvalidInputError(`Queued AWS Health event does not have the expected shape (${where})`);
  }
  const event = parsed.data;
  if (event.detail.eventTypeCode !== CREDENTIALS_EXPOSED) {
    throw new InvalidInputError(
      `Queued AWS Health event is ${event.detail.eventTypeCode.slice(0, 80)}, not ${CREDENTIALS_EXPOSED}: check the EventBridge rule's pattern`,
    );
  }
  const accessKeyIds = [
    ...new Set(
      (event.detail.affectedEntities ?? [])
        .map((entity) => entity.entityValue.trim())
        .filter((value) => ACCESS_KEY_ID.test(value)),
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
    receivedAt: event.time,
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
