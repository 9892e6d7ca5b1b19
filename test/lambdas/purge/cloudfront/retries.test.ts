/**
 * The one merging rule for CloudFront retries: a delivery deferred by the event Lambda
 * and a batch replayed by the retry handler both become one description for the union
 * of the paths, under a batch key (so a CallerReference) fixed by the set of contributors.
 */
import { describe, expect, it } from "vitest";
import { tags } from "../../../../core/tags";
import {
  type CloudFrontRetry,
  deferredCloudFrontRetry,
  mergeCloudFrontRetries,
} from "../../../../lambdas/purge/cloudfront";
import { combinedBatchKey } from "../../../../lambdas/purge/cloudfront/caller-reference";

const retry = (batchKey: string, paths: string[], distributionId = "E1"): CloudFrontRetry => ({
  provider: "cloudfront",
  distributionId,
  paths,
  batchKey,
});

describe("mergeCloudFrontRetries", () => {
  it("unions and normalises the paths under the combined batch key", () => {
    const merged = mergeCloudFrontRetries([
      retry("evt-2", ["/v1/gpus/g1", "/v1/regions"]),
      retry("evt-1", ["/v1/gpus*", "/v1/regions"]),
    ]);
    expect(merged).toEqual({
      provider: "cloudfront",
      distributionId: "E1",
      paths: ["/v1/gpus*", "/v1/regions"],
      batchKey: combinedBatchKey(["evt-1", "evt-2"]),
    });
  });

  it("gives the same description for the same contributors in any order, and keeps a single one as it is", () => {
    const a = retry("evt-a", ["/v1/a"]);
    const b = retry("evt-b", ["/v1/b"]);
    expect(mergeCloudFrontRetries([a, b])).toEqual(mergeCloudFrontRetries([b, a]));
    expect(mergeCloudFrontRetries([a])).toEqual(a);
  });

  it("refuses nothing to merge, and retries for different distributions", () => {
    expect(() => mergeCloudFrontRetries([])).toThrow(RangeError);
    expect(() => mergeCloudFrontRetries([retry("k", ["/a"], "E1"), retry("k", ["/b"], "E2")])).toThrow(
      /E1 and E2/,
    );
  });
});

describe("deferredCloudFrontRetry", () => {
  it("owes the delivery's paths once, on behalf of the requests that have any", () => {
    const warnings: Array<{ message: string; fields: unknown }> = [];
    const deferred = deferredCloudFrontRetry(
      [
        { batchKey: "evt-1", tags: [tags.gpu("g1")] },
        { batchKey: "evt-2", tags: ["unknown:tag"] },
        { batchKey: "op-3", tags: [], paths: ["/v1/custom*", "not-a-path"] },
      ],
      "E1",
      { warn: (message, fields) => warnings.push({ message, fields }) },
    );
    expect(deferred).toEqual({
      retry: {
        provider: "cloudfront",
        distributionId: "E1",
        paths: ["/v1/custom*", "/v1/gpus/g1"],
        batchKey: combinedBatchKey(["evt-1", "op-3"]),
      },
      batchKeys: ["evt-1", "op-3"],
    });
    expect(warnings).toEqual([
      {
        message: "invalid CloudFront path ignored",
        fields: { provider: "cloudfront", batchKey: "op-3", path: "not-a-path" },
      },
    ]);
  });

  it("is the same merge the retry handler applies: deferring then merging again changes nothing", () => {
    const requests = [
      { batchKey: "evt-1", tags: [tags.gpu("g1")] },
      { batchKey: "evt-2", tags: [tags.provider("p1")] },
    ];
    const deferred = deferredCloudFrontRetry(requests, "E1");
    if (!deferred) throw new Error("nothing deferred");
    expect(mergeCloudFrontRetries([deferred.retry])).toEqual(deferred.retry);
  });

  it("defers nothing when no request maps to a path", () => {
    expect(deferredCloudFrontRetry([{ batchKey: "evt-1", tags: ["unknown:tag"] }], "E1")).toBeUndefined();
    expect(deferredCloudFrontRetry([], "E1")).toBeUndefined();
  });
});
