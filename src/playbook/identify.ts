/**
 * Playbook step 1, Identify: the alert's access key id, from the fetched alert (facts.md: the
 * webhook carries no secret; `secret` may hold the id alone or with its secret half).
 */
import { findAccessKeyId } from "../domain/access-key.js";
import { PermanentFailure } from "../domain/errors.js";
import type { AlertDetails } from "../ports.js";

export interface IdentifiedKey {
  accessKeyId: string;
  /** Present when the alert also held more than the key id (the secret half): a fingerprint only. */
  secretFingerprint?: string;
}

export function identifyKey(alert: AlertDetails): IdentifiedKey {
  const value = alert.secret.reveal();
  const accessKeyId = findAccessKeyId(value, alert.secretType);
  if (!accessKeyId) {
    throw new PermanentFailure(
      `Alert #${alert.number} (${alert.secretType}) holds no AWS access key id: nothing to deactivate automatically`,
      "NoAccessKeyId",
    );
  }
  const rest = value.replace(accessKeyId, "").trim();
  return rest.length > 0 ? { accessKeyId, secretFingerprint: alert.secret.fingerprint() } : { accessKeyId };
}
