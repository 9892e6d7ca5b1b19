/**
 * This isolate's answered requests by route, data class, tier and status, for
 * /_cache/metrics: the Prometheus view of what each data point says. Label values are route
 * patterns and the Worker's own words, so the series are few; MAX_REQUEST_SERIES bounds them
 * anyway (a status the origin made up, say), folding the rest into one `other` series.
 */
import type { RequestObservation } from "./data-point";

export const MAX_REQUEST_SERIES = 1_000;
export const OTHER = "other";

export interface RequestSeries {
  readonly route: string;
  readonly dataClass: string;
  readonly tier: string;
  readonly status: string;
  count: number;
}

export class RequestCounters {
  private readonly series = new Map<string, RequestSeries>();

  count(observation: Pick<RequestObservation, "route" | "dataClass" | "tier" | "status">): void {
    const status = String(observation.status);
    const key = `${observation.route}\n${observation.dataClass}\n${observation.tier}\n${status}`;
    let found = this.series.get(key);
    if (!found) {
      if (this.series.size >= MAX_REQUEST_SERIES) {
        found = this.otherSeries();
      } else {
        const { route, dataClass, tier } = observation;
        found = { route, dataClass, tier, status, count: 0 };
        this.series.set(key, found);
      }
    }
    found.count += 1;
  }

  get all(): readonly RequestSeries[] {
    return [...this.series.values()];
  }

  private otherSeries(): RequestSeries {
    const key = OTHER;
    let other = this.series.get(key);
    if (!other) {
      other = { route: OTHER, dataClass: OTHER, tier: OTHER, status: OTHER, count: 0 };
      // One past the cap: the fold itself must have a place.
      this.series.set(key, other);
    }
    return other;
  }
}
