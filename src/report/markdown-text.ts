/**
 * Untrusted text (file paths, CloudTrail user names and reasons, warnings) placed in Markdown that
 * GitHub renders: in the incident issue posted in the leaking repository and in the Markdown report.
 * Punctuation becomes numeric entities, so nothing can open emphasis, a link, raw HTML, a table cell
 * or a code span, and a backslash cannot cancel our own escaping. GitHub finds @mentions, #refs and
 * bare links in the rendered text (entities already decoded), so those get a zero-width space that
 * breaks the pattern while reading the same.
 */
import { printable } from "../forensics/printable-text.js";

const ZERO_WIDTH_SPACE = "&#8203;";

/** A length bound that no legitimate field reaches; callers that want shorter cut before. */
const MAX_TEXT_CHARS = 2_000;

export function mdText(value: string | number): string {
  return (
    printable(String(value), MAX_TEXT_CHARS)
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      // One pass, so the "#" of an entity made here is not itself broken up.
      .replace(/[\\`*_[\]|~@#]/g, (char) =>
        char === "@" || char === "#" ? `${char}${ZERO_WIDTH_SPACE}` : `&#${char.codePointAt(0)};`,
      )
      .replace(/:\/\//g, `:${ZERO_WIDTH_SPACE}//`)
      .replace(/\bwww\./gi, (www) => `${www.slice(0, 3)}${ZERO_WIDTH_SPACE}.`)
      .replace(/\s+/g, " ")
  );
}
