/**
 * What the readers read, and how each answer shows the versions it holds. An entity route
 * shows one version; a listing of one region and type shows every GPU in it (the edge's
 * largest limit, workers/routes.ts MAX_LISTING_LIMIT, holds every pair of the sample origin),
 * so a booking must show there as on the GPU's own record.
 */
import type { DataClassName } from "../../core/data-classes";
import { tags } from "../../core/tags";
import type { ShownVersion } from "./timeline";

/** The edge's MAX_LISTING_LIMIT (workers/routes.ts): a listing that could be cut short would hide GPUs. */
export const LISTING_LIMIT = 500;

export type ReadTargetKind = "record" | "listing" | "price";

export interface ReadTarget {
  readonly path: string;
  readonly kind: ReadTargetKind;
  /** The route's data class (README "The edge API"): it decides the bound. */
  readonly dataClass: DataClassName;
  /** The entities the answer shows; throws when the body is not what the route answers. */
  shown(body: unknown): ShownVersion[];
}

export class UnexpectedBodyError extends Error {
  override readonly name = "UnexpectedBodyError";
}

function versionOf(value: unknown, what: string): number {
  const version = (value as { version?: unknown } | null)?.version;
  if (typeof version !== "number" || !Number.isInteger(version))
    throw new UnexpectedBodyError(`${what}: no integer version`);
  return version;
}

export function gpuRecordTarget(gpuId: string): ReadTarget {
  const key = tags.gpu(gpuId);
  return {
    path: `/v1/gpus/${encodeURIComponent(gpuId)}`,
    kind: "record",
    dataClass: "gpu",
    shown(body) {
      if ((body as { gpuId?: unknown } | null)?.gpuId !== gpuId)
        throw new UnexpectedBodyError(`GPU ${gpuId}: the answer is another record`);
      return [{ key, version: versionOf(body, `GPU ${gpuId}`) }];
    },
  };
}

export function listingTarget(region: string, gpuType: string): ReadTarget {
  const query = new URLSearchParams({ region, type: gpuType, limit: String(LISTING_LIMIT) });
  const path = `/v1/gpus?${query}`;
  return {
    path,
    kind: "listing",
    dataClass: "availability",
    shown(body) {
      const { items, total } = (body ?? {}) as { items?: unknown; total?: unknown };
      if (!Array.isArray(items) || typeof total !== "number")
        throw new UnexpectedBodyError(`${path}: not a listing`);
      // A cut listing would hide the GPUs past its end, and their missed versions with them.
      if (total > items.length)
        throw new UnexpectedBodyError(`${path}: ${total} GPUs, only ${items.length} listed`);
      return items.map((item: unknown) => {
        const gpu = item as { gpuId?: unknown; region?: unknown; gpuType?: unknown };
        if (typeof gpu.gpuId !== "string" || gpu.region !== region || gpu.gpuType !== gpuType)
          throw new UnexpectedBodyError(`${path}: an item of another region or type`);
        return { key: tags.gpu(gpu.gpuId), version: versionOf(gpu, `${path} ${gpu.gpuId}`) };
      });
    },
  };
}

export function priceTarget(gpuType: string, region: string): ReadTarget {
  const key = tags.price(gpuType, region);
  const query = new URLSearchParams({ type: gpuType, region });
  const path = `/v1/pricing?${query}`;
  return {
    path,
    kind: "price",
    dataClass: "pricing",
    shown(body) {
      const price = (body ?? {}) as { gpuType?: unknown; region?: unknown };
      if (price.gpuType !== gpuType || price.region !== region)
        throw new UnexpectedBodyError(`${path}: the answer is another price`);
      return [{ key, version: versionOf(body, path) }];
    },
  };
}
