/**
 * Text-level edits on a workflow at yaml's node ranges. The rewritten file is the original with a
 * few ranges replaced, so every byte outside them (comments, blank lines, quoting, key order, other
 * steps) is identical: re-serialising the Document would normalise all of that away.
 */
import type { Pair, YAMLMap, YAMLSeq } from "yaml";
import { rangeOf, type WorkflowSource } from "./workflow-yaml.js";

interface Edit {
  start: number;
  end: number;
  text: string;
  seq: number;
}

/** A value as YAML source: plain where that reads the same, JSON-quoted otherwise (always in flow). */
export function yamlScalar(value: string, flow = false): string {
  const plainSafe =
    /^[^\s#'"{}[\],&*!|>%@`?:-][^\n]*$/.test(value) &&
    !/: |\s#|:$|\s$/.test(value) &&
    !(flow && /[{}[\],]/.test(value)) &&
    !/^(true|false|null|yes|no|on|off|~|[-+]?[\d.]+(e[-+]?\d+)?)$/i.test(value);
  return plainSafe ? value : JSON.stringify(value);
}

export class WorkflowEdits {
  readonly #edits: Edit[] = [];
  #seq = 0;
  readonly eol: string;

  constructor(readonly source: WorkflowSource) {
    this.eol = source.text.includes("\r\n") ? "\r\n" : "\n";
  }

  get size(): number {
    return this.#edits.length;
  }

  replace(start: number, end: number, text: string): void {
    // The same node reached twice (through an alias) is edited once.
    if (this.#edits.some((edit) => edit.start === start && edit.end === end && edit.text === text)) return;
    this.#edits.push({ start, end, text, seq: this.#seq++ });
  }

  /** The lines a block-map pair occupies: from its line start to the end of its value's last line. */
  pairLines(pair: Pair): { start: number; end: number; sharesDashLine: boolean } {
    const key = rangeOf(pair.key);
    const value = rangeOf(pair.value);
    const keyStart = key?.[0] ?? 0;
    const lineStart = this.source.lineStart(keyStart);
    const prefix = this.source.text.slice(lineStart, keyStart);
    const end = this.source.endOfLines(value?.[1] ?? key?.[1] ?? keyStart);
    return { start: /^\s*$/.test(prefix) ? lineStart : keyStart, end, sharesDashLine: !/^\s*$/.test(prefix) };
  }

  /** Column of a block map's keys. */
  mapIndent(map: YAMLMap): number {
    const first = this.source.pairs(map)[0];
    const start = rangeOf(first?.key)?.[0] ?? rangeOf(map)?.[0] ?? 0;
    return this.source.column(start);
  }

  lines(indent: number, lines: string[]): string {
    return lines.map((line) => `${" ".repeat(indent)}${line}${this.eol}`).join("");
  }

  /**
   * Removes pairs from a map and optionally adds lines where the first removed pair was. A map left
   * empty is removed with its own pair (`parent`), or written as `{}` when it carries an anchor that
   * aliases elsewhere may still use.
   */
  rewriteMap(map: YAMLMap, remove: Pair[], add: Array<[string, string]> = [], parent?: { pair: Pair }): void {
    if (remove.length === 0 && add.length === 0) return;
    const removing = new Set(remove);
    const keep = this.source.pairs(map).filter((pair) => !removing.has(pair));
    if (map.flow) {
      if (add.length === 0 && keep.length > 0 && this.onOwnLines(map)) {
        // A flow map written one entry per line loses only the removed entries' lines.
        for (const pair of remove) {
          const lines = this.pairLines(pair);
          this.replace(lines.start, lines.end, "");
        }
        return;
      }
      const parts = keep.map((pair) => {
        const key = rangeOf(pair.key);
        const value = rangeOf(pair.value);
        return this.source.text.slice(key?.[0] ?? 0, value?.[1] ?? key?.[1] ?? 0);
      });
      for (const [key, value] of add) parts.push(`${key}: ${yamlScalar(value, true)}`);
      const range = rangeOf(map);
      if (range) this.replace(range[0], range[1], parts.length > 0 ? `{ ${parts.join(", ")} }` : "{}");
      return;
    }
    if (keep.length === 0 && add.length === 0) {
      if (map.anchor) {
        for (const pair of remove) {
          const lines = this.pairLines(pair);
          this.replace(lines.start, lines.end, "");
        }
        const at = this.source.text.lastIndexOf(`&${map.anchor}`, rangeOf(map)?.[0] ?? 0);
        if (at >= 0) this.replace(at + map.anchor.length + 1, at + map.anchor.length + 1, " {}");
        return;
      }
      if (parent) {
        this.removePair(parent.pair);
        return;
      }
    }
    const indent = this.mapIndent(map);
    const addText = this.lines(
      indent,
      add.map(([key, value]) => `${key}: ${yamlScalar(value)}`),
    );
    const [first, ...rest] = remove;
    if (first) {
      const lines = this.pairLines(first);
      if (lines.sharesDashLine) {
        // `- KEY: v` opens a sequence item: keep the dash; with nothing to add, pull the next key up to it.
        if (addText) this.replace(lines.start, lines.end, addText.trimStart());
        else this.replace(lines.start, this.skipIndent(lines.end), "");
      } else this.replace(lines.start, lines.end, addText);
    } else if (addText) {
      this.appendToMap(map, addText);
    }
    for (const pair of rest) {
      const lines = this.pairLines(pair);
      this.replace(lines.start, lines.sharesDashLine ? this.skipIndent(lines.end) : lines.end, "");
    }
  }

  /** Every entry of a multi-line flow map starts its own line and ends it (with its comma). */
  onOwnLines(map: YAMLMap): boolean {
    const pairs = this.source.pairs(map);
    const lines = new Set<number>();
    for (const pair of pairs) {
      const key = rangeOf(pair.key);
      const value = rangeOf(pair.value);
      if (!key) return false;
      const start = this.source.lineStart(key[0]);
      if (!/^\s*$/.test(this.source.text.slice(start, key[0]))) return false;
      const end = value?.[1] ?? key[1];
      const rest = this.source.text.slice(end, this.source.lineEndAfter(end));
      if (!/^\s*,?\s*(#.*)?\r?\n?$/.test(rest)) return false;
      const line = this.source.lineOf(key[0]);
      if (lines.has(line)) return false;
      lines.add(line);
    }
    return pairs.length > 0;
  }

  /** Offset of the first non-space character of the line that starts at `offset`. */
  skipIndent(offset: number): number {
    let at = offset;
    while (this.source.text[at] === " ") at++;
    return at;
  }

  /** Removes a pair (with its value's lines) from its block map. */
  removePair(pair: Pair): void {
    const lines = this.pairLines(pair);
    this.replace(lines.start, lines.sharesDashLine ? this.skipIndent(lines.end) : lines.end, "");
  }

  /** Appends already-indented lines after the map's last pair. */
  appendToMap(map: YAMLMap, text: string): void {
    const last = this.source.pairs(map).at(-1);
    if (!last) return;
    const end = this.pairLines(last).end;
    const needsNewline = end > 0 && this.source.text[end - 1] !== "\n";
    this.replace(end, end, `${needsNewline ? this.eol : ""}${text}`);
  }

  /** Inserts lines as new pairs before `before` (at its indentation), or at the map's end. */
  insertPairs(map: YAMLMap, before: Pair | undefined, lines: string[]): void {
    const indent = this.mapIndent(map);
    const text = this.lines(indent, lines);
    if (before) {
      const at = this.pairLines(before);
      if (!at.sharesDashLine) {
        this.replace(at.start, at.start, text);
        return;
      }
    }
    this.appendToMap(map, text);
  }

  /** Replaces a scalar's value (not its trailing comment). */
  replaceValue(node: unknown, text: string): void {
    const range = rangeOf(node);
    if (range) this.replace(range[0], range[1], text);
  }

  /** Removes a whole sequence item (a step), leaving comments before it in place. */
  removeItem(item: unknown): void {
    const range = rangeOf(item);
    if (!range) return;
    this.replace(this.source.lineStart(range[0]), this.source.endOfLines(range[1]), "");
  }

  /** Inserts a new block-map item (its lines relative to the item's content column) before `item`. */
  insertItemBefore(seq: YAMLSeq, item: unknown, lines: string[]): void {
    const range = rangeOf(item);
    if (!range || seq.flow) return;
    const lineStart = this.source.lineStart(range[0]);
    const prefix = this.source.text.slice(lineStart, range[0]);
    const dash = prefix.indexOf("-");
    const dashCol = dash >= 0 ? dash : Math.max(0, prefix.length - 2);
    const contentCol = dash >= 0 ? prefix.length : dashCol + 2;
    const [first = "", ...rest] = lines;
    const text =
      `${" ".repeat(dashCol)}-${" ".repeat(Math.max(1, contentCol - dashCol - 1))}${first}${this.eol}` +
      rest.map((line) => `${" ".repeat(contentCol)}${line}${this.eol}`).join("");
    this.replace(lineStart, lineStart, text);
  }

  /** The edited text. Overlapping edits are a bug in the caller, reported rather than guessed at. */
  apply(): string {
    const edits = [...this.#edits].sort(
      (a, b) => a.start - b.start || a.end - a.start - (b.end - b.start) || a.seq - b.seq,
    );
    let out = "";
    let cursor = 0;
    let lastRemoval: Edit | undefined;
    for (const edit of edits) {
      if (edit.start < cursor) {
        // An edit inside a range already removed (a pair inside a removed step) has nothing left to change.
        if (lastRemoval && edit.end <= lastRemoval.end && edit.start >= lastRemoval.start) continue;
        throw new Error(`overlapping edits at offset ${edit.start} in ${this.source.path}`);
      }
      out += this.source.text.slice(cursor, edit.start) + edit.text;
      cursor = edit.end;
      if (edit.end > edit.start) lastRemoval = edit;
    }
    return out + this.source.text.slice(cursor);
  }
}
