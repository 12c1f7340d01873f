/**
 * Workflow YAML read safely and with source positions. The plan rewrites workflows by editing text at
 * node offsets (so every untouched byte stays identical), which needs yaml's parsed Document with
 * ranges rather than plain JS. Hostile input (anchor/alias bombs, huge or deeply nested files) is
 * refused with a WorkflowRefused error in bounded time and memory.
 */
import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type Node,
  type Pair,
  parseDocument,
  type Scalar,
  type YAMLMap,
  type YAMLSeq,
} from "yaml";

/** GitHub renders workflow files far smaller than this; anything larger is not a workflow we plan for. */
export const MAX_WORKFLOW_BYTES = 512 * 1024;
/** yaml's guard against alias expansion (billion laughs) when the document is converted once to JS. */
const MAX_ALIAS_COUNT = 1000;
/** Node visits the scanner may make through aliases in one file before it gives up. */
const MAX_NODE_VISITS = 200_000;

export interface WorkflowFile {
  /** Repository path, e.g. `.github/workflows/deploy.yml`. */
  path: string;
  content: string;
}

export class WorkflowRefused extends Error {
  override readonly name = "WorkflowRefused";
}

export type YamlNode = Node;

/** A parsed workflow with helpers that answer in source positions. */
export class WorkflowSource {
  readonly path: string;
  readonly text: string;
  readonly doc: Document.Parsed;
  readonly #lineStarts: number[];
  #visits = 0;

  private constructor(path: string, text: string, doc: Document.Parsed) {
    this.path = path;
    this.text = text;
    this.doc = doc;
    this.#lineStarts = [0];
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.#lineStarts.push(i + 1);
  }

  static parse(file: WorkflowFile): WorkflowSource {
    const bytes = Buffer.byteLength(file.content, "utf8");
    if (bytes > MAX_WORKFLOW_BYTES) {
      throw new WorkflowRefused(`${file.path} is ${bytes} bytes, over the ${MAX_WORKFLOW_BYTES}-byte limit`);
    }
    let doc: Document.Parsed;
    try {
      doc = parseDocument(file.content, { prettyErrors: false });
    } catch (error: unknown) {
      // A stack overflow on absurd nesting is a refusal, not a crash.
      throw new WorkflowRefused(
        `${file.path} could not be parsed (${error instanceof Error ? error.name : "error"})`,
      );
    }
    const first = doc.errors[0];
    if (first) throw new WorkflowRefused(`${file.path} is not valid YAML: ${first.message.split("\n")[0]}`);
    try {
      // Expanding once under maxAliasCount is yaml's own defence against alias bombs.
      doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error: unknown) {
      const why = error instanceof ReferenceError ? "excessive aliases" : "unreadable structure";
      throw new WorkflowRefused(`${file.path} was refused: ${why}`);
    }
    if (!isMap(doc.contents)) throw new WorkflowRefused(`${file.path} is not a mapping at the top level`);
    return new WorkflowSource(file.path, file.content, doc);
  }

  get root(): YAMLMap {
    // parse() refused anything else.
    return this.doc.contents as YAMLMap;
  }

  /** Follows an alias (bounded), so a workflow using anchors is read as GitHub reads it. */
  resolve(node: unknown): YamlNode | undefined {
    this.#visits += 1;
    if (this.#visits > MAX_NODE_VISITS) throw new WorkflowRefused(`${this.path} is too large to scan`);
    if (isAlias(node)) return node.resolve(this.doc) ?? undefined;
    if (isScalar(node) || isMap(node) || isSeq(node)) return node;
    return undefined;
  }

  map(node: unknown): YAMLMap | undefined {
    const resolved = this.resolve(node);
    return isMap(resolved) ? resolved : undefined;
  }

  seq(node: unknown): YAMLSeq | undefined {
    const resolved = this.resolve(node);
    return isSeq(resolved) ? resolved : undefined;
  }

  scalar(node: unknown): Scalar | undefined {
    const resolved = this.resolve(node);
    return isScalar(resolved) ? resolved : undefined;
  }

  /** The scalar as a string (numbers and booleans as written), undefined for collections. */
  string(node: unknown): string | undefined {
    const scalar = this.scalar(node);
    if (!scalar || scalar.value === null || scalar.value === undefined) return undefined;
    return typeof scalar.value === "string" ? scalar.value : String(scalar.value);
  }

  pairs(map: YAMLMap | undefined): Pair[] {
    if (!map) return [];
    return map.items.filter((item): item is Pair => isPair(item));
  }

  keyOf(pair: Pair): string | undefined {
    return this.string(pair.key);
  }

  pair(map: YAMLMap | undefined, key: string): Pair | undefined {
    return this.pairs(map).find((pair) => this.keyOf(pair) === key);
  }

  get(map: YAMLMap | undefined, key: string): YamlNode | undefined {
    const pair = this.pair(map, key);
    return pair ? this.resolve(pair.value) : undefined;
  }

  /** A scalar or a list of scalars, as strings. */
  strings(node: unknown): string[] {
    const resolved = this.resolve(node);
    if (isSeq(resolved)) return resolved.items.flatMap((item) => this.string(item) ?? []);
    const single = this.string(resolved);
    return single === undefined ? [] : [single];
  }

  /** Every scalar string under a node (aliases followed, bounded), for reference searches. */
  allStrings(node: unknown, out: string[] = []): string[] {
    const resolved = this.resolve(node);
    if (isScalar(resolved)) {
      const value = this.string(resolved);
      if (value !== undefined) out.push(value);
    } else if (isMap(resolved)) {
      for (const pair of this.pairs(resolved)) {
        this.allStrings(pair.key, out);
        this.allStrings(pair.value, out);
      }
    } else if (isSeq(resolved)) {
      for (const item of resolved.items) this.allStrings(item, out);
    }
    return out;
  }

  /** 1-based line of an offset. */
  lineOf(offset: number): number {
    let low = 0;
    let high = this.#lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.#lineStarts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  }

  /** Offset where a 1-based line starts. */
  offsetOfLine(line: number): number {
    return this.#lineStarts[Math.max(0, line - 1)] ?? this.text.length;
  }

  /** A 1-based line's text without its line break. */
  lineText(line: number): string {
    const start = this.offsetOfLine(line);
    const end = this.text.indexOf("\n", start);
    return this.text.slice(start, end === -1 ? this.text.length : end).replace(/\r$/, "");
  }

  lineStart(offset: number): number {
    return this.#lineStarts[this.lineOf(offset) - 1] ?? 0;
  }

  column(offset: number): number {
    return offset - this.lineStart(offset);
  }

  /** Offset just past the newline that ends the line holding `offset` (or the end of the text). */
  lineEndAfter(offset: number): number {
    const newline = this.text.indexOf("\n", offset);
    return newline === -1 ? this.text.length : newline + 1;
  }

  /**
   * Offset just past the last line of a node whose value ends (exclusive) at `end`: block scalars end
   * after their newline already, other values end mid-line (a trailing comment belongs to the line).
   */
  endOfLines(end: number): number {
    if (end > 0 && this.text.charCodeAt(end - 1) === 10) return end;
    return this.lineEndAfter(end);
  }

  /** The source line number of a node (1-based), or 0 when the node has no range. */
  lineOfNode(node: unknown): number {
    const range = rangeOf(node);
    return range ? this.lineOf(range[0]) : 0;
  }
}

export function rangeOf(node: unknown): [number, number, number] | undefined {
  if (isScalar(node) || isMap(node) || isSeq(node) || isAlias(node)) {
    const range = node.range;
    if (range) return [range[0], range[1], range[2]];
  }
  return undefined;
}

/** GitHub expressions inside a value: `${{ secrets.X }}` -> ["secrets.X"]. */
export function expressionsIn(value: string): string[] {
  const out: string[] = [];
  const pattern = /\$\{\{([\s\S]*?)\}\}/g;
  for (let match = pattern.exec(value); match; match = pattern.exec(value)) out.push((match[1] ?? "").trim());
  return out;
}

/** Names of secrets referenced in a value (`secrets.NAME` or `secrets['NAME']`). */
export function secretNamesIn(value: string): string[] {
  const names = new Set<string>();
  for (const expression of expressionsIn(value)) {
    const pattern = /\bsecrets(?:\.([A-Za-z_][A-Za-z0-9_-]*)|\[\s*['"]([^'"]+)['"]\s*\])/g;
    for (let match = pattern.exec(expression); match; match = pattern.exec(expression)) {
      const name = match[1] ?? match[2];
      if (name) names.add(name);
    }
  }
  return [...names];
}
