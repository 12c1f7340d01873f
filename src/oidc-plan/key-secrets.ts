/**
 * The repository secrets that hold an AWS key, by name, from the plan's findings: what the migration
 * guide tells a person to delete and what the follow-through checks is gone. Names only: GitHub
 * never returns a secret's value, and nothing here would keep one.
 */
import type { StaticCredentialFinding } from "./workflow-scan.js";

/**
 * The AWS findings' secret names, first spelling kept. A called workflow's `secrets.x` is what its
 * caller passes (declared with `on.workflow_call.secrets`), not a repository secret: left out.
 */
export function repositoryKeySecrets(findings: readonly StaticCredentialFinding[]): string[] {
  const declared = new Set(
    findings
      .filter((finding) => finding.kind === "aws-declared-secret")
      .map((finding) => `${finding.path}|${finding.name.toUpperCase()}`),
  );
  return [
    ...new Set(
      findings
        .filter((finding) => finding.cloud === "aws")
        .flatMap((finding) =>
          finding.secretNames.filter((name) => !declared.has(`${finding.path}|${name.toUpperCase()}`)),
        ),
    ),
  ];
}
