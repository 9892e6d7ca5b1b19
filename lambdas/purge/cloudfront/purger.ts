/** The `Purger` for CloudFront: tags → paths (./invalidation-paths.ts) → the coalescing batcher (./batcher.ts). */
import type { Logger } from "../../shared/logger";
import type { PurgeOptions, PurgeOutcome, PurgeRetry, Purger } from "../purger";
import { type CloudFrontBatcherOptions, CloudFrontInvalidationBatcher } from "./batcher";
import { cloudFrontInvalidationPaths } from "./invalidation-paths";

export interface CloudFrontPurgerOptions extends CloudFrontBatcherOptions {}

export class CloudFrontPurger implements Purger {
  readonly name = "cloudfront";
  readonly batcher: CloudFrontInvalidationBatcher;
  readonly #logger: Pick<Logger, "warn">;

  constructor(options: CloudFrontPurgerOptions) {
    this.batcher = new CloudFrontInvalidationBatcher(options);
    this.#logger = options.logger ?? console;
  }

  /** Resolves after the coalescing window (or `flush()`); purge many events, then await them together. */
  purge(tags: readonly string[], batchKey: string, options: PurgeOptions = {}): Promise<PurgeOutcome> {
    return this.batcher.add(cloudFrontInvalidationPaths(tags, batchKey, options, this.#logger), batchKey);
  }

  async retry(description: PurgeRetry): Promise<PurgeOutcome> {
    if (description.provider !== "cloudfront")
      throw new TypeError(`a CloudFront purger cannot retry a ${description.provider} purge`);
    if (description.distributionId !== this.batcher.distributionId) {
      return {
        ok: false,
        provider: this.name,
        calls: 0,
        chunks: [],
        error: `retry names distribution ${description.distributionId}, this purger sends to ${this.batcher.distributionId}`,
        retry: description,
      };
    }
    return this.batcher.send(description.paths, description.batchKey);
  }

  async flush(): Promise<void> {
    await this.batcher.flush();
  }
}
