/**
 * The chaos suite's figures, one line per scenario, printed by the tests that measure them
 * (`npx vitest run test/chaos` shows them in its output; each line starts with `[chaos]`).
 */

/** What the readers saw (absent for a scenario without reads). */
export interface ReadFigures {
  readonly count: number;
  /** Reads answered 5xx while a usable copy existed. */
  readonly fiveXx: number;
  readonly maxLatencyMs: number;
  readonly latencyBoundMs: number;
  /** The longest a read showed a version older than one acknowledged, once the fault was over. */
  readonly stalenessAfterRecoveryMs: number;
  readonly stalenessBoundMs: number;
  /** The same while the fault lasted (a dependency was failing: only the data classes' ages bound it). */
  readonly stalenessDuringFaultMs: number;
}

export interface ScenarioFigures {
  readonly scenario: string;
  readonly reads?: ReadFigures;
  readonly eventsAcknowledged: number;
  /** Acknowledged events whose effect was not visible at the end. */
  readonly eventsLost: number;
  /** Tags and paths owed to the purge APIs (absent: the scenario sends none). */
  readonly purgesOwed?: number;
  /** Owed tags and paths never sent, plus messages dead-lettered. */
  readonly purgesLost?: number;
  /** Anything else worth a number (log resets, stale answers, retries). */
  readonly notes?: Readonly<Record<string, number | string>>;
}

export function formatFigures(figures: ScenarioFigures): string {
  const { reads } = figures;
  const parts = [
    `[chaos] ${figures.scenario}`,
    ...(reads
      ? [
          `reads ${reads.count}`,
          `5xx ${reads.fiveXx}`,
          `max latency ${reads.maxLatencyMs} ms (bound ${reads.latencyBoundMs})`,
          `staleness after recovery ${reads.stalenessAfterRecoveryMs} ms (bound ${reads.stalenessBoundMs})`,
          `staleness during the fault ${reads.stalenessDuringFaultMs} ms`,
        ]
      : ["reads n/a"]),
    `events ${figures.eventsAcknowledged} acknowledged, ${figures.eventsLost} lost`,
    figures.purgesOwed === undefined
      ? "purges n/a"
      : `purges ${figures.purgesOwed} owed, ${figures.purgesLost ?? 0} lost`,
    ...Object.entries(figures.notes ?? {}).map(([name, value]) => `${name} ${value}`),
  ];
  return parts.join(" | ");
}

/** Prints the line (vitest shows a test's console output with its result). */
export function reportFigures(figures: ScenarioFigures): void {
  console.log(formatFigures(figures));
}
