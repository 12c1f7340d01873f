/**
 * Workflow text (branch patterns, environment names, file names) reaches the shell scripts and
 * commands the plan prints. A name is data, never code: every such value is written as one shell
 * word that the shell cannot expand, and comment text is kept on its own line.
 */

/** Characters no POSIX shell treats specially anywhere in an argument. */
const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One shell word for `value`: bare when nothing in it is special, else single-quoted. */
export function shellQuote(value: string): string {
  if (SHELL_SAFE.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** One shell word, double-quoted when nothing in it would expand there (easier to read), else single. */
export function shellQuoteReadable(value: string): string {
  if (SHELL_SAFE.test(value)) return value;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters force single quotes.
  return /["$`\\!\u0000-\u001f]/.test(value) ? shellQuote(value) : `"${value}"`;
}

/** Text for a `#` comment or a free-text argument: one line, no control characters. */
export function oneLine(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point.
  return value.replace(/[\u0000-\u001f\u007f]+/g, " ");
}
