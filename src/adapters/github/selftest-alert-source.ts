/**
 * Answers selftest alerts (src/domain/selftest.ts) without GitHub and passes every other alert to
 * GitHub. A selftest alert always names the configured canary key and nothing else: whoever holds
 * the webhook secret can make the responder contain the canary, never aim containment at another
 * key. There is no alert on GitHub to resolve and no commit to read, so none is asked for.
 */
import { ConfigError } from "../../domain/errors.js";
import { SecretValue } from "../../domain/secret.js";
import { selftestMode } from "../../domain/selftest.js";
import type { AlertDetails, AlertRef, AlertSource, LeakOrigin } from "../../ports.js";

export class SelftestAlertSource implements AlertSource {
  /** `canaryKeyId` undefined: SELFTEST_CANARY_KEY_ID is not configured, and a selftest says so. */
  constructor(
    private readonly github: AlertSource,
    private readonly canaryKeyId: string | undefined,
  ) {}

  async getAlert(ref: AlertRef): Promise<AlertDetails> {
    if (!selftestMode(ref)) return this.github.getAlert(ref);
    if (!this.canaryKeyId) {
      throw new ConfigError(
        "SELFTEST_CANARY_KEY_ID is not set: a selftest has no canary key to act on (see README, After deploy: selftest)",
      );
    }
    return {
      number: ref.alertNumber,
      state: "open",
      resolution: null,
      secretType: "aws_access_key_id",
      secretTypeDisplayName: "leak-responder selftest canary key",
      secret: new SecretValue(this.canaryKeyId),
    };
  }

  async resolveAlert(ref: AlertRef, comment: string): Promise<void> {
    if (selftestMode(ref)) return;
    return this.github.resolveAlert(ref, comment);
  }

  async leakOrigin(ref: AlertRef, location: { commitSha?: string; apiPath?: string }): Promise<LeakOrigin> {
    if (selftestMode(ref)) return { people: [] };
    return this.github.leakOrigin(ref, location);
  }
}
