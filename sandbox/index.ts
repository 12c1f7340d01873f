/**
 * Starts the embedded sandbox with every simulated service. Tests and the demo import this; product
 * code never does.
 */
import { accountService } from "./aws/account.js";
import { cloudtrailService } from "./aws/cloudtrail.js";
import { iamService } from "./aws/iam.js";
import { organizationsService } from "./aws/organizations.js";
import { s3Service } from "./aws/s3.js";
import { sqsService } from "./aws/sqs.js";
import { stsService } from "./aws/sts.js";
import { githubService } from "./github.js";
import { Sandbox } from "./server.js";
import { slackService } from "./slack.js";
import type { SandboxState } from "./state.js";

export { Sandbox } from "./server.js";
export { SandboxState } from "./state.js";

export async function startSandbox(options: { state?: SandboxState; port?: number } = {}): Promise<Sandbox> {
  const sandbox = new Sandbox({
    ...(options.state ? { state: options.state } : {}),
    services: [
      stsService,
      iamService,
      sqsService,
      s3Service,
      cloudtrailService,
      accountService,
      organizationsService,
      githubService,
      slackService,
    ],
  });
  await sandbox.start(options.port ?? 0);
  return sandbox;
}
