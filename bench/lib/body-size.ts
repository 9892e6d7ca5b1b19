/** Response and L2 value sizes in buckets, shared by the mix's tally and the compression measurement. */

/** Upper bounds are exclusive; the compression thresholds (1 KiB, 4 KiB) fall on bucket edges. */
export const BODY_SIZE_BUCKETS = [
  { name: "<1 KiB", below: 1024 },
  { name: "1–4 KiB", below: 4 * 1024 },
  { name: "4–16 KiB", below: 16 * 1024 },
  { name: ">16 KiB", below: Number.POSITIVE_INFINITY },
] as const;

export type BodySizeBucket = (typeof BODY_SIZE_BUCKETS)[number]["name"];

export const BODY_SIZE_BUCKET_NAMES = BODY_SIZE_BUCKETS.map((bucket) => bucket.name) as [
  BodySizeBucket,
  ...BodySizeBucket[],
];

export function bodySizeBucket(bytes: number): BodySizeBucket {
  for (const bucket of BODY_SIZE_BUCKETS) if (bytes < bucket.below) return bucket.name;
  return ">16 KiB";
}

/** The lower edge of a bucket, in bytes: a threshold compresses the buckets whose lower edge reaches it. */
export function bucketLowerBytes(name: BodySizeBucket): number {
  const index = BODY_SIZE_BUCKETS.findIndex((bucket) => bucket.name === name);
  return index <= 0 ? 0 : (BODY_SIZE_BUCKETS[index - 1]?.below ?? 0);
}
