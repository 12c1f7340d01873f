/**
 * CloudTrail event history of one account (playbook step 5, "Preserve"): one LookupEvents page at a
 * time, by access key id, in one region (facts.md: one attribute per call, MaxResults <= 50,
 * NextToken pagination, 90 days). Pacing across regions and incidents is the snapshot's job. The
 * regions to read come from Account Management's ListRegions rather than EC2's DescribeRegions:
 * issue 13, @aws-sdk/client-ec2 was 563 KB of the containment bundle for that one call.
 */
import { ListRegionsCommand, type RegionOptStatus } from "@aws-sdk/client-account";
import { LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { parseLookupEvent } from "../../forensics/parse-trail.js";
import type { TrailEvent } from "../../forensics/trail-event.js";
import type { ActivityLog, TrailPage } from "../../ports.js";
import type { AwsClients, TemporaryCredentials } from "./aws-clients.js";
import { toResponderError } from "./aws-errors.js";

/** facts.md: LookupEvents returns at most 50 events a page. */
export const LOOKUP_PAGE_SIZE = 50;
/** ListRegions' MaxResults is 1..50 (Account Management API reference). */
const REGIONS_PAGE_SIZE = 50;
/** Enabled by the account's opt-in, or on for every account: the regions CloudTrail can hold events in. */
const ENABLED_STATUSES: RegionOptStatus[] = ["ENABLED", "ENABLED_BY_DEFAULT"];

export class CloudTrailActivityLog implements ActivityLog {
  constructor(
    readonly accountId: string,
    private readonly clients: AwsClients,
    private readonly credentials: TemporaryCredentials | undefined,
  ) {}

  /**
   * Without AccountId, ListRegions lists the caller's own account: the member role's credentials name
   * the account, so no organisation-wide trusted access is needed.
   */
  async enabledRegions(): Promise<string[]> {
    const client = this.clients.account(this.credentials);
    const names: string[] = [];
    let nextToken: string | undefined;
    try {
      do {
        const out = await client.send(
          new ListRegionsCommand({
            RegionOptStatusContains: ENABLED_STATUSES,
            MaxResults: REGIONS_PAGE_SIZE,
            ...(nextToken ? { NextToken: nextToken } : {}),
          }),
        );
        for (const region of out.Regions ?? []) if (region.RegionName) names.push(region.RegionName);
        nextToken = out.NextToken;
      } while (nextToken);
    } catch (error: unknown) {
      throw toResponderError(error, `account:ListRegions in ${this.accountId}`);
    }
    return names.sort();
  }

  async lookupByAccessKey(input: {
    region: string;
    accessKeyId: string;
    startTime: Date;
    endTime: Date;
    nextToken?: string;
  }): Promise<TrailPage> {
    try {
      const out = await this.clients.cloudTrail(input.region, this.credentials).send(
        new LookupEventsCommand({
          LookupAttributes: [{ AttributeKey: "AccessKeyId", AttributeValue: input.accessKeyId }],
          StartTime: input.startTime,
          EndTime: input.endTime,
          MaxResults: LOOKUP_PAGE_SIZE,
          ...(input.nextToken ? { NextToken: input.nextToken } : {}),
        }),
      );
      const events: TrailEvent[] = [];
      const raw: string[] = [];
      for (const event of out.Events ?? []) {
        const parsed = parseLookupEvent(event);
        if (!parsed) continue;
        events.push(parsed);
        raw.push(event.CloudTrailEvent ?? "");
      }
      return { events, raw, ...(out.NextToken ? { nextToken: out.NextToken } : {}) };
    } catch (error: unknown) {
      throw toResponderError(error, `cloudtrail:LookupEvents in ${this.accountId} ${input.region}`);
    }
  }
}
