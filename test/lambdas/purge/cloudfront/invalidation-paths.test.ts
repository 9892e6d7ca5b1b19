/** Tags and operator paths → the validated, normalised paths one CloudFront purge invalidates. */
import { describe, expect, it } from "vitest";
import { cloudFrontPathsForTags } from "../../../../core/purge-paths";
import { tags, tagsForGpuChange } from "../../../../core/tags";
import { cloudFrontInvalidationPaths } from "../../../../lambdas/purge/cloudfront/invalidation-paths";

const quiet = { warn: () => {} };

describe("cloudFrontInvalidationPaths", () => {
  it("is the tags' paths when there are no operator paths", () => {
    const eventTags = tagsForGpuChange({ gpuId: "g1", region: "us-east", gpuType: "A100" });
    expect(cloudFrontInvalidationPaths(eventTags, "evt-1", {}, quiet)).toEqual(
      cloudFrontPathsForTags(eventTags),
    );
  });

  it("adds valid operator paths, normalised with the tags' (sorted, covered paths dropped)", () => {
    expect(
      cloudFrontInvalidationPaths(
        [tags.gpu("g1"), tags.reference("regions")],
        "op-1",
        {
          paths: ["/v1/gpus*", "/v1/regions", "/v1/custom/a"],
        },
        quiet,
      ),
    ).toEqual(["/v1/custom/a", "/v1/gpus*", "/v1/regions"]);
  });

  it("drops and reports paths CloudFront would refuse: no leading slash, whitespace, control characters, too long", () => {
    const warnings: Array<{ message: string; fields: Record<string, unknown> }> = [];
    const bad = ["v1/gpus", "/has space", "/tab\there", "/nul\u0000", `/${"x".repeat(4096)}`];
    const paths = cloudFrontInvalidationPaths(
      [],
      "op-2",
      { paths: [...bad, `/${"y".repeat(4095)}`] },
      {
        warn: (message, fields) => warnings.push({ message, fields: { ...fields } }),
      },
    );
    expect(paths).toEqual([`/${"y".repeat(4095)}`]);
    expect(warnings).toHaveLength(bad.length);
    expect(warnings.every(({ fields }) => fields.batchKey === "op-2")).toBe(true);
    // The path as given, cut to 200 characters: the 4,097-character one is not logged whole.
    expect(warnings.map(({ fields }) => fields.path)).toEqual(bad.map((path) => path.slice(0, 200)));
  });
});
