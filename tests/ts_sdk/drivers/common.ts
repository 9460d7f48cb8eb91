/**
 * What both SDK harnesses share (drivers/harness.ts for the original SDK, drivers_current/harness.ts
 * for today's): the environment the Python tests set, the offline-renderer model, and the one
 * result line each script prints.
 *
 * Environment (set by tests/ts_sdk/conftest.py):
 *   SYNTHOME_SDK_ENTRY      absolute path of the extracted SDK's src/index.ts
 *   VIDASSETS_SDK_API_URL   the SDK's apiUrl, e.g. http://127.0.0.1:PORT/api/execute
 *   VIDASSETS_SDK_API_KEY   the API key the SDK sends as "Authorization: Bearer <key>"
 *   VIDASSETS_SDK_ARGS      JSON with per-test inputs (media URLs, vendor keys, case lists)
 */
import { writeSync } from "node:fs";
import { pathToFileURL } from "node:url";

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set (run the drivers through tests/ts_sdk)`);
  }
  return value;
}

// The SDK's module namespace. Typed loosely on purpose: the scripts call the SDK exactly as a
// JavaScript user would, including the things its type declarations do not allow (provider
// "local", hand-built VideoOperations) that the backend supports.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Sdk = any;

export const sdk: Sdk = await import(pathToFileURL(required("SYNTHOME_SDK_ENTRY")).href);
export const API_URL = required("VIDASSETS_SDK_API_URL");
export const API_KEY = required("VIDASSETS_SDK_API_KEY");
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const ARGS: Record<string, any> = JSON.parse(process.env.VIDASSETS_SDK_ARGS ?? "{}");

/** A VideoModel for the backend's offline renderer (the SDK's factories only name vendors). */
export function localModel(modelId = "local") {
  return { provider: "local", modelId, options: {} };
}

/** A short unified generateVideo on the local renderer. */
export function clip(prompt: string, extra: Record<string, unknown> = {}) {
  return sdk.generateVideo({ model: localModel(), prompt, duration: 1, resolution: "480p", aspectRatio: "16:9", ...extra });
}

/** Run named cases concurrently (the server queues them) and collect their outcomes by name. */
export async function runAll<T>(cases: [string, () => Promise<T>][]): Promise<Record<string, T>> {
  const results = await Promise.all(cases.map(([, fn]) => fn()));
  return Object.fromEntries(results.map((r, i) => [cases[i]![0], r]));
}

/** Print the result line and end the process (polling loops the SDK leaves behind, e.g. after a
 * timeout, must not keep it alive). Synchronously and to the end: process.exit() would cut an
 * asynchronous pipe write off at 64 KiB, and a synchronous write to a full pipe may write only
 * part (or EAGAIN). */
export function emit(result: unknown): never {
  const data = Buffer.from(`@@RESULT@@ ${JSON.stringify(result)}\n`);
  for (let offset = 0; offset < data.length; ) {
    try {
      offset += writeSync(1, data, offset);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
    }
  }
  process.exit(0);
}
