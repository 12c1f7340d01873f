/**
 * Text taken from CloudTrail events is attacker-controlled (user agents, user names, bucket keys).
 * It ends up in a terminal, a Slack message and an HTML report, so control characters (ANSI escapes
 * that rewrite a terminal line), bidirectional overrides (text that reads differently than it is)
 * and unbounded lengths are neutralised once, where the text enters the findings.
 */

// C0 and C1 controls, DEL, and the Unicode bidirectional embedding/override/isolate characters.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `value` with unprintable characters replaced by U+FFFD and cut to `maxLength` characters. */
export function printable(value: string, maxLength: number): string {
  const cut = value.length > maxLength ? `${value.slice(0, Math.max(0, maxLength - 1))}…` : value;
  return cut.replace(UNPRINTABLE, "\uFFFD");
}

/** A printable string, or undefined when `value` is not a non-empty string. */
export function printableOrUndefined(value: unknown, maxLength: number): string | undefined {
  if (typeof value !== "string" || value.length === 0) return undefined;
  return printable(value, maxLength);
}
