/**
 * Playbook step 4, Close the loop: the resolution comment GitHub shows on the alert. It says what
 * was done, naming the key by its id (design.md: an identifier, shown in full everywhere).
 */
import type { Incident } from "../domain/incident.js";

export function resolutionComment(incident: Incident): string {
  const key = incident.accessKeyId ?? "the key";
  const where = incident.location
    ? ` in account ${incident.location.accountId}${incident.location.userName ? ` (user ${incident.location.userName})` : ""}`
    : "";
  const when = incident.containment?.containedAt ?? incident.updatedAt;
  const sessions =
    incident.containment?.denyPolicyName !== undefined
      ? "; sessions issued before then denied"
      : "; sessions NOT revoked";
  return `leak-responder deactivated ${key}${where} at ${when}${sessions}. Incident ${incident.id}.`;
}
