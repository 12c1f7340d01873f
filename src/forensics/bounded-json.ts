/**
 * JSON parsing for files a stranger may have shaped: CloudTrail exports handed to the CLI, pages
 * from an API, an offline copy of GitHub's /meta. Parsing is bounded in depth before it starts
 * (V8 parses deep nesting iteratively, but a reviver walks it recursively and overflows the
 * stack: checked on Node 20), and keys that reach prototypes are dropped, so no later merge or
 * spread of a parsed object can pollute `Object.prototype`.
 */

/** CloudTrail records nest about ten levels (policy documents inside requestParameters). */
export const DEFAULT_MAX_JSON_DEPTH = 64;

const PROTOTYPE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

export type JsonParseResult = { ok: true; value: unknown } | { ok: false; problem: string };

/**
 * The deepest nesting of arrays and objects in `text`, stopping as soon as it exceeds `limit`.
 * A linear scan that skips string contents, so brackets inside strings do not count.
 */
export function nestingExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      depth++;
      if (depth > limit) return true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return false;
}

function dropPrototypeKeys(key: string, value: unknown): unknown {
  return PROTOTYPE_KEYS.has(key) ? undefined : value;
}

/** JSON.parse that never throws, refuses deep nesting and drops prototype-reaching keys. */
export function parseBoundedJson(text: string, maxDepth = DEFAULT_MAX_JSON_DEPTH): JsonParseResult {
  if (nestingExceeds(text, maxDepth)) {
    return { ok: false, problem: `nested deeper than ${maxDepth} levels` };
  }
  try {
    return { ok: true, value: JSON.parse(text, dropPrototypeKeys) };
  } catch (error: unknown) {
    // V8's messages name the position ("Unexpected end of JSON input", "... at position 1234").
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, problem: message.slice(0, 200) };
  }
}

/** A plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
