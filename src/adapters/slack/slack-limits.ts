/**
 * facts.md (Slack): at most 50 blocks a message, section text <= 3000 characters, fields <= 10 of
 * <= 2000 each, and about 13k characters in all before Slack refuses or truncates. Messages are
 * built freely and then fitted here, so no incident, however large, produces a refused message.
 */
import type { IncomingWebhookSendArguments } from "@slack/webhook";
import { utcTimesInText } from "../../report/time-format.js";

export type Blocks = NonNullable<IncomingWebhookSendArguments["blocks"]>;
export type Block = Blocks[number];

export const MAX_BLOCKS = 50;
export const MAX_SECTION_TEXT = 3000;
export const MAX_FIELDS = 10;
export const MAX_FIELD_TEXT = 2000;
/** Undocumented total ceiling, kept well under (facts.md). */
export const MAX_MESSAGE_CHARS = 12_000;
export const MAX_FALLBACK_TEXT = 3000;
/** One incident's line in a batch: long enough for a failure's reason, short enough to list many. */
export const MAX_LINE_CHARS = 1000;

export function clip(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const note = "… (truncated)";
  return `${text.slice(0, Math.max(0, limit - note.length))}${note}`;
}

/** "a, b, c and 7 more": a long list shown with a count of what was left out. */
export function listWithCount(items: readonly string[], shown: number, separator = ", "): string {
  if (items.length <= shown) return items.join(separator);
  return `${items.slice(0, shown).join(separator)}${separator}and ${items.length - shown} more`;
}

/**
 * Slack mrkdwn: &, < and > are control characters. Every text a person reads in a message passes
 * here, so a time it quotes (a revocation cut-off, a burst's start) is written as the report writes
 * times: UTC, said so, one format.
 */
export function escapeMrkdwn(text: string): string {
  return utcTimesInText(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function fitBlock(block: Block): Block {
  const b = block as {
    type: string;
    text?: { type: string; text: string };
    fields?: Array<{ type: string; text: string }>;
  };
  if (b.type === "header" && b.text)
    return { ...b, text: { ...b.text, text: clip(b.text.text, 150) } } as Block;
  if (b.type !== "section") return block;
  return {
    ...b,
    ...(b.text ? { text: { ...b.text, text: clip(b.text.text, MAX_SECTION_TEXT) } } : {}),
    ...(b.fields
      ? { fields: b.fields.slice(0, MAX_FIELDS).map((f) => ({ ...f, text: clip(f.text, MAX_FIELD_TEXT) })) }
      : {}),
  } as Block;
}

/** The message within Slack's limits: per-block clipping, then whole blocks dropped from the end. */
export function fitMessage(message: { text: string; blocks: Blocks }): { text: string; blocks: Blocks } {
  let blocks = message.blocks.map(fitBlock);
  if (blocks.length > MAX_BLOCKS)
    blocks = [...blocks.slice(0, MAX_BLOCKS - 1), omitted(blocks.length - MAX_BLOCKS + 1)];
  while (blocks.length > 2 && JSON.stringify(blocks).length > MAX_MESSAGE_CHARS) {
    const dropped = blocks.length;
    blocks = [...blocks.slice(0, -2), omitted(1)];
    if (blocks.length >= dropped) break;
  }
  return { text: clip(message.text, MAX_FALLBACK_TEXT), blocks };
}

function omitted(count: number): Block {
  return {
    type: "context",
    elements: [
      { type: "mrkdwn", text: `${count} more section(s) left out to fit Slack; the report has everything.` },
    ],
  };
}

/** Room left for sections in one message once its frame (header, owners, context) is counted. */
export interface Room {
  blocks: number;
  chars: number;
}

function section(text: string): Block {
  return { type: "section", text: { type: "mrkdwn", text } };
}

/** What a section adds to the message's block JSON (facts.md: the ~13k total), comma included. */
function sectionChars(text: string): number {
  return JSON.stringify(section(text)).length + 1;
}

/**
 * Entries into as few messages as Slack's limits allow, in order. With `join`, consecutive entries
 * share a section up to MAX_SECTION_TEXT (a list of lines); without, each entry is a section of its
 * own (a paragraph per incident). An entry is clipped to one section but never split or dropped:
 * the counts add up to every entry, so a burst of any size loses no incident, it takes more messages.
 */
export function packSections(
  entries: readonly string[],
  room: Room,
  join: boolean,
): Array<{ count: number; sections: Block[] }> {
  const messages: Array<{ count: number; sections: Block[] }> = [];
  let texts: string[] = [];
  let chars = 0;
  let count = 0;
  const flush = () => {
    if (count > 0) messages.push({ count, sections: texts.map(section) });
    texts = [];
    chars = 0;
    count = 0;
  };
  for (const raw of entries) {
    const entry = clip(raw, MAX_SECTION_TEXT);
    const last = texts.at(-1);
    if (join && last !== undefined) {
      const joined = `${last}\n${entry}`;
      const grown = chars - sectionChars(last) + sectionChars(joined);
      if (joined.length <= MAX_SECTION_TEXT && grown <= room.chars) {
        texts[texts.length - 1] = joined;
        chars = grown;
        count += 1;
        continue;
      }
    }
    const size = sectionChars(entry);
    if (count > 0 && (texts.length + 1 > room.blocks || chars + size > room.chars)) flush();
    texts.push(entry);
    chars += size;
    count += 1;
  }
  flush();
  return messages;
}
