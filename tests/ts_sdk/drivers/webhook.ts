/** Webhooks: execute() with webhookUrl (+ webhookSecret) returns at once and does not poll. */
import { ARGS, clip, emit, run, runAll, sdk } from "./harness.js";

const { compose, lipSync } = sdk;

emit(
  await runAll([
    ["signed", () => run("signed", compose(clip("hooked", { seed: 4 })), { execute: { webhookUrl: ARGS.receiverUrl, webhookSecret: ARGS.secret } })],
    ["unsigned", () => run("unsigned", compose(clip("hooked plain", { seed: 5 })), { execute: { webhookUrl: ARGS.receiverUrl } })],
    [
      "failed",
      () =>
        run("failed", compose(clip("hooked failure"), lipSync({ audioUrl: ARGS.notMediaUrl })), {
          execute: { webhookUrl: ARGS.receiverUrl, webhookSecret: ARGS.secret },
        }),
    ],
  ]),
);
