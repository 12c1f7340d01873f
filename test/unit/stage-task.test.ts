/**
 * What one stage hands the next (issue 13): every task a stage sends is read back as itself by the
 * next, and a message that is not one (a hand-edited DLQ replay, a wrong queue) is refused clearly.
 */
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../src/domain/errors.js";
import {
  FOLLOW_THROUGH_TASK,
  type InvestigationTask,
  type NotificationTask,
  parseInvestigationTask,
  parseNotificationTask,
} from "../../src/domain/stage-task.js";
import { minimalIncident } from "../support/fakes.js";

const refused = (parse: () => unknown, message: RegExp) => {
  expect(parse).toThrow(InvalidInputError);
  expect(parse).toThrow(message);
};

describe("parseInvestigationTask", () => {
  it("the daily schedule's constant input is the follow-through task", () => {
    expect(parseInvestigationTask(JSON.stringify(FOLLOW_THROUGH_TASK))).toEqual({ kind: "follow-through" });
    refused(
      () => parseInvestigationTask(JSON.stringify({ ...FOLLOW_THROUGH_TASK, task: "delete-everything" })),
      /Unknown scheduled task/,
    );
  });

  it("the follow-through's hand-over to a fresh run survives the queue unchanged, and a malformed one is refused", () => {
    const task: InvestigationTask = {
      kind: "follow-through",
      resume: {
        after: "gh__acme__api__7",
        part: 2,
        tally: {
          since: "2026-12-05T02:00:00.000Z",
          checked: 180,
          alerts: ["gh__acme__web__3"],
          staticKeysLeft: 12,
          secretsLeft: 4,
          rolesToCreate: 9,
          rolesWrong: ["gh__acme__ops__1"],
          proposals: 2,
          failed: [],
        },
      },
    };
    expect(parseInvestigationTask(JSON.stringify(task))).toEqual(task);
    refused(
      () => parseInvestigationTask(JSON.stringify({ ...task, resume: { ...task.resume, after: "../x" } })),
      /no valid incidentId/,
    );
    refused(() => parseInvestigationTask(JSON.stringify({ kind: "follow-through" })), /no progress/);
  });

  it("an investigate task survives the queue unchanged (continuation and attempt included)", () => {
    const task: InvestigationTask = {
      kind: "investigate",
      incidentId: "gh__acme__api__7",
      accountId: "210987654321",
      continuation: 3,
      attempt: 2,
    };
    expect(parseInvestigationTask(JSON.stringify(task))).toEqual(task);
  });

  it("a missing or malformed count starts from zero instead of failing the incident", () => {
    const body = { kind: "investigate", incidentId: "i-1", accountId: "210987654321" };
    expect(parseInvestigationTask(JSON.stringify({ ...body, continuation: -1, attempt: 1.5 }))).toMatchObject(
      {
        continuation: 0,
        attempt: 0,
      },
    );
    expect(parseInvestigationTask(JSON.stringify(body))).toMatchObject({ continuation: 0, attempt: 0 });
  });

  it("refuses what is not an investigate task for one incident in one account", () => {
    const ok = { kind: "investigate", incidentId: "i-1", accountId: "210987654321" };
    refused(() => parseInvestigationTask("not json"), /not JSON/);
    refused(() => parseInvestigationTask("[1]"), /not an object/);
    refused(
      () => parseInvestigationTask(JSON.stringify({ ...ok, kind: "contain" })),
      /Unknown investigation/,
    );
    refused(() => parseInvestigationTask(JSON.stringify({ ...ok, accountId: "21098765432" })), /accountId/);
    refused(() => parseInvestigationTask(JSON.stringify({ ...ok, accountId: 210987654321 })), /accountId/);
    refused(
      () => parseInvestigationTask(JSON.stringify({ ...ok, incidentId: "../etc/passwd" })),
      /incidentId/,
    );
    refused(() => parseInvestigationTask(JSON.stringify({ ...ok, incidentId: "" })), /incidentId/);
  });
});

describe("parseNotificationTask", () => {
  const tasks: NotificationTask[] = [
    { kind: "notice", incidentId: "gh__acme__api__7", notice: "first", status: "contained" },
    { kind: "notice", incidentId: "gh__acme__api__7", notice: "follow-up" },
    { kind: "unrecorded", incident: minimalIncident("dry__1", "dry run"), notice: "dry-run" },
    { kind: "remind", incidentId: "gh__acme__api__7", lines: ["rotate the key", "close the issue"] },
    { kind: "announce", lines: ["3 incidents still open"] },
  ];
  it.each(tasks.map((task) => [task.kind, task] as const))(
    "a %s task survives the queue unchanged",
    (_k, task) => {
      expect(parseNotificationTask(JSON.stringify(task))).toEqual(task);
    },
  );

  it("a notice without a status carries none (a failed incident's retry tells it apart by status)", () => {
    const parsed = parseNotificationTask(
      JSON.stringify({ kind: "notice", incidentId: "i-1", notice: "first" }),
    );
    expect(parsed).not.toHaveProperty("status");
  });

  it("refuses unknown notices, an unrecorded message without its incident and a reminder with nothing to say", () => {
    refused(
      () => parseNotificationTask(JSON.stringify({ kind: "notice", incidentId: "i-1", notice: "third" })),
      /no known notice/,
    );
    refused(
      () => parseNotificationTask(JSON.stringify({ kind: "unrecorded", notice: "shouting", incident: {} })),
      /no known notice/,
    );
    refused(
      () => parseNotificationTask(JSON.stringify({ kind: "unrecorded", notice: "failed" })),
      /carries no incident/,
    );
    refused(
      () => parseNotificationTask(JSON.stringify({ kind: "remind", incidentId: "i-1", lines: [] })),
      /no lines/,
    );
    refused(() => parseNotificationTask(JSON.stringify({ kind: "announce", lines: ["ok", 3] })), /no lines/);
    refused(() => parseNotificationTask(JSON.stringify({ kind: "page-everyone" })), /Unknown notification/);
    refused(() => parseNotificationTask("null"), /not an object/);
  });
});
