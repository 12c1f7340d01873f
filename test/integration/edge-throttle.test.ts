/**
 * Issue 11 (replay and flooding): the public webhook endpoint is throttled at the API stage, and the
 * containment function has reserved concurrency, so a flood of (even validly signed, replayed) deliveries
 * can neither run up the bill nor starve the rest of the account of Lambda concurrency. Checked in
 * the template osls packages offline, i.e. what CloudFormation would deploy.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lambdaProps, obj, type PackagedService, packageService } from "../support/osls-package.js";

let packaged: PackagedService;

beforeAll(async () => {
  packaged = await packageService("test");
}, 300_000);

afterAll(async () => {
  await packaged?.remove();
});

describe("the deployed edge limits a flood", () => {
  it("throttles every route of the HTTP API stage", () => {
    const stage = obj(
      obj(packaged.resources.HttpApiStage, "HttpApiStage").Properties,
      "HttpApiStage.Properties",
    );
    const routes = obj(stage.DefaultRouteSettings, "DefaultRouteSettings");
    expect(routes.ThrottlingRateLimit).toEqual(expect.any(Number));
    expect(routes.ThrottlingBurstLimit).toEqual(expect.any(Number));
    expect(Number(routes.ThrottlingRateLimit)).toBeGreaterThan(0);
    expect(Number(routes.ThrottlingBurstLimit)).toBeGreaterThan(0);
  });

  it("reserves (and so caps) the containment function's concurrency, which the flood reaches first", () => {
    const contain = lambdaProps(packaged.template, "contain");
    const reserved = Number(contain.ReservedConcurrentExecutions);
    expect(reserved).toBeGreaterThan(0);
    // Otherwise the SQS poller is throttled, and a throttled receive counts towards the DLQ.
    const mappings = Object.values(obj(packaged.template.Resources, "Resources")).filter((r) => {
      const resource = obj(r, "resource");
      if (resource.Type !== "AWS::Lambda::EventSourceMapping") return false;
      return JSON.stringify(obj(resource.Properties, "Properties").FunctionName).includes("Contain");
    });
    expect(mappings).toHaveLength(1);
    const scaling = obj(
      obj(obj(mappings[0], "mapping").Properties, "Properties").ScalingConfig,
      "ScalingConfig",
    );
    expect(Number(scaling.MaximumConcurrency)).toBeLessThanOrEqual(reserved);
  });
});
