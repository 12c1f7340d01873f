/**
 * Opens a page in headless Chromium and reports what a person would see: the DOM after layout,
 * every console message, log entry (CSP violations, failed loads) and uncaught exception with its
 * level, and a PNG. Used to check that the HTML report renders cleanly and to take its screenshot
 * for the README.
 *
 * Chromium is driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: requests on
 * fd 3, replies on fd 4, NUL-separated JSON), so nothing new is installed and no port is opened.
 * Stderr logging (`--enable-logging`) would not do: it prints console.log and console.error alike
 * and never shows a failed resource load.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import type { Readable, Writable } from "node:stream";

/** Flags for a closed machine: no sandbox (containers), no GPU, nothing fetched in the background. */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
  "--hide-scrollbars",
  "--remote-debugging-pipe",
] as const;

const CANDIDATES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** CHROMIUM_PATH, else Debian's /usr/bin/chromium, else the first Chromium or Chrome on PATH. */
export function findChromium(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | undefined {
  const configured = env.CHROMIUM_PATH?.trim();
  if (configured) return executable(configured) ? configured : undefined;
  if (executable("/usr/bin/chromium")) return "/usr/bin/chromium";
  for (const dir of (env.PATH ?? "").split(delimiter).filter(Boolean)) {
    for (const name of CANDIDATES) {
      const path = join(dir, name);
      if (executable(path)) return path;
    }
  }
  return undefined;
}

export interface PageMessage {
  /** `console`: console.*(); `log`: the browser's own (CSP, network); `exception`: uncaught. */
  source: "console" | "log" | "exception";
  /** `error`, `warning`, `info`, `log`, `debug`... as Chromium says. */
  level: string;
  text: string;
  url?: string;
}

export function isError(message: PageMessage): boolean {
  return message.level === "error" || message.level === "assert" || message.source === "exception";
}

export interface OpenedPage {
  /** Everything the page said while loading, and since. */
  messages(): PageMessage[];
  /** A JavaScript expression evaluated in the page (DevTools may evaluate even where CSP forbids scripts). */
  evaluate<T>(expression: string): Promise<T>;
  /** The whole page's serialised DOM, after layout. */
  dom(): Promise<string>;
  /** A PNG of the viewport, or of the whole page (as tall as its content). */
  screenshot(options?: { fullPage?: boolean }): Promise<Buffer>;
}

export interface OpenPageOptions {
  executable?: string;
  width?: number;
  height?: number;
  /** Device pixels per CSS pixel: 2 gives a crisp README image. */
  scale?: number;
  timeoutMs?: number;
}

interface Reply {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
  sessionId?: string;
}

/** The DevTools protocol over the pipe: one request at a time is enough for a check and a picture. */
class PipeConnection {
  #next = 0;
  #buffer = Buffer.alloc(0);
  readonly #pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  readonly #listeners: Array<(event: Reply) => void> = [];
  #closed: Error | undefined;

  constructor(
    private readonly input: Writable,
    output: Readable,
  ) {
    output.on("data", (chunk: Buffer) => this.#receive(chunk));
    output.on("close", () => this.#fail(new Error("Chromium closed the DevTools pipe")));
    input.on("error", (error: Error) => this.#fail(error));
  }

  #receive(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    for (let end = this.#buffer.indexOf(0); end >= 0; end = this.#buffer.indexOf(0)) {
      const message = JSON.parse(this.#buffer.subarray(0, end).toString("utf8")) as Reply;
      this.#buffer = this.#buffer.subarray(end + 1);
      if (message.id !== undefined) {
        const waiter = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (message.error) waiter?.reject(new Error(`DevTools: ${message.error.message}`));
        else waiter?.resolve(message);
      } else {
        for (const listener of this.#listeners) listener(message);
      }
    }
  }

  #fail(error: Error): void {
    this.#closed ??= error;
    for (const waiter of this.#pending.values()) waiter.reject(error);
    this.#pending.clear();
  }

  onEvent(listener: (event: Reply) => void): void {
    this.#listeners.push(listener);
  }

  send(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
  ): Promise<Record<string, unknown>> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = ++this.#next;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: (reply) => resolve(reply.result ?? {}), reject });
      this.input.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  }
}

function remoteText(value: unknown): string {
  if (typeof value !== "object" || value === null) return String(value);
  const remote = value as { value?: unknown; description?: string; type?: string };
  if (remote.value !== undefined)
    return typeof remote.value === "string" ? remote.value : JSON.stringify(remote.value);
  return remote.description ?? remote.type ?? "";
}

function messageOf(event: Reply): PageMessage | undefined {
  const params = event.params ?? {};
  if (event.method === "Runtime.consoleAPICalled") {
    const args = Array.isArray(params.args) ? params.args : [];
    return { source: "console", level: String(params.type), text: args.map(remoteText).join(" ") };
  }
  if (event.method === "Log.entryAdded") {
    const entry = (params.entry ?? {}) as { level?: string; text?: string; url?: string };
    return {
      source: "log",
      level: entry.level ?? "info",
      text: entry.text ?? "",
      ...(entry.url ? { url: entry.url } : {}),
    };
  }
  if (event.method === "Runtime.exceptionThrown") {
    const details = (params.exceptionDetails ?? {}) as {
      text?: string;
      exception?: { description?: string };
    };
    return {
      source: "exception",
      level: "error",
      text: details.exception?.description ?? details.text ?? "exception",
    };
  }
  return undefined;
}

async function stop(child: ChildProcess, connection: PipeConnection): Promise<void> {
  // Never started (not found, not executable), or already gone: nothing to wait for.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await connection.send("Browser.close").catch(() => undefined);
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Loads `url` in a fresh headless Chromium (new empty profile), waits for the load event, runs
 * `work` on the page, and always closes the browser and removes the profile.
 */
export async function withChromiumPage<T>(
  url: string,
  work: (page: OpenedPage) => Promise<T>,
  options: OpenPageOptions = {},
): Promise<T> {
  const browser = options.executable ?? findChromium();
  if (!browser) throw new Error("Chromium is not installed (apt-get install chromium, or set CHROMIUM_PATH)");
  const width = options.width ?? 1200;
  const height = options.height ?? 900;
  const profile = await mkdtemp(join(tmpdir(), "leak-responder-chromium-"));
  const child = spawn(
    browser,
    [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, `--window-size=${width},${height}`, "about:blank"],
    {
      stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"],
    },
  );
  const stderr: string[] = [];
  child.stderr?.on("data", (chunk: Buffer) => {
    if (stderr.length < 200) stderr.push(chunk.toString("utf8"));
  });
  const [, , , toBrowser, fromBrowser] = child.stdio;
  const spawned = new Promise<void>((resolve, reject) => {
    child.once("spawn", () => resolve());
    child.once("error", reject);
  });
  const connection = new PipeConnection(toBrowser as Writable, fromBrowser as Readable);
  const messages: PageMessage[] = [];
  let loaded: () => void = () => undefined;
  const load = new Promise<void>((resolve) => {
    loaded = resolve;
  });
  connection.onEvent((event) => {
    if (event.method === "Page.loadEventFired") loaded();
    const message = messageOf(event);
    if (message) messages.push(message);
  });

  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `Chromium did not finish within ${options.timeoutMs ?? 30_000} ms: ${stderr.join("").slice(-500)}`,
          ),
        ),
      options.timeoutMs ?? 30_000,
    );
  });
  try {
    const session = async () => {
      await spawned;
      const { targetId } = await connection.send("Target.createTarget", { url: "about:blank" });
      const { sessionId } = await connection.send("Target.attachToTarget", { targetId, flatten: true });
      const sid = String(sessionId);
      await connection.send("Runtime.enable", {}, sid);
      await connection.send("Log.enable", {}, sid);
      await connection.send("Page.enable", {}, sid);
      await connection.send(
        "Emulation.setDeviceMetricsOverride",
        { width, height, deviceScaleFactor: options.scale ?? 1, mobile: false },
        sid,
      );
      await connection.send("Page.navigate", { url }, sid);
      await load;
      const evaluate = async <R>(expression: string): Promise<R> => {
        const reply = await connection.send("Runtime.evaluate", { expression, returnByValue: true }, sid);
        const result = reply.result as { value?: unknown } | undefined;
        if (reply.exceptionDetails)
          throw new Error(`evaluate failed: ${JSON.stringify(reply.exceptionDetails).slice(0, 300)}`);
        return result?.value as R;
      };
      // One round trip after the load event, so messages logged during load have all arrived.
      await evaluate<string>("document.readyState");
      const page: OpenedPage = {
        messages: () => [...messages],
        evaluate,
        dom: () => evaluate<string>("document.documentElement.outerHTML"),
        async screenshot(shot = {}) {
          let clip: Record<string, number> | undefined;
          if (shot.fullPage) {
            const metrics = await connection.send("Page.getLayoutMetrics", {}, sid);
            const size = (metrics.cssContentSize ?? metrics.contentSize) as { width: number; height: number };
            clip = {
              x: 0,
              y: 0,
              width: Math.max(width, Math.ceil(size.width)),
              height: Math.ceil(size.height),
              scale: 1,
            };
          }
          const { data } = await connection.send(
            "Page.captureScreenshot",
            { format: "png", ...(clip ? { clip, captureBeyondViewport: true } : {}) },
            sid,
          );
          return Buffer.from(String(data), "base64");
        },
      };
      return work(page);
    };
    return await Promise.race([session(), deadline]);
  } finally {
    clearTimeout(timer);
    await stop(child, connection);
    await rm(profile, { recursive: true, force: true });
  }
}
