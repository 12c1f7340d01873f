/**
 * The OIDC plan's summary is Markdown (oidc-plan/migration-guide.ts), and much of its text comes from
 * the repository's workflows (paths, job ids, names, warnings): untrusted. It is read here as the few
 * constructs the plan writes (headings, paragraphs, bullet lists, pipe tables, `**strong**` and
 * `` `code` ``) and each rendering is drawn from that structure with every piece of text escaped for
 * it. Nothing else (HTML, links, images) is ever passed through: it stays visible text.
 */
import { escapeHtml } from "./html-escape.js";
import { mdText } from "./markdown-text.js";

export interface Inline {
  kind: "text" | "strong" | "code";
  text: string;
}

type PlanBlock =
  | { kind: "heading"; inline: Inline[] }
  | { kind: "paragraph"; inline: Inline[] }
  | { kind: "list"; items: Inline[][] }
  | { kind: "table"; header: Inline[][]; rows: Inline[][][] };

/** Code spans first (nothing inside them is markup), then `**strong**` in what is left. */
function parseInline(line: string): Inline[] {
  const out: Inline[] = [];
  const push = (kind: Inline["kind"], text: string) => {
    if (text.length > 0) out.push({ kind, text });
  };
  const plain = (text: string) => {
    let rest = text;
    for (let match = /\*\*(.+?)\*\*/.exec(rest); match; match = /\*\*(.+?)\*\*/.exec(rest)) {
      push("text", rest.slice(0, match.index));
      push("strong", match[1] ?? "");
      rest = rest.slice(match.index + match[0].length);
    }
    push("text", rest);
  };
  let rest = line;
  for (let match = /`([^`]*)`/.exec(rest); match; match = /`([^`]*)`/.exec(rest)) {
    plain(rest.slice(0, match.index));
    push("code", match[1] ?? "");
    rest = rest.slice(match.index + match[0].length);
  }
  plain(rest);
  return out;
}

/** A table row's cells: a `|` inside a code span belongs to the cell. */
function cells(row: string): string[] {
  const inner = row.trim().replace(/^\|/, "").replace(/\|$/, "");
  const out: string[] = [];
  let cell = "";
  let inCode = false;
  for (const char of inner) {
    if (char === "`") inCode = !inCode;
    if (char === "|" && !inCode) {
      out.push(cell.trim());
      cell = "";
    } else cell += char;
  }
  out.push(cell.trim());
  return out;
}

const SEPARATOR_ROW = /^\|?(\s*:?-+:?\s*\|)*\s*:?-+:?\s*\|?$/;

export function parsePlanSummary(markdown: string): PlanBlock[] {
  const blocks: PlanBlock[] = [];
  let paragraph: string[] = [];
  let list: Inline[][] | undefined;
  let tableRows: string[] | undefined;
  const flush = () => {
    if (paragraph.length > 0) blocks.push({ kind: "paragraph", inline: parseInline(paragraph.join(" ")) });
    if (list) blocks.push({ kind: "list", items: list });
    if (tableRows) {
      const [head = "", ...body] = tableRows;
      const rows = body.filter((row) => !SEPARATOR_ROW.test(row.trim()));
      blocks.push({
        kind: "table",
        header: cells(head).map(parseInline),
        rows: rows.map((row) => cells(row).map(parseInline)),
      });
    }
    paragraph = [];
    list = undefined;
    tableRows = undefined;
  };
  for (const raw of markdown.split(/\r?\n/)) {
    const line = raw.trim();
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    const item = /^[-*]\s+(.*)$/.exec(line);
    if (line === "") flush();
    else if (heading) {
      flush();
      blocks.push({ kind: "heading", inline: parseInline(heading[1] ?? "") });
    } else if (line.startsWith("|")) {
      if (!tableRows) flush();
      tableRows ??= [];
      tableRows.push(line);
    } else if (item) {
      if (!list) flush();
      list ??= [];
      list.push(parseInline(item[1] ?? ""));
    } else {
      if (list || tableRows) flush();
      paragraph.push(line);
    }
  }
  flush();
  return blocks;
}

function inlineHtml(inline: readonly Inline[]): string {
  return inline
    .map(({ kind, text }) =>
      kind === "strong"
        ? `<strong>${escapeHtml(text)}</strong>`
        : kind === "code"
          ? `<code>${escapeHtml(text)}</code>`
          : escapeHtml(text),
    )
    .join("");
}

/** The summary as HTML, inside the report's plan section (its headings sit below the section's h2). */
export function planSummaryHtml(markdown: string): string {
  return parsePlanSummary(markdown)
    .map((block) => {
      if (block.kind === "heading") return `<h3>${inlineHtml(block.inline)}</h3>`;
      if (block.kind === "paragraph") return `<p>${inlineHtml(block.inline)}</p>`;
      if (block.kind === "list")
        return `<ul>${block.items.map((i) => `<li>${inlineHtml(i)}</li>`).join("")}</ul>`;
      const head = block.header.map((c) => `<th>${inlineHtml(c)}</th>`).join("");
      const body = block.rows
        .map((row) => `<tr>${row.map((c) => `<td>${inlineHtml(c)}</td>`).join("")}</tr>`)
        .join("");
      return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
    })
    .join("\n");
}

/**
 * In a code span only a backtick means anything (and, in a table cell, a pipe: GFM splits cells
 * before it reads code spans), so the text stays as written and cannot close it early.
 */
function mdCode(text: string, inTable: boolean): string {
  const safe = text.replace(/`/g, "'").replace(/\s+/g, " ");
  return `\`${inTable ? safe.replace(/\|/g, "\\|") : safe}\``;
}

function inlineMd(inline: readonly Inline[], inTable = false): string {
  return inline
    .map(({ kind, text }) =>
      kind === "strong" ? `**${mdText(text)}**` : kind === "code" ? mdCode(text, inTable) : mdText(text),
    )
    .join("");
}

/** The summary as Markdown again, rebuilt from its structure with every text escaped. */
export function planSummaryMarkdown(markdown: string): string[] {
  const out: string[] = [];
  for (const block of parsePlanSummary(markdown)) {
    if (block.kind === "heading") out.push(`### ${inlineMd(block.inline)}`);
    else if (block.kind === "paragraph") out.push(inlineMd(block.inline));
    else if (block.kind === "list") out.push(...block.items.map((item) => `- ${inlineMd(item)}`));
    else {
      const width = block.header.length;
      const row = (c: Inline[][]) =>
        `| ${Array.from({ length: width }, (_, i) => inlineMd(c[i] ?? [], true)).join(" | ")} |`;
      out.push(row(block.header), `| ${block.header.map(() => "---").join(" | ")} |`, ...block.rows.map(row));
    }
    out.push("");
  }
  return out;
}

/** The summary's words without markup, one line per block: for plain-text notifications. */
export function planSummaryText(markdown: string): string {
  const words = (inline: readonly Inline[]) => inline.map((part) => part.text).join("");
  return parsePlanSummary(markdown)
    .flatMap((block) =>
      block.kind === "list"
        ? block.items.map((item) => `- ${words(item)}`)
        : block.kind === "table"
          ? block.rows.map((row) => row.map(words).join(", "))
          : [words(block.inline)],
    )
    .join("\n");
}
