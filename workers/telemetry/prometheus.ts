/**
 * The Prometheus text exposition format, version 0.0.4: per metric family a `# HELP` and a
 * `# TYPE` line, then one `name{label="value",…} number` line per sample. In label values a
 * backslash, a double quote and a line feed are escaped (`\\`, `\"`, `\n`); in HELP text a
 * backslash and a line feed.
 */

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type MetricType = "counter" | "gauge";
export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  readonly labels?: Labels;
  readonly value: number;
}

export class MetricNameError extends Error {
  override readonly name = "MetricNameError";
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

export function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

/** Collects metric families and renders them in the order they were added. */
export class Exposition {
  private readonly lines: string[] = [];
  private readonly names = new Set<string>();

  counter(name: string, help: string, samples: readonly Sample[]): this {
    return this.family(name, "counter", help, samples);
  }

  gauge(name: string, help: string, samples: readonly Sample[]): this {
    return this.family(name, "gauge", help, samples);
  }

  /** The whole exposition; a scrape parser wants the last line ended too. */
  text(): string {
    return this.lines.length === 0 ? "" : `${this.lines.join("\n")}\n`;
  }

  private family(name: string, type: MetricType, help: string, samples: readonly Sample[]): this {
    if (!METRIC_NAME.test(name))
      throw new MetricNameError(`metric name '${name}' is not [a-zA-Z_:][a-zA-Z0-9_:]*`);
    // One family per name: Prometheus refuses a scrape that repeats one.
    if (this.names.has(name)) throw new MetricNameError(`metric '${name}' added twice`);
    this.names.add(name);
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    for (const sample of samples)
      this.lines.push(`${name}${labelText(sample.labels)} ${formatValue(sample.value)}`);
    return this;
  }
}

function labelText(labels: Labels | undefined): string {
  if (!labels) return "";
  const pairs = Object.entries(labels).map(([name, value]) => {
    if (!LABEL_NAME.test(name) || name.startsWith("__")) {
      throw new MetricNameError(`label name '${name}' is not [a-zA-Z_][a-zA-Z0-9_]* (or is reserved)`);
    }
    return `${name}="${escapeLabelValue(value)}"`;
  });
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
}
