/**
 * Issue 11: the GitHub token and the Slack bot token / webhook URL must never travel in clear text.
 * An `http://` GitHub API or Slack URL is a start-up error naming the variable, except on a loopback
 * address, where the local sandbox listens.
 */
import { describe, expect, it } from "vitest";
import { loadGitHubAuthConfig, loadRespondConfig } from "../../src/config.js";
import { ConfigError } from "../../src/domain/errors.js";

const token = `test-${Math.random().toString(36).slice(2)}`;

function respondEnv(extra: Record<string, string>): Record<string, string> {
  return { GITHUB_TOKEN: token, INCIDENT_DIR: "/tmp/incidents-config-test", ...extra };
}

describe("URLs that carry a credential", () => {
  it.each([
    [
      "GITHUB_API_URL",
      () => loadGitHubAuthConfig({ GITHUB_TOKEN: token, GITHUB_API_URL: "http://ghe.example.com/api/v3" }),
    ],
    [
      "SLACK_WEBHOOK_URL",
      () => loadRespondConfig(respondEnv({ SLACK_WEBHOOK_URL: "http://hooks.slack.example/services/x" })),
    ],
    [
      "SLACK_API_URL",
      () =>
        loadRespondConfig(
          respondEnv({
            SLACK_BOT_TOKEN: token,
            SLACK_CHANNEL: "C0123",
            SLACK_API_URL: "http://slack.example/api",
          }),
        ),
    ],
  ])("refuses plain http for %s, naming the variable", (name, load) => {
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(new RegExp(`^${name} .*https`));
  });

  it.each(["http://127.0.0.1:4010", "http://localhost:4010/api", "http://[::1]:4010"])(
    "accepts the local sandbox on loopback (%s)",
    (apiUrl) => {
      expect(loadGitHubAuthConfig({ GITHUB_TOKEN: token, GITHUB_API_URL: apiUrl }).apiUrl).toBe(
        apiUrl.replace(/\/+$/, ""),
      );
    },
  );

  it("does not take a look-alike host for loopback", () => {
    expect(() =>
      loadGitHubAuthConfig({ GITHUB_TOKEN: token, GITHUB_API_URL: "http://localhost.evil.example" }),
    ).toThrow(/GITHUB_API_URL/);
  });

  it("never echoes a Slack webhook URL in the error", () => {
    const secretPath = `T0/B0/${Math.random().toString(36).slice(2)}`;
    try {
      loadRespondConfig(
        respondEnv({ SLACK_WEBHOOK_URL: `http://hooks.slack.example/services/${secretPath}` }),
      );
      expect.unreachable();
    } catch (e: unknown) {
      expect(String(e instanceof Error ? e.message : e)).not.toContain(secretPath);
    }
  });
});
