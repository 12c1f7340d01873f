/**
 * A sandbox serving SQS alone, with one account and the real @aws-sdk/client-sqs signed as a user of
 * it: what the queue tests (FIFO semantics, the local poller, the stage queues) start from.
 */
import { SQSClient } from "@aws-sdk/client-sqs";
import { sqsService } from "../../sandbox/aws/sqs.js";
import { fakeAccountId } from "../../sandbox/fake-ids.js";
import { Sandbox } from "../../sandbox/server.js";

export const SQS_REGION = "us-east-1";

export interface SqsSandbox {
  sandbox: Sandbox;
  sqs: SQSClient;
  /** The account the client acts in (the queues' owner). */
  home: string;
}

export async function startSqsSandbox(): Promise<SqsSandbox> {
  const sandbox = new Sandbox({ services: [sqsService] });
  await sandbox.start();
  const home = fakeAccountId();
  sandbox.state.addAccount(home);
  sandbox.state.addUser(home, "responder");
  const key = sandbox.state.addAccessKey(home, "responder");
  const sqs = new SQSClient({
    endpoint: sandbox.url,
    region: SQS_REGION,
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
  });
  return { sandbox, sqs, home };
}
