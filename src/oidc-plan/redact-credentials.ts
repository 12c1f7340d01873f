/**
 * Literal credentials in workflow text, replaced: a workflow that leaked a literal key must not
 * leak it again through the plan, in its diffs, its rewritten files or the names of its findings
 * (design.md: never render the secret).
 */
const KEY_ID = /(AKIA|ASIA)[A-Z2-7]{16}/g;
/** `AWS_SECRET_ACCESS_KEY: value`, `aws-secret-access-key: value`, `aws configure set aws_secret_access_key value`. */
const SECRET_ASSIGNMENT =
  /((?:aws[_-]secret[_-]access[_-]key|aws[_-]session[_-]token|client[_-]?secret|clientSecret)["']?[ \t]*(?::|=|[ \t])[ \t]*["']?)([^\s"'$][^\s"',}]{7,})/gi;

const REDACTED = "[redacted]";

/** The text with literal key ids and literal secret values replaced; expressions are left alone. */
export function redactCredentials(text: string): string {
  return text
    .replace(KEY_ID, REDACTED)
    .replace(SECRET_ASSIGNMENT, (_whole, lead: string, value: string) =>
      value.startsWith("${{") ? `${lead}${value}` : `${lead}${REDACTED}`,
    );
}
