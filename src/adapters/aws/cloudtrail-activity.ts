/**
 * CloudTrail event history of one account (playbook step 5, "Preserve"): one LookupEvents page at a
 * time, by access key id, in one region (facts.md: one attribute per call, MaxResults <= 50,
 * NextToken pagination, 90 days). Pacing across regions and incidents is the snapshot's job.
 */
import { LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { DescribeRegionsCommand } from "@aws-sdk/client-ec2";
import { parseLookupEvent } from "../../forensics/parse-trail.js";
import type { TrailEvent } from "../../forensics/trail-event.js";
import type { ActivityLog, TrailPage } from "../../ports.js";
import type { AwsClients, TemporaryCredentials } from "./aws-clients.js";
import { toResponderError } from "./aws-errors.js";

/** facts.md: LookupEvents returns at most 50 events a page. */
export const LOOKUP_PAGE_SIZE = 50;

export class CloudTrailActivityLog implements ActivityLog {
  constructor(
    readonly accountId: string,
    private readonly clients: AwsClients,
    private readonly credentials: TemporaryCredentials | undefined,
    private readonly homeRegion = process.env.AWS_REGION ?? "us-east-1",
  ) {}

  async enabledRegions(): Promise<string[]> {
    try {
      const out = await this.clients
        .ec2(this.homeRegion, this.credentials)
        .send(new DescribeRegionsCommand({ AllRegions: false }));
      return (out.Regions ?? [])
        .map((region) => region.RegionName)
        .filter((name): name is string => typeof name === "string")
        .sort();
    } catch (error: unknown) {
      throw toResponderError(error, `ec2:DescribeRegions in ${this.accountId}`);
    }
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
