/**
 * The schema library every input schema is written with: zod's functional "mini" build, with
 * English error messages. The intake bundle must stay small (issue 13: 458 KB), and classic zod's
 * method-chaining schemas carry the whole library with them (about 385 KB of the intake bundle),
 * while zod/mini's functions tree-shake to the few a schema uses. The validation is zod's own either
 * way; only the spelling differs (`z.string().check(z.maxLength(40))` for `z.string().max(40)`).
 *
 * zod/mini loads no locale by default (every message would read "Invalid input"), and the messages
 * reach people: the intake answers GitHub with them in a 422. Importing zod from here
 * (`import * as z from "../domain/validation.js"`) guarantees that zod's English locale is configured
 * before any schema is parsed. Schemas on the containment path should do the same, so its bundle
 * stays small too.
 */
import { en } from "zod/locales";
import { config, type core } from "zod/mini";

config(en());

// Re-exported name by name (`export *`), not as one namespace object: a bundler must be able to see
// which functions are used, or it keeps every one of them.
export * from "zod/mini";

/** What a failed `safeParse` reports: the issues, each with the path to the field and a message. */
export type ValidationError = core.$ZodError;
