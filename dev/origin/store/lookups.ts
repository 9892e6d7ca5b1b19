/** Finding the records a change names; a missing one is the caller's mistake (OriginNotFoundError, a 404). */
import type { Gpu, GpuType, Provider, Region } from "../../../core/domain";
import { OriginNotFoundError } from "../errors";
import type { MarketplaceState } from "./state";

export function requireGpu(state: MarketplaceState, gpuId: string): Gpu {
  const gpu = state.gpus.get(gpuId);
  if (!gpu) throw new OriginNotFoundError("gpuId", `no GPU "${gpuId}"`);
  return gpu;
}

export function requireProvider(state: MarketplaceState, providerId: string): Provider {
  const provider = state.providers.get(providerId);
  if (!provider) throw new OriginNotFoundError("providerId", `no provider "${providerId}"`);
  return provider;
}

export function findGpuType(state: MarketplaceState, gpuType: string): GpuType | undefined {
  return state.gpuTypes.find((type) => type.gpuType === gpuType);
}

export function findRegion(state: MarketplaceState, regionId: string): Region | undefined {
  return state.regions.find((region) => region.regionId === regionId);
}

export function requireGpuType(state: MarketplaceState, gpuType: string): GpuType {
  const type = findGpuType(state, gpuType);
  if (!type) throw new OriginNotFoundError("gpuType", `unknown GPU type "${gpuType}"`);
  return type;
}

export function requireRegion(state: MarketplaceState, regionId: string): Region {
  const region = findRegion(state, regionId);
  if (!region) throw new OriginNotFoundError("region", `unknown region "${regionId}"`);
  return region;
}
