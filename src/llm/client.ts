/**
 * A small client for OpenAI-compatible chat-completion endpoints.
 *
 * Used by the LLM judges (safe/unsafe verdicts, pairwise scores) and by the
 * LLM annotator. Three things matter for a reproducibility kit:
 *
 * - every answer is cached on disk, keyed by a hash of what determines it
 *   (endpoint, model, messages, sampling options), so a rerun costs nothing
 *   and gives the same text;
 * - transient failures (429, 5xx, network errors, timeouts) are retried
 *   (p-retry) with exponential backoff, honouring Retry-After; other 4xx fail at once with
 *   a message that says what to fix;
 * - the API key goes into the Authorization header and nowhere else: not in
 *   the cache key, the cache files, error messages, logs, or `JSON.stringify`
 *   / `console.log` of the client. A server that echoes the key back (even in
 *   a 200 answer) has it replaced by "[redacted key]" before the text leaves
 *   the client, so it cannot reach the cache, a jobs file or an output.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pRetry, { AbortError } from "p-retry";
import { kitPaths, env, kitEnv } from "../runtime/env.js";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface CompletionOptions {
  /** Sampling temperature (default: the client's, 0 unless set). */
  temperature?: number;
  /** Upper bound on the answer's length in tokens (default: the endpoint's). */
  maxTokens?: number;
}

export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; signal?: AbortSignal },
) => Promise<{
  ok: boolean;
  status: number;
  statusText: string;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}>;

export interface ChatClientConfig {
  /** Base URL of the endpoint, e.g. https://api.openai.com/v1 (the client appends /chat/completions). */
  baseUrl: string;
  /** Model name sent in every request. */
  model: string;
  /** Bearer token; omitted from the request when empty (local servers often need none). */
  apiKey?: string;
  /** Folder of the disk cache; null turns caching off. Default: <runs>/llm-cache. */
  cacheDir?: string | null;
  /** Retries after the first attempt for 429, 5xx and network errors. */
  maxRetries?: number;
  /** First backoff in ms; doubles with every retry. */
  initialBackoffMs?: number;
  /** Longest single wait in ms (also caps Retry-After). */
  maxBackoffMs?: number;
  /** Per-request timeout in ms. */
  timeoutMs?: number;
  /** Temperature used when a call does not give one (0: as repeatable as the endpoint allows). */
  defaultTemperature?: number;
  /** The fetch to use (tests inject their own). Default: the global fetch. */
  fetchImpl?: FetchLike;
  /** How to wait between retries (tests inject a recorder). */
  sleep?: (ms: number) => Promise<void>;
  /** Where retry notices go (default: stderr unless FULCRA_QUIET). Never receives the key. */
  log?: (line: string) => void;
}

/** A request that failed for good: what was asked, what came back, what to do. */
export class LlmError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly attempts: number,
  ) {
    super(message);
    this.name = "LlmError";
  }
}

const DEFAULTS = {
  maxRetries: 5,
  initialBackoffMs: 1000,
  maxBackoffMs: 60_000,
  timeoutMs: 120_000,
  defaultTemperature: 0,
};

/** Reads the endpoint from the environment; `overrides` win over it. */
export function chatClientFromEnv(overrides: Partial<ChatClientConfig> = {}, source: NodeJS.ProcessEnv = process.env): ChatClient {
  const endpoint = kitEnv(source).llm;
  const baseUrl = overrides.baseUrl ?? endpoint.baseUrl;
  const model = overrides.model ?? endpoint.model;
  const apiKey = overrides.apiKey ?? endpoint.apiKey;
  const missing = [!baseUrl && "FULCRA_LLM_BASE_URL (or OPENAI_BASE_URL)", !model && "FULCRA_LLM_MODEL"].filter(Boolean);
  if (missing.length > 0) {
    throw new Error(
      `no chat endpoint configured: set ${missing.join(" and ")} (and FULCRA_LLM_API_KEY or OPENAI_API_KEY if the endpoint needs a key), e.g. FULCRA_LLM_BASE_URL=https://api.openai.com/v1 FULCRA_LLM_MODEL=gpt-4o-mini`,
    );
  }
  return new ChatClient({ ...overrides, baseUrl: baseUrl!, model: model!, apiKey });
}

/** Whether the environment names an endpoint (base URL and model). */
export function llmConfigured(source: NodeJS.ProcessEnv = process.env): boolean {
  const endpoint = kitEnv(source).llm;
  return Boolean(endpoint.baseUrl && endpoint.model);
}

/** The URL without user:password, query or fragment, for messages and cache records. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(unparseable URL)";
  }
}

export class ChatClient {
  readonly baseUrl: string;
  readonly model: string;
  readonly cacheDir: string | null;
  // A private field: not enumerable, not shown by console.log, not serialised.
  readonly #apiKey: string;
  readonly #config: Required<Omit<ChatClientConfig, "apiKey" | "cacheDir" | "log">> & { log: (line: string) => void };
  readonly #inFlight = new Map<string, Promise<string>>();
  /** Requests actually sent (cache hits do not count). */
  requestsSent = 0;
  cacheHits = 0;

  constructor(config: ChatClientConfig) {
    if (!config.baseUrl) throw new Error("ChatClient needs a baseUrl (e.g. https://api.openai.com/v1)");
    if (!config.model) throw new Error("ChatClient needs a model name");
    this.baseUrl = config.baseUrl.replace(/\/+$/, "");
    this.model = config.model;
    this.#apiKey = config.apiKey ?? "";
    this.cacheDir = config.cacheDir === undefined ? join(kitPaths().runsDir, "llm-cache") : config.cacheDir;
    const fetchImpl = config.fetchImpl ?? (globalThis.fetch as unknown as FetchLike);
    this.#config = {
      baseUrl: this.baseUrl,
      model: this.model,
      maxRetries: config.maxRetries ?? DEFAULTS.maxRetries,
      initialBackoffMs: config.initialBackoffMs ?? DEFAULTS.initialBackoffMs,
      maxBackoffMs: config.maxBackoffMs ?? DEFAULTS.maxBackoffMs,
      timeoutMs: config.timeoutMs ?? DEFAULTS.timeoutMs,
      defaultTemperature: config.defaultTemperature ?? DEFAULTS.defaultTemperature,
      fetchImpl,
      sleep: config.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
      log: config.log ?? ((line) => (env.quiet ? undefined : console.error(line))),
    };
  }

  /** The full URL requests go to. */
  get endpoint(): string {
    return /\/chat\/completions$/.test(this.baseUrl) ? this.baseUrl : `${this.baseUrl}/chat/completions`;
  }

  /** What the client looks like in logs and JSON: everything but the key. */
  toJSON(): Record<string, unknown> {
    return { endpoint: redactUrl(this.endpoint), model: this.model, cacheDir: this.cacheDir, apiKey: this.#apiKey ? "(set)" : "(none)" };
  }

  /** The cache key: a hash of everything that determines the answer (never the key). */
  cacheKey(messages: readonly ChatMessage[], options: CompletionOptions = {}): string {
    const request = this.#requestIdentity(messages, options);
    return createHash("sha256")
      .update(JSON.stringify({ endpoint: this.endpoint, ...request }))
      .digest("hex");
  }

  /** Sends the conversation and returns the assistant's text (from the cache when asked before). */
  async complete(messages: readonly ChatMessage[], options: CompletionOptions = {}): Promise<string> {
    checkMessages(messages);
    const key = this.cacheKey(messages, options);
    const cached = this.#readCache(key);
    if (cached !== undefined) {
      this.cacheHits++;
      return cached;
    }
    // Two identical calls at once share one request.
    const pending = this.#inFlight.get(key);
    if (pending) return pending;
    const p = this.#request(messages, options)
      .then((text) => {
        this.#writeCache(key, messages, options, text);
        return text;
      })
      .finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, p);
    return p;
  }

  #requestIdentity(messages: readonly ChatMessage[], options: CompletionOptions) {
    return {
      model: this.model,
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      temperature: options.temperature ?? this.#config.defaultTemperature,
      maxTokens: options.maxTokens ?? null,
    };
  }

  #cachePath(key: string): string | null {
    return this.cacheDir === null ? null : join(this.cacheDir, key.slice(0, 2), `${key}.json`);
  }

  #readCache(key: string): string | undefined {
    const path = this.#cachePath(key);
    if (!path || !existsSync(path)) return undefined;
    try {
      const entry = JSON.parse(readFileSync(path, "utf8")) as { response?: unknown };
      return typeof entry.response === "string" ? this.#redact(entry.response) : undefined;
    } catch {
      // A torn cache file (crash mid-write) is treated as a miss and rewritten.
      return undefined;
    }
  }

  #writeCache(key: string, messages: readonly ChatMessage[], options: CompletionOptions, response: string): void {
    const path = this.#cachePath(key);
    if (!path) return;
    mkdirSync(join(this.cacheDir!, key.slice(0, 2)), { recursive: true });
    const entry = {
      endpoint: redactUrl(this.endpoint),
      ...this.#requestIdentity(messages, options),
      response,
      created: new Date().toISOString(),
    };
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(entry, null, 1) + "\n");
    renameSync(tmp, path);
  }

  /** Removes the key from any text that leaves the client (some servers echo it back in errors). */
  #redact(text: string): string {
    if (!this.#apiKey) return text;
    return text.split(this.#apiKey).join("[redacted key]");
  }

  async #request(messages: readonly ChatMessage[], options: CompletionOptions): Promise<string> {
    const c = this.#config;
    const body: Record<string, unknown> = {
      model: this.model,
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      temperature: options.temperature ?? c.defaultTemperature,
    };
    if (options.maxTokens !== undefined) body.max_tokens = options.maxTokens;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.#apiKey) headers.authorization = `Bearer ${this.#apiKey}`;
    const where = redactUrl(this.endpoint);

    // p-retry counts the attempts; the waits (exponential, or the server's Retry-After) happen in
    // onFailedAttempt through the configured sleep, so p-retry's own delay is zero.
    const attempt = async (attemptNumber: number): Promise<string> => {
      try {
        this.requestsSent++;
        const res = await c.fetchImpl(this.endpoint, {
          method: "POST",
          headers,
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(c.timeoutMs),
        });
        const text = await res.text();
        if (res.ok) return this.#parseAnswer(text, where);
        const excerpt = this.#redact(text.slice(0, 300)).replace(/\s+/g, " ");
        const problem = `HTTP ${res.status} ${res.statusText}${excerpt ? `: ${excerpt}` : ""}`;
        if (res.status !== 429 && res.status < 500) {
          throw new LlmError(
            `chat endpoint ${where} (model ${this.model}) refused the request with ${problem}. ${hintFor(res.status)}`,
            res.status,
            attemptNumber,
          );
        }
        throw new TransientFailure(problem, parseRetryAfter(res.headers.get("retry-after")));
      } catch (e) {
        if (e instanceof TransientFailure) throw e;
        // A refusal or an unreadable answer is final.
        if (e instanceof LlmError) throw new AbortError(e);
        // Network failures and timeouts: fetch throws; retry like a 5xx.
        throw new TransientFailure(this.#redact(describeNetworkError(e)));
      }
    };
    try {
      return await pRetry(attempt, {
        retries: c.maxRetries,
        minTimeout: 0,
        maxTimeout: 0,
        onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
          if (!(error instanceof TransientFailure) || retriesLeft <= 0) return;
          const backoff = c.initialBackoffMs * 2 ** (attemptNumber - 1);
          const wait = Math.min(c.maxBackoffMs, error.retryAfterMs ?? backoff);
          c.log(`fulcra llm: ${where}: ${error.problem}; retry ${attemptNumber}/${c.maxRetries} in ${(wait / 1000).toFixed(1)} s`);
          await c.sleep(wait);
        },
      });
    } catch (e) {
      if (!(e instanceof TransientFailure)) throw e;
      throw new LlmError(
        `chat endpoint ${where} (model ${this.model}) failed ${c.maxRetries + 1} times; last: ${e.problem}. The server may be down or rate-limiting: try again later or raise maxRetries.`,
        null,
        c.maxRetries + 1,
      );
    }
  }

  #parseAnswer(text: string, where: string): string {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new LlmError(`chat endpoint ${where} answered with something that is not JSON: ${this.#redact(text.slice(0, 200))}`, 200, 1);
    }
    const content = (json as { choices?: { message?: { content?: unknown } }[] })?.choices?.[0]?.message?.content;
    if (typeof content !== "string") {
      throw new LlmError(
        `chat endpoint ${where} answered without choices[0].message.content (is it OpenAI-compatible?): ${this.#redact(text.slice(0, 200))}`,
        200,
        1,
      );
    }
    return this.#redact(content);
  }
}

function checkMessages(messages: readonly ChatMessage[]): void {
  if (!Array.isArray(messages) || messages.length === 0) throw new Error("complete() needs at least one message");
  messages.forEach((m, i) => {
    if (!m || !["system", "user", "assistant"].includes(m.role) || typeof m.content !== "string") {
      throw new Error(`message ${i} should be { role: "system" | "user" | "assistant", content: string }`);
    }
  });
}

/** A failure worth another try (429, 5xx, network error, timeout): what happened, and how long the server asked to wait. */
class TransientFailure extends Error {
  constructor(
    readonly problem: string,
    readonly retryAfterMs?: number,
  ) {
    super(problem);
    this.name = "TransientFailure";
  }
}

/** Retry-After is either seconds or an HTTP date; returns milliseconds. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const secs = Number(value);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

function hintFor(status: number): string {
  if (status === 401 || status === 403) return "Check FULCRA_LLM_API_KEY (or OPENAI_API_KEY).";
  if (status === 404) return "Check FULCRA_LLM_BASE_URL (it should end before /chat/completions, e.g. …/v1) and FULCRA_LLM_MODEL.";
  if (status === 400 || status === 422) return "The endpoint did not accept the request body; check the model name and options.";
  return "This is not retried.";
}

function describeNetworkError(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === "TimeoutError" || err?.name === "AbortError") return "request timed out";
  const cause = err?.cause?.code ?? err?.cause?.message;
  return `network error (${err?.message ?? String(e)}${cause ? `: ${cause}` : ""})`;
}
