/**
 * A script line that logs docker in to ECR with the key as username and password
 * (`echo KEY_SECRET | docker login -u KEY_ID --password-stdin ACCOUNT.dkr.ecr.REGION.amazonaws.com`)
 * becomes the form that works with the role's temporary credentials: `aws ecr get-login-password`
 * piped to `docker login --username AWS`. Only a line that does nothing else, to a registry written
 * out in full, is rewritten; anything else is left for a person.
 */
import { secretNamesIn } from "./workflow-yaml.js";

/** Account and region are checked characters only: the host is safe as one shell word. */
const ECR_HOST = /^(?:https?:\/\/)?(\d{12}\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?)\/?$/;
/** `docker login ...`, optionally fed by one `echo`/`printf` through a pipe; no other command. */
const LOGIN_LINE =
  /^(\s*)(?:(?:echo|printf)\s+[^|;&`$]*(?:\$\{\{[^}]*\}\}[^|;&`$]*)*\|\s*)?docker\s+login\s+(.*)$/;

/**
 * The replacement line, or `undefined` when the line is not a whole docker login to ECR whose
 * every secret is a key secret.
 */
export function ecrDockerLoginWithRole(
  line: string,
  isKeySecret: (name: string) => boolean,
): string | undefined {
  const secrets = secretNamesIn(line);
  if (secrets.length === 0 || !secrets.every(isKeySecret)) return undefined;
  const match = LOGIN_LINE.exec(line.replace(/\s+$/, ""));
  if (!match) return undefined;
  const [, indent = "", args = ""] = match;
  if (/[;&|`]/.test(args)) return undefined;
  const words = args.split(/\s+/).filter((word) => word.length > 0);
  const hosts = words.map((word) => ECR_HOST.exec(word.replace(/^["']|["']$/g, ""))).filter((found) => found);
  const [host] = hosts;
  if (hosts.length !== 1 || !host) return undefined;
  const [, registry = "", region = ""] = host;
  return `${indent}aws ecr get-login-password --region ${region} | docker login --username AWS --password-stdin ${registry}`;
}
