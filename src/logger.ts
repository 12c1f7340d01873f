import { Logger } from "@aws-lambda-powertools/logger";

/**
 * The one structured logger (style.md). The playbook and intake take this small interface so tests
 * can capture every line (and assert nothing secret is in any of them).
 */
export interface Log {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
  appendKeys(keys: Record<string, unknown>): void;
  removeKeys(keys: string[]): void;
}

/**
 * `log` with `keys` on every line, leaving `log`'s own keys alone: records a function handles side by
 * side (one batch's incidents) each keep their incident id instead of overwriting one another's.
 */
export function withKeys(log: Log, keys: Record<string, unknown>): Log {
  let own = { ...keys };
  const at =
    (level: "debug" | "info" | "warn" | "error") => (message: string, extra?: Record<string, unknown>) =>
      log[level](message, { ...own, ...extra });
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    appendKeys: (more) => {
      own = { ...own, ...more };
    },
    removeKeys: (names) => {
      own = Object.fromEntries(Object.entries(own).filter(([name]) => !names.includes(name)));
    },
  };
}

export function createLogger(serviceName: string): Log {
  const logger = new Logger({
    serviceName,
    logLevel: (process.env.LOG_LEVEL as "INFO" | undefined) ?? "INFO",
  });
  const write =
    (level: "debug" | "info" | "warn" | "error") =>
    (message: string, extra?: Record<string, unknown>): void => {
      if (extra) logger[level](message, extra);
      else logger[level](message);
    };
  return {
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
    appendKeys: (keys) => logger.appendKeys(keys as Parameters<Logger["appendKeys"]>[0]),
    removeKeys: (keys) => logger.removeKeys(keys),
  };
}

/** Records every line in memory: for tests and for the demo's step-by-step narration. */
export class MemoryLog implements Log {
  readonly lines: Array<{ level: string; message: string } & Record<string, unknown>> = [];
  #keys: Record<string, unknown> = {};
  #write(level: string, message: string, extra?: Record<string, unknown>): void {
    this.lines.push({ ...this.#keys, ...extra, level, message });
  }
  debug(message: string, extra?: Record<string, unknown>): void {
    this.#write("DEBUG", message, extra);
  }
  info(message: string, extra?: Record<string, unknown>): void {
    this.#write("INFO", message, extra);
  }
  warn(message: string, extra?: Record<string, unknown>): void {
    this.#write("WARN", message, extra);
  }
  error(message: string, extra?: Record<string, unknown>): void {
    this.#write("ERROR", message, extra);
  }
  appendKeys(keys: Record<string, unknown>): void {
    this.#keys = { ...this.#keys, ...keys };
  }
  removeKeys(keys: string[]): void {
    for (const key of keys) delete this.#keys[key];
  }
  text(): string {
    return this.lines.map((line) => JSON.stringify(line)).join("\n");
  }
}
