/**
 * The follow-through's look at the OIDC side of the migration: are the roles the plan names created
 * in the key's account, trusted only by the repository's pinned workflows (trust-verdict.ts), and is
 * GitHub's OIDC provider there with the sts.amazonaws.com audience? Reads only (iam:GetRole,
 * iam:GetOpenIDConnectProvider), through the investigator role in a member account.
 */
import { errorMessage, PermanentFailure } from "../domain/errors.js";
import type { FollowThroughCheck, Incident } from "../domain/incident.js";
import { stsAudience } from "../oidc-plan/partitions.js";
import { providerArn } from "../oidc-plan/trust-policy.js";
import { judgeTrust } from "../oidc-plan/trust-verdict.js";
import type { AccountIam } from "../ports.js";

export type OidcFindings = Pick<FollowThroughCheck, "oidcRoles" | "oidcProvider" | "oidcUnknown"> & {
  /** AWS refused the reads (a member role not updated yet): telling tomorrow will not change. */
  unreadable?: boolean;
};

/**
 * Nothing to look at when the plan named no role in the key's account (no plan, nothing to migrate,
 * a refused plan).
 */
export async function checkOidcRoles(iam: AccountIam, incident: Incident): Promise<OidcFindings> {
  // Roles in AWS China or GovCloud live in another account: a person checks those.
  const elsewhere = new Set(incident.plan?.rolesElsewhere ?? []);
  const names = (incident.plan?.roles ?? []).filter((name) => !elsewhere.has(name));
  if (names.length === 0 || !incident.repository) return {};
  const repository = incident.repository;
  try {
    const [audiences, ...trusts] = await Promise.all([
      iam.oidcProviderAudiences(providerArn(iam.accountId)),
      ...names.map((name) => iam.roleTrustPolicy(name)),
    ]);
    return {
      oidcProvider:
        audiences === undefined
          ? "missing"
          : audiences.includes(stsAudience("aws"))
            ? "created"
            : "no-sts-audience",
      oidcRoles: names.map((name, i) => {
        const trust = trusts[i];
        if (trust === undefined) return { name, state: "missing" as const };
        const verdict = judgeTrust(trust, repository, iam.accountId);
        return { name, ...verdict };
      }),
    };
  } catch (error: unknown) {
    if (error instanceof PermanentFailure) {
      return {
        oidcUnknown: `AWS refused to show the roles (${errorMessage(error)}); the investigator role needs iam:GetRole and iam:GetOpenIDConnectProvider: update the member-account stack (infra/member-role.yml)`,
        unreadable: true,
      };
    }
    return { oidcUnknown: `the roles could not be read today: ${errorMessage(error)}` };
  }
}

/** Every planned role created and trusted as planned. */
export function rolesAsPlanned(check: Pick<FollowThroughCheck, "oidcRoles">): boolean {
  return (
    (check.oidcRoles?.length ?? 0) > 0 && (check.oidcRoles ?? []).every((role) => role.state === "created")
  );
}

/** The roles as planned, and the provider ready for them: the workflows can do without the key. */
export function oidcVerified(check: Pick<FollowThroughCheck, "oidcRoles" | "oidcProvider">): boolean {
  return check.oidcProvider === "created" && rolesAsPlanned(check);
}

/** What the owners read about the roles: what holds, what is wrong, the one next step. */
export function oidcLines(incident: Incident, check: FollowThroughCheck): string[] {
  if (check.oidcUnknown) return [`OIDC roles: not checked (${check.oidcUnknown}).`];
  if (!check.oidcRoles) return [];
  const account = incident.location?.accountId ?? "the key's account";
  const plan = incident.plan ? ` (${incident.plan.location})` : "";
  const lines: string[] = [];
  if (check.oidcProvider === "missing") {
    lines.push(
      `OIDC provider: not created yet in ${account}. Next: oidc-provider/create-provider.sh from the plan${plan}.`,
    );
  } else if (check.oidcProvider === "no-sts-audience") {
    lines.push(
      `OIDC provider: exists in ${account} but without the ${stsAudience("aws")} audience, so no workflow can assume a role yet. Next: aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn ${providerArn(account)} --client-id ${stsAudience("aws")}`,
    );
  } else {
    lines.push(`OIDC provider: created in ${account}.`);
  }
  for (const role of check.oidcRoles) {
    if (role.state === "created") {
      lines.push(`Role ${role.name}: created, trusted only by ${incident.repository}'s pinned workflows.`);
    } else if (role.state === "missing") {
      lines.push(`Role ${role.name}: not created yet. Next: its create-role.sh from the plan${plan}.`);
    } else if (role.state === "too-wide") {
      lines.push(
        `WARNING: role ${role.name} trusts too much: ${role.detail}. Every workflow run it lets in gets the role's power. Next: give it the plan's trust-policy.json (aws iam update-assume-role-policy).`,
      );
    } else {
      lines.push(
        `Role ${role.name}: exists, but not as planned: ${role.detail}. Next: give it the plan's trust-policy.json.`,
      );
    }
  }
  return lines;
}
