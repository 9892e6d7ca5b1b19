/**
 * The fixed reference data of the sample marketplace: regions and the GPU type catalogue,
 * plus the economics the generator needs to make prices and scores look plausible.
 */
import type { GpuType, Region } from "../../core/domain";

export interface RegionProfile extends Region {
  /** Multiplies the type's base price: power and rack space cost differ per region. */
  priceFactor: number;
}

export interface GpuTypeProfile extends GpuType {
  /** Typical on-demand price in us-east, in dollars per hour. */
  basePricePerHour: number;
  /** Relative throughput (H100 = 100) that listings rank by. */
  basePerformance: number;
  /** How common the type is in the fleet, relative to the others. */
  fleetWeight: number;
}

export const REGION_PROFILES: readonly RegionProfile[] = [
  { regionId: "us-east", name: "US East", location: "Ashburn, Virginia", priceFactor: 1 },
  { regionId: "us-west", name: "US West", location: "Hillsboro, Oregon", priceFactor: 1.04 },
  { regionId: "eu-west", name: "EU West", location: "Dublin, Ireland", priceFactor: 1.12 },
  { regionId: "ap-southeast", name: "Asia Pacific Southeast", location: "Singapore", priceFactor: 1.18 },
];

export const GPU_TYPE_PROFILES: readonly GpuTypeProfile[] = [
  {
    gpuType: "RTX-4090",
    vendor: "NVIDIA",
    memoryGb: 24,
    architecture: "Ada Lovelace",
    basePricePerHour: 0.69,
    basePerformance: 55,
    fleetWeight: 30,
  },
  {
    gpuType: "RTX-3090",
    vendor: "NVIDIA",
    memoryGb: 24,
    architecture: "Ampere",
    basePricePerHour: 0.39,
    basePerformance: 36,
    fleetWeight: 20,
  },
  {
    gpuType: "A100-80GB",
    vendor: "NVIDIA",
    memoryGb: 80,
    architecture: "Ampere",
    basePricePerHour: 1.79,
    basePerformance: 72,
    fleetWeight: 15,
  },
  {
    gpuType: "H100-SXM",
    vendor: "NVIDIA",
    memoryGb: 80,
    architecture: "Hopper",
    basePricePerHour: 2.99,
    basePerformance: 100,
    fleetWeight: 10,
  },
  {
    gpuType: "L40S",
    vendor: "NVIDIA",
    memoryGb: 48,
    architecture: "Ada Lovelace",
    basePricePerHour: 1.19,
    basePerformance: 58,
    fleetWeight: 12,
  },
  {
    gpuType: "A10G",
    vendor: "NVIDIA",
    memoryGb: 24,
    architecture: "Ampere",
    basePricePerHour: 0.75,
    basePerformance: 28,
    fleetWeight: 13,
  },
];

export function toRegion(profile: RegionProfile): Region {
  return { regionId: profile.regionId, name: profile.name, location: profile.location };
}

export function toGpuType(profile: GpuTypeProfile): GpuType {
  return {
    gpuType: profile.gpuType,
    vendor: profile.vendor,
    memoryGb: profile.memoryGb,
    architecture: profile.architecture,
  };
}
