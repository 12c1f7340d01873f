/**
 * A Slack bot in the sandbox (threads, files, read-back) rather than the demo's incoming webhook: the
 * configuration a stack's `seed` returns once the bot's token is known to the sandbox.
 */
import { randomUUID } from "node:crypto";
import type { Sandbox } from "../../sandbox/server.js";

export function slackBotSeed(sandbox: Sandbox): Record<string, string> {
  const token = `test-bot-${randomUUID()}`;
  sandbox.state.slackBotTokens.add(token);
  return { SLACK_BOT_TOKEN: token, SLACK_CHANNEL: "C0SECURITY", SLACK_API_URL: `${sandbox.url}/slack/api` };
}
