/** Evidence names are relative paths ("manifest.json", "plan/roles/deploy/trust-policy.json"), never "..". */
const SAFE_NAME = /^[\w.-]+(\/[\w.-]+)*$/;

export function isSafeEvidenceName(name: string): boolean {
  return SAFE_NAME.test(name) && !name.split("/").some((part) => part === ".." || part === ".");
}
