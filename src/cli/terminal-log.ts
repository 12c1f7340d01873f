/**
 * The playbook's log for a person at a terminal: one readable line per entry on stderr, so stdout
 * holds only the command's result (`--json` output can be piped to jq) and progress still shows.
 * Lambda keeps the Powertools JSON logger (src/logger.ts); this is its CLI counterpart.
 */
import { printable } from "../forensics/printable-text.js";
import type { Log } from "../logger.js";

const LEVELS = ["DEBUG", "INFO", "WARN", "ERROR"] as const;
type Level = (typeof LEVELS)[number];

/** A value as it reads on one line: strings bare, the rest as JSON. */
function shown(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

export function terminalLog(
  command: string,
  options: { level?: string | undefined; write?: (line: string) => void } = {},
): Log {
  const threshold = Math.max(0, LEVELS.indexOf((options.level?.toUpperCase() ?? "INFO") as Level));
  const write = options.write ?? ((line: string) => void process.stderr.write(`${line}\n`));
  let keys: Record<string, unknown> = {};
  const at =
    (level: Level) =>
    (message: string, extra?: Record<string, unknown>): void => {
      if (LEVELS.indexOf(level) < threshold) return;
      const fields = Object.entries({ ...keys, ...extra })
        .filter(([, value]) => value !== undefined)
        .map(([name, value]) => `${name}=${shown(value)}`);
      const context = fields.length > 0 ? ` (${fields.join(", ")})` : "";
      // Messages quote AWS, GitHub and CloudTrail text: no escape sequence reaches the terminal.
      write(printable(`leak-responder ${command}: ${level.toLowerCase()}: ${message}${context}`, 4_000));
    };
  return {
    debug: at("DEBUG"),
    info: at("INFO"),
    warn: at("WARN"),
    error: at("ERROR"),
    appendKeys: (more) => {
      keys = { ...keys, ...more };
    },
    removeKeys: (names) => {
      for (const name of names) delete keys[name];
    },
  };
}
