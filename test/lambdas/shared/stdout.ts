/** What a step wrote to stdout, as the JSON lines powertools prints (Lambda's log lines, EMF included). */
import { vi } from "vitest";

export async function jsonLinesOf<T>(step: () => T | Promise<T>): Promise<{
  result: T;
  lines: Array<Record<string, unknown>>;
}> {
  const written: string[] = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  let result: T;
  try {
    result = await step();
  } finally {
    spy.mockRestore();
  }
  const lines = written
    .join("")
    .split("\n")
    .filter((line) => line.trim().startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { result, lines };
}

/** The EMF lines among `lines`: those CloudWatch turns into metrics. */
export function emfLines(lines: ReadonlyArray<Record<string, unknown>>) {
  return lines.filter((line) => "_aws" in line) as Array<
    Record<string, unknown> & {
      _aws: {
        CloudWatchMetrics: Array<{
          Namespace: string;
          Dimensions: string[][];
          Metrics: Array<{ Name: string; Unit: string }>;
        }>;
      };
    }
  >;
}
