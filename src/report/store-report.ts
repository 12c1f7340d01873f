/**
 * The report written beside the evidence, once (design.md), but not locked: it is a rendering of
 * the locked evidence and the incident, and a wrong one must be removable (PutOnceOptions.retain).
 * Each rendering gets a time-stamped name, so a report made later, after more analysis, is added
 * next to the earlier one instead of replacing it.
 */
import type { EvidenceObject, EvidenceStore } from "../ports.js";
import { renderHtml } from "./html.js";
import { renderMarkdown } from "./markdown.js";
import type { AuditReport } from "./report-model.js";

export type ReportFormat = "md" | "html" | "json";

export const CONTENT_TYPES: Readonly<Record<ReportFormat, string>> = {
  md: "text/markdown; charset=utf-8",
  html: "text/html; charset=utf-8",
  json: "application/json",
};

export function renderReport(report: AuditReport, format: ReportFormat): string {
  if (format === "md") return renderMarkdown(report);
  if (format === "html") return renderHtml(report);
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** `report-20261126T141834512Z.html`: sortable, and a valid evidence name in both stores. */
export function reportName(report: AuditReport, format: ReportFormat): string {
  const stamp = new Date(report.generatedAt).toISOString().replace(/[-:.]/g, "");
  return `report-${stamp}.${format}`;
}

export async function storeReport(
  evidence: EvidenceStore,
  report: AuditReport,
  formats: readonly ReportFormat[] = ["md", "html", "json"],
): Promise<Array<EvidenceObject & { name: string }>> {
  const stored: Array<EvidenceObject & { name: string }> = [];
  for (const format of formats) {
    const name = reportName(report, format);
    const object = await evidence.putOnce(
      report.incident.id,
      name,
      Buffer.from(renderReport(report, format), "utf8"),
      CONTENT_TYPES[format],
      { retain: false },
    );
    stored.push({ name, ...object });
  }
  return stored;
}
