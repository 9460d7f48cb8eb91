/** options.webhook: execute({webhook, webhookSecret}) returns at once; the server calls the webhook
 * (and, for a job with sendJobWebhook: true, also when that job ends). */
import { ARGS, clip, emit, run, runAll, sdk } from "./harness.js";

const { compose } = sdk;

emit(
  await runAll([
    ["signed", () => run("signed", compose(clip("current hooked", { seed: 44 })), { webhook: ARGS.receiverUrl, webhookSecret: ARGS.secret })],
    ["unsigned", () => run("unsigned", compose(clip("current hooked plain", { seed: 45 })), { webhook: ARGS.receiverUrl })],
    [
      "per_job",
      () =>
        run("per_job", compose(clip("per job hook", { seed: 46, sendJobWebhook: true })), {
          webhook: ARGS.receiverUrl,
          webhookSecret: ARGS.secret,
        }),
    ],
  ]),
);
