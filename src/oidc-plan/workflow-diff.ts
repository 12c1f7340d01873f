/**
 * Unified diffs of the rewritten workflows, with hardcoded credentials redacted: a workflow that
 * leaked a literal key must not leak it again through the plan (design.md: never render the secret).
 */
import { createTwoFilesPatch } from "diff";
import { redactCredentials } from "./redact-credentials.js";

export function workflowDiff(path: string, before: string, after: string): string {
  const redactedBefore = redactCredentials(before);
  const redactedAfter = redactCredentials(after);
  const header =
    redactedBefore !== before || redactedAfter !== after ? "literal credentials redacted" : undefined;
  return createTwoFilesPatch(`a/${path}`, `b/${path}`, redactedBefore, redactedAfter, header, header, {
    context: 3,
  });
}
