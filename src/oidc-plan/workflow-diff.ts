/**
 * Unified diffs of the rewritten workflows, with hardcoded credentials redacted: a workflow that
 * leaked a literal key must not leak it again through the plan (design.md: never render the secret).
 */
import { createTwoFilesPatch } from "diff";

const KEY_ID = /(AKIA|ASIA)[A-Z2-7]{16}/g;
/** `AWS_SECRET_ACCESS_KEY: value`, `aws-secret-access-key: value`, `aws configure set aws_secret_access_key value`. */
const SECRET_ASSIGNMENT =
  /((?:aws[_-]secret[_-]access[_-]key|aws[_-]session[_-]token|client[_-]?secret|clientSecret)["']?[ \t]*(?::|=|[ \t])[ \t]*["']?)([^\s"'$][^\s"',}]{7,})/gi;

export const REDACTED = "[redacted]";

/** The text with literal key ids and literal secret values replaced; expressions are left alone. */
export function redactCredentials(text: string): string {
  return text
    .replace(KEY_ID, REDACTED)
    .replace(SECRET_ASSIGNMENT, (_whole, lead: string, value: string) =>
      value.startsWith("${{") ? `${lead}${value}` : `${lead}${REDACTED}`,
    );
}

export function workflowDiff(path: string, before: string, after: string): string {
  const redactedBefore = redactCredentials(before);
  const redactedAfter = redactCredentials(after);
  const header =
    redactedBefore !== before || redactedAfter !== after ? "literal credentials redacted" : undefined;
  return createTwoFilesPatch(`a/${path}`, `b/${path}`, redactedBefore, redactedAfter, header, header, {
    context: 3,
  });
}
