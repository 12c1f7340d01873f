/**
 * GitHub's side of a webhook delivery: a `secret_scanning_alert` payload in the shape GitHub sends
 * (no secret in it: facts.md), signed with X-Hub-Signature-256 over the exact bytes, POSTed with
 * the event and delivery headers.
 */
import { createHmac, randomUUID } from "node:crypto";
import type { GitHubRepo } from "./state.js";

export interface AlertDelivery {
  deliveryId: string;
  status: number;
  body: string;
  /** When the request was sent (the responder's clock starts when it receives it). */
  sentAt: number;
}

export function alertPayload(
  repo: GitHubRepo,
  alertNumber: number,
  action = "created",
): Record<string, unknown> {
  const alert = repo.alerts.get(alertNumber);
  return {
    action,
    alert: {
      number: alertNumber,
      created_at: alert?.createdAt ?? new Date().toISOString(),
      updated_at: alert?.createdAt ?? new Date().toISOString(),
      url: `https://api.github.com/repos/${repo.fullName}/secret-scanning/alerts/${alertNumber}`,
      html_url: `https://github.com/${repo.fullName}/security/secret-scanning/${alertNumber}`,
      locations_url: `https://api.github.com/repos/${repo.fullName}/secret-scanning/alerts/${alertNumber}/locations`,
      resolution: null,
      resolved_at: null,
      resolved_by: null,
      secret_type: alert?.secretType ?? "aws_access_key_id",
      secret_type_display_name: alert?.secretTypeDisplayName ?? "Amazon AWS Access Key ID",
      validity: alert?.validity ?? "active",
      publicly_leaked: alert?.publiclyLeaked ?? false,
      multi_repo: false,
      push_protection_bypassed: false,
    },
    repository: {
      id: repo.id,
      name: repo.name,
      full_name: repo.fullName,
      private: repo.private,
      visibility: repo.private ? "private" : "public",
      owner: { login: repo.owner, id: repo.ownerId, type: "Organization" },
      html_url: `https://github.com/${repo.fullName}`,
      default_branch: repo.defaultBranch,
    },
    organization: { login: repo.owner, id: repo.ownerId },
    sender: { login: "github", id: 9919, type: "Bot" },
    ...(repo.installationId === undefined ? {} : { installation: { id: repo.installationId } }),
  };
}

export function signature(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export async function deliverWebhook(
  url: string,
  secret: string,
  event: string,
  payload: unknown,
  deliveryId: string = randomUUID(),
): Promise<AlertDelivery> {
  const body = JSON.stringify(payload);
  const sentAt = Date.now();
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "user-agent": "GitHub-Hookshot/sandbox",
      "x-github-event": event,
      "x-github-delivery": deliveryId,
      "x-hub-signature-256": signature(secret, body),
    },
    body,
  });
  return { deliveryId, status: response.status, body: await response.text(), sentAt };
}
