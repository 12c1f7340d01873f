/**
 * Everything the responder wrote where a person or another system can read it, from the sandbox's
 * side: every object in every bucket (gzip parts unpacked), the alerts' resolution comments, the
 * issues and their comments, every Slack message. A planted secret must appear in none of it
 * (design.md: never log, store, send or render the secret value).
 */
import { gunzipSync } from "node:zlib";
import type { SandboxState } from "../../sandbox/state.js";
import type { JobQueue } from "../../src/ports.js";

export function sandboxOutputs(state: SandboxState): string[] {
  const out: string[] = [];
  for (const bucket of state.buckets.values()) {
    for (const [key, object] of bucket) {
      out.push(key);
      out.push(key.endsWith(".gz") ? gunzipSync(object.body).toString("utf8") : object.body.toString("utf8"));
    }
  }
  for (const repo of state.repos.values()) {
    for (const alert of repo.alerts.values()) out.push(String(alert.resolutionComment));
    out.push(JSON.stringify(repo.issues));
  }
  out.push(...state.slackMessages.map((m) => m.raw));
  return out;
}

/** Where a planted value turns up, as short labels (empty when it is nowhere). */
export function findPlanted(planted: string, sources: Record<string, readonly string[]>): string[] {
  const found: string[] = [];
  for (const [name, texts] of Object.entries(sources)) {
    texts.forEach((text, i) => {
      if (text.includes(planted)) found.push(`${name}[${i}]`);
    });
  }
  return found;
}

/** Records every message body the intake puts on `queue`, as sent, into `into` (returned). */
export function recordQueued(queue: JobQueue, into: string[] = []): string[] {
  const send = queue.send.bind(queue);
  queue.send = async (job) => {
    into.push(JSON.stringify(job));
    return send(job);
  };
  return into;
}
