/**
 * Error handling as the SDK surfaces it: rejected submissions (auth, invalid plans, wrong or
 * unreachable apiUrl), a run that fails, the default apiUrl, video(), and the standalone
 * generateVideoAPI.
 */
import { API_KEY, API_URL, ARGS, clip, emit, run, runAll, sdk } from "./harness.js";

const { compose, reframe, lipSync, video, generateVideoAPI, replicate, fal, googleCloud } = sdk;
const origin = new URL(API_URL).origin;
const realFetch = globalThis.fetch;

async function capture(fn: () => Promise<unknown>): Promise<{ ok: boolean; value?: unknown; error?: string; errorName?: string }> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err), errorName: err instanceof Error ? err.name : undefined };
  }
}

/** Run fn with globalThis.fetch replaced; record every URL the SDK asked for. */
async function withFetch<T>(replacement: typeof fetch, fn: () => Promise<T>): Promise<T> {
  const original = globalThis.fetch;
  globalThis.fetch = replacement;
  try {
    return await fn();
  } finally {
    globalThis.fetch = original;
  }
}

// 1. Where execute() goes without apiUrl (nothing is sent: the request is intercepted).
const defaultCalls: { url: string; method?: string; headers?: unknown }[] = [];
const defaultApiUrl = await withFetch(
  (async (input: RequestInfo | URL, init?: RequestInit) => {
    defaultCalls.push({ url: String(input), method: init?.method, headers: init?.headers });
    throw new Error("intercepted");
  }) as typeof fetch,
  () => capture(() => compose(clip("default url")).execute({ apiKey: "k" })),
);

// 2. Submissions the server refuses, a run that fails, a run cancelled while the SDK polls.
const cancel: { status?: number; error?: string } = {};
const imported = video({ url: ARGS.clipUrl, duration: 1, aspectRatio: "4:3" });
const results = await runAll([
  ["bad_key", () => run("bad_key", compose(clip("x")), { execute: { apiKey: "va_not_a_real_key" } })],
  ["no_key", () => run("no_key", compose(clip("x")), { execute: { apiKey: undefined } })],
  ["orphan_reframe", () => run("orphan_reframe", compose(reframe({ aspectRatio: "9:16" })))],
  ["empty", () => run("empty", compose())],
  ["video_import", () => run("video_import", compose(imported, reframe({ aspectRatio: "9:16" })))],
  ["wrong_path", () => run("wrong_path", compose(clip("x")), { execute: { apiUrl: `${origin}/api/no-such-endpoint` } })],
  ["unreachable", () => run("unreachable", compose(clip("x")), { execute: { apiUrl: "http://127.0.0.1:9/api/execute" } })],
  ["run_fails", () => run("run_fails", compose(clip("fails later"), lipSync({ audioUrl: ARGS.notMediaUrl })))],
  [
    // Cancelled from elsewhere (plain HTTP, as a dashboard would) while the SDK polls: the SDK
    // knows only completed/failed as terminal states.
    "cancelled",
    () =>
      run("cancelled", compose(clip("long running", { duration: 60 }), reframe({ aspectRatio: "1:1" })), {
        timeoutMs: 60_000,
        onProgress: (_p, outcome) => {
          if (cancel.status !== undefined || !outcome.id) return;
          cancel.status = 0;
          realFetch(`${API_URL}/${outcome.id}/cancel`, { method: "POST", headers: { Authorization: `Bearer ${API_KEY}` } }).then(
            (r) => (cancel.status = r.status),
            (e) => (cancel.error = String(e)),
          );
        },
      }),
  ],
]);

// 3. generateVideoAPI (exported standalone generator): key lookup, then a relative fetch.
const gv = {
  noKey: await capture(() => generateVideoAPI({ model: replicate("bytedance/seedance-1-pro"), prompt: "p", duration: 1 })),
  keyInOptions: await capture(() =>
    generateVideoAPI({ model: replicate("bytedance/seedance-1-pro", { apiKey: "r8_x" }), prompt: "p", duration: 1, aspectRatio: "9:16" }),
  ),
  keyFromEnv: {} as Record<string, unknown>,
  asBrowserPage: undefined as unknown,
  requests: [] as { url: string; body?: unknown }[],
};
for (const [provider, model, envVar] of [
  ["replicate", replicate("bytedance/seedance-1-pro"), "REPLICATE_API_KEY"],
  ["fal", fal("fal-ai/some-model"), "FAL_API_KEY"],
  ["google-cloud", googleCloud("veo-2.0-generate-001"), "GOOGLE_CLOUD_API_KEY"],
] as const) {
  process.env[envVar] = `env-key-${provider}`;
  gv.keyFromEnv[provider] = await capture(() => generateVideoAPI({ model, prompt: "p" }));
  delete process.env[envVar];
}
// As it would run in a page served by this API: relative URLs resolve against the API origin.
gv.asBrowserPage = await withFetch(
  (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), origin).toString();
    gv.requests.push({ url, body: init?.body ? JSON.parse(String(init.body)) : undefined });
    return realFetch(url, init);
  }) as typeof fetch,
  () =>
    capture(() =>
      generateVideoAPI({
        model: replicate("bytedance/seedance-1-pro", { apiKey: "r8_x" }),
        prompt: "p",
        duration: 1,
        aspectRatio: "9:16",
        seed: 2,
        webhook: { url: "http://127.0.0.1:9/hook", secret: "s" },
        onProgress: () => undefined,
      }),
    ),
);

emit({ defaultApiUrl, defaultCalls, imported, results, cancel, generateVideoAPI: gv });
