/**
 * Messages for many incidents at once (a storm: hundreds of keys leaked in a minute), when one
 * message each would take longer than anyone can wait at Slack's one message a second per channel
 * (facts.md). The digest lists every incident, one line each, over as many messages as Slack's
 * limits need; the details and follow-ups go in batches. Nothing is clipped away to fit: a bigger
 * burst takes more messages, never fewer incidents. The ones a person must act on come first,
 * marked ACTION NEEDED and counted in every header, so a batch never hides them.
 */
import type { Incident } from "../../domain/incident.js";
import type { FollowUp, NotificationKind } from "../../ports.js";
import { followUpLine, followUpNeedsLook } from "./follow-up-message.js";
import { incidentDetail, needsPerson, ownerMentions, type SlackMessage } from "./incident-message.js";
import {
  type Blocks,
  clip,
  escapeMrkdwn,
  fitMessage,
  MAX_BLOCKS,
  MAX_LINE_CHARS,
  MAX_MESSAGE_CHARS,
  packSections,
  type Room,
} from "./slack-limits.js";

export interface FirstEntry {
  incident: Incident;
  kind: NotificationKind;
}

/** One message of a batch and how many of the given entries (in order) it carries. */
export interface Batch {
  message: SlackMessage;
  count: number;
}

const OWNERS_CHARS = 1_000;
/** The part number ("(12/12)") a title gains once the sections are packed. */
const PART_CHARS = 12;
/**
 * Kept free for a note the sender may put in front of a built message (sent-notices.ts: "this may
 * repeat an earlier message"), so adding it never makes the last-resort fitting drop an incident.
 */
const NOTE_ROOM = { blocks: 1, chars: 600 };

/** Stable: those a person must act on first, then the rest in arrival order. */
export function loudFirst<T>(items: readonly T[], loud: (item: T) => boolean): T[] {
  return [...items.filter(loud), ...items.filter((item) => !loud(item))];
}

/**
 * One incident in a line: id, key id, status, account, the repository's alert; why, unless it
 * is simply contained; ACTION NEEDED in front when a person must act.
 */
export function digestLine(incident: Incident, kind: NotificationKind): string {
  const key = incident.accessKeyId ?? "unknown key";
  const repo = incident.repository
    ? incident.alertUrl
      ? `<${incident.alertUrl}|${escapeMrkdwn(incident.repository)} #${incident.alertNumber}>`
      : `${escapeMrkdwn(incident.repository)} #${incident.alertNumber}`
    : "reported by hand";
  const why = incident.status === "contained" ? "" : `: ${escapeMrkdwn(incident.summary)}`;
  const loud = needsPerson(kind) ? ":rotating_light: *ACTION NEEDED* " : "";
  return clip(
    `• ${loud}\`${incident.id}\` \`${key}\` *${incident.status}* · account ${incident.location?.accountId ?? "unknown"} · ${repo}${why}`,
    MAX_LINE_CHARS,
  );
}

function mentionsOf(incidents: readonly Incident[], owners: Readonly<Record<string, string>>): string[] {
  return [...new Set(incidents.flatMap((incident) => ownerMentions(incident, owners)))];
}

interface Frame {
  title: string;
  /** Shown above the incidents when some need a person. */
  lead?: string;
  mentions: string[];
  context: string;
  loud: boolean;
}

function frameBlocks(frame: Frame): { before: Blocks; after: Blocks } {
  const before: Blocks = [{ type: "header", text: { type: "plain_text", text: clip(frame.title, 150) } }];
  if (frame.lead) before.push({ type: "section", text: { type: "mrkdwn", text: frame.lead } });
  const after: Blocks = [];
  if (frame.mentions.length > 0)
    after.push({
      type: "section",
      text: { type: "mrkdwn", text: clip(`Owners: ${frame.mentions.join(" ")}`, OWNERS_CHARS) },
    });
  after.push({ type: "context", elements: [{ type: "mrkdwn", text: frame.context }] });
  return { before, after };
}

/**
 * What the incident sections may fill once the frame is counted: its blocks and characters, with
 * room for a part number and, when owners may be mentioned, for the owners line at its longest.
 */
function roomBeside(frame: Frame, mayMention: boolean): Room {
  const { before, after } = frameBlocks({
    ...frame,
    mentions: mayMention ? ["x".repeat(OWNERS_CHARS)] : [],
  });
  const blocks = [...before, ...after];
  return {
    blocks: MAX_BLOCKS - blocks.length - NOTE_ROOM.blocks,
    chars: MAX_MESSAGE_CHARS - JSON.stringify(blocks).length - PART_CHARS - NOTE_ROOM.chars,
  };
}

function framed(frame: Frame, sections: Blocks): SlackMessage {
  const { before, after } = frameBlocks(frame);
  return fitMessage({
    text: frame.loud ? `ACTION NEEDED: ${frame.title}` : frame.title,
    blocks: [...before, ...sections, ...after],
  });
}

/** Sections packed beside a frame, then framed: the title may depend on the part and its items. */
function build<T>(
  entries: readonly T[],
  texts: string[],
  join: boolean,
  frame: (slice: readonly T[], part: string) => Frame,
  mayMention: boolean,
): Batch[] {
  const packed = packSections(texts, roomBeside(frame(entries, ""), mayMention), join);
  let offset = 0;
  return packed.map((batch, index) => {
    const slice = entries.slice(offset, offset + batch.count);
    offset += batch.count;
    const partOf = packed.length > 1 ? ` (${index + 1}/${packed.length})` : "";
    return { count: batch.count, message: framed(frame(slice, partOf), batch.sections) };
  });
}

/**
 * The digest of a burst of first messages: every incident a line, in the order given (loud first:
 * see loudFirst), split over as many messages as Slack's limits need. Every part's header counts
 * the whole burst and those that need a person.
 */
export function digestPages(
  entries: readonly FirstEntry[],
  owners: Readonly<Record<string, string>>,
  threads: boolean,
): Batch[] {
  const loud = entries.filter((e) => needsPerson(e.kind)).length;
  const context = threads
    ? "Each key's full message is in this message's thread; its forensics and OIDC plan follow there."
    : `${loud > 0 ? "Those that need a person get their full message next. " : ""}Forensics and OIDC plans follow when ready.`;
  return build(
    entries,
    entries.map((e) => digestLine(e.incident, e.kind)),
    true,
    (slice, partOf) => ({
      title: `${entries.length} leaked AWS keys handled${loud > 0 ? `, ${loud} need a person now` : ""}${partOf}`,
      ...(loud > 0
        ? { lead: `:rotating_light: *${loud} need a person now*: listed first, marked ACTION NEEDED.` }
        : {}),
      mentions: mentionsOf(
        slice.map((e) => e.incident),
        owners,
      ),
      context,
      loud: loud > 0,
    }),
    Object.keys(owners).length > 0,
  );
}

/** Full details of several incidents per message (a thread reply under their digest). */
export function detailBatches(
  entries: readonly FirstEntry[],
  owners: Readonly<Record<string, string>>,
): Batch[] {
  return build(
    entries,
    entries.map((e) => incidentDetail(e.incident, e.kind, owners)),
    false,
    (slice, partOf) => {
      const loud = slice.filter((e) => needsPerson(e.kind)).length;
      return {
        title: `Details of ${slice.length} leaked AWS keys${loud > 0 ? `, ${loud} need a person now` : ""}${partOf}`,
        mentions: [],
        context: "Forensics and the OIDC plan of each key follow when they are done.",
        loud: loud > 0,
      };
    },
    false,
  );
}

/** Several follow-ups per message: a line each, those to look at first and counted. */
export function followUpBatches(
  entries: readonly FollowUp[],
  owners: Readonly<Record<string, string>>,
): Batch[] {
  const look = entries.filter(followUpNeedsLook).length;
  return build(
    entries,
    entries.map(followUpLine),
    true,
    (slice, partOf) => ({
      title: `Forensics and plans for ${entries.length} leaked AWS keys${look > 0 ? `, ${look} to look at now` : ""}${partOf}`,
      ...(look > 0
        ? {
            lead: `:rotating_light: *${look} to look at now* (compromised, suspicious or not fully read): listed first.`,
          }
        : {}),
      mentions: mentionsOf(
        slice.map((e) => e.incident),
        owners,
      ),
      context: "Each incident's findings, evidence and plan files are beside it (needs AWS credentials).",
      loud: look > 0,
    }),
    Object.keys(owners).length > 0,
  );
}
