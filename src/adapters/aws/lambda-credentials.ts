/**
 * The Lambda bundles' credential provider (esbuild.config.cjs aliases the SDK's default chain to
 * this file). Lambda always hands a function its role's credentials in the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN: the runtime's reserved variables), so
 * the rest of the default chain (profiles, SSO, web identity, instance metadata, the clients they
 * need) is code that never runs there: about 100 KB a bundle, loaded at every cold start. Local runs
 * (the CLI, the tests' sandbox clients) are not bundled with it and keep the whole chain.
 */
import { fromEnv } from "@aws-sdk/credential-provider-env";

/** The SDK clients call it with their whole configuration; the environment provider reads its logger. */
export const defaultProvider = (init?: Parameters<typeof fromEnv>[0]): ReturnType<typeof fromEnv> =>
  fromEnv(init);
