/**
 * MemberAccounts from AWS Organizations: every ACTIVE account of the organisation, read with
 * organizations:ListAccounts (all pages) and kept for a few minutes per container, so a storm of
 * alerts costs one listing and an account that joined is covered within minutes, without a redeploy.
 * The home account must be the management account or a delegated administrator to list.
 */
import { ListAccountsCommand, type OrganizationsClient } from "@aws-sdk/client-organizations";
import type { MemberAccounts } from "../../ports.js";
import { toResponderError } from "./aws-errors.js";

/** Long enough that a storm lists once; short enough that a new account is covered soon. */
export const ORGANIZATION_CACHE_MS = 5 * 60_000;

export interface OrganizationAccountsOptions {
  cacheMs?: number;
  now?: () => number;
}

export class OrganizationAccounts implements MemberAccounts {
  readonly #client: OrganizationsClient;
  readonly #cacheMs: number;
  readonly #now: () => number;
  #listed: { ids: Promise<readonly string[]>; at: number } | undefined;
  #lastGood: readonly string[] | undefined;

  constructor(client: OrganizationsClient, options: OrganizationAccountsOptions = {}) {
    this.#client = client;
    this.#cacheMs = options.cacheMs ?? ORGANIZATION_CACHE_MS;
    this.#now = options.now ?? Date.now;
  }

  list(): Promise<readonly string[]> {
    const now = this.#now();
    if (this.#listed && now - this.#listed.at < this.#cacheMs) return this.#listed.ids;
    const ids = this.#listActive().then(
      (found) => {
        this.#lastGood = found;
        return found;
      },
      (error: unknown) => {
        this.#listed = undefined;
        // A listing that fails after an earlier one succeeded keeps the responder working on what
        // it knew minutes ago rather than failing containment in every member account.
        if (this.#lastGood) return this.#lastGood;
        throw toResponderError(
          error,
          "organizations:ListAccounts (is this the management account or a delegated administrator?)",
        );
      },
    );
    this.#listed = { ids, at: now };
    return ids;
  }

  async #listActive(): Promise<readonly string[]> {
    const ids: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.#client.send(
        new ListAccountsCommand({ MaxResults: 20, ...(nextToken ? { NextToken: nextToken } : {}) }),
      );
      for (const account of page.Accounts ?? []) {
        // `State` replaces `Status`, which AWS retires; a suspended or closing account is not acted in.
        const state = account.State ?? account.Status;
        if (account.Id && state === "ACTIVE") ids.push(account.Id);
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return ids;
  }
}
