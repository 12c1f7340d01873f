/**
 * Whether a notice already reached Slack, for a run that resumes an incident after an earlier run
 * died between posting a message and recording it. Every message the responder posts with a bot
 * token carries message metadata naming the notices in it (`event_type: leak_responder_notice`,
 * `event_payload: {incident_id, kind}`, or `{notices: [...]}` for a message about several
 * incidents); a resumed run reads the channel back and looks for it: `conversations.history` from
 * just before the incident was created (top-level messages: first messages and digests), or
 * `conversations.replies` in the first message's thread (the follow-up), both with
 * `include_all_metadata`. That needs the `channels:history` scope (`groups:history` for a private
 * channel). An incoming webhook cannot read back: there the notice is sent again with a plain note
 * that it may repeat an earlier one (see src/playbook/notice-once.ts).
 */
import type { WebClient } from "@slack/web-api";
import type { Incident } from "../../domain/incident.js";
import type { NoticeKind, NotificationReceipt } from "../../ports.js";
import type { SlackMessage } from "./incident-message.js";
import { type Blocks, fitMessage } from "./slack-limits.js";

export const NOTICE_EVENT_TYPE = "leak_responder_notice";

/** One notice carried by a message: which incident, which message about it. */
export interface Notice {
  incidentId: string;
  kind: NoticeKind;
  /** The sender could not check whether an earlier run sent it: the message says it may repeat. */
  possibleRepeat?: boolean | undefined;
}

/** The notice of a first message or a follow-up waiting in the notifier's queues. */
export function noticeOf(
  item: { incident: Incident; kind: NoticeKind } | { details: { incident: Incident } },
  possibleRepeat: boolean | undefined,
): Notice {
  return "details" in item
    ? { incidentId: item.details.incident.id, kind: "follow-up", possibleRepeat }
    : { incidentId: item.incident.id, kind: item.kind, possibleRepeat };
}

export interface NoticeMetadata {
  event_type: string;
  event_payload:
    | { incident_id: string; kind: string }
    | { notices: Array<{ incident_id: string; kind: string }> };
}

/** A message as posted: the Block Kit message and the metadata that names its notices. */
export type NoticeMessage = SlackMessage & { metadata?: NoticeMetadata };

/** Clock skew between the responder and Slack: the read-back starts this long before the incident. */
const SKEW_MS = 5 * 60_000;
/** Messages per page, and pages read at most (a storm's channel since the incident was created). */
const PAGE_SIZE = 200;
const MAX_PAGES = 10;

export function noticeMetadata(notices: readonly Notice[]): NoticeMetadata | undefined {
  const [only] = notices;
  if (!only) return undefined;
  const payload = (n: Notice) => ({ incident_id: n.incidentId, kind: n.kind });
  return {
    event_type: NOTICE_EVENT_TYPE,
    event_payload: notices.length === 1 ? payload(only) : { notices: notices.map(payload) },
  };
}

const REPEAT_NOTE =
  ":repeat: *This may repeat an earlier message.* The responder stopped after sending it and could not check whether it arrived, so it is sent again rather than risk silence.";

/**
 * The message with its notices' metadata (when the channel can be read back: `readBack`) and, when
 * one may repeat, a plain note saying so first.
 */
export function withNotices(
  message: SlackMessage,
  notices: readonly Notice[],
  readBack: boolean,
): NoticeMessage {
  const metadata = readBack ? noticeMetadata(notices) : undefined;
  const repeats = notices.some((n) => n.possibleRepeat);
  const marked = repeats
    ? fitMessage({
        text: `(May repeat an earlier message) ${message.text}`,
        blocks: [
          { type: "context", elements: [{ type: "mrkdwn", text: REPEAT_NOTE }] },
          ...message.blocks,
        ] as Blocks,
      })
    : message;
  return { ...marked, ...(metadata ? { metadata } : {}) };
}

function carries(metadata: unknown, incidentId: string, kind: NoticeKind): boolean {
  if (!metadata || typeof metadata !== "object") return false;
  const { event_type: type, event_payload: payload } = metadata as {
    event_type?: unknown;
    event_payload?: unknown;
  };
  if (type !== NOTICE_EVENT_TYPE || !payload || typeof payload !== "object") return false;
  const matches = (p: unknown) =>
    Boolean(p) &&
    typeof p === "object" &&
    (p as { incident_id?: unknown }).incident_id === incidentId &&
    (p as { kind?: unknown }).kind === kind;
  const list = (payload as { notices?: unknown }).notices;
  return matches(payload) || (Array.isArray(list) && list.some(matches));
}

/**
 * The notice as Slack shows it, or undefined when the channel does not have it. Errors (a missing
 * scope, Slack down) propagate: the caller then cannot tell, and says so in the message it sends.
 */
export async function findSentNotice(
  client: WebClient,
  channel: string,
  incident: Incident,
  kind: NoticeKind,
): Promise<NotificationReceipt | undefined> {
  const thread = kind === "follow-up" ? incident.notifications?.slack?.ts : undefined;
  const oldest = ((Date.parse(incident.createdAt) - SKEW_MS) / 1000).toFixed(6);
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const common = {
      channel,
      limit: PAGE_SIZE,
      include_all_metadata: true,
      ...(cursor ? { cursor } : {}),
    };
    const answer = thread
      ? await client.conversations.replies({ ...common, ts: thread })
      : await client.conversations.history({ ...common, oldest });
    const found = answer.messages?.find((m) => carries(m.metadata, incident.id, kind));
    if (found?.ts) return { channel, ts: found.ts };
    cursor = answer.response_metadata?.next_cursor || undefined;
    if (!answer.has_more || !cursor) return undefined;
  }
  throw new Error(
    `more than ${MAX_PAGES * PAGE_SIZE} messages since the incident began: not read to the end`,
  );
}
