/**
 * Host names reserved for documentation and tests (RFC 2606, RFC 6761): example.com,
 * example.net, example.org and every name under them, and the top-level domains .example,
 * .test, .invalid and .localhost. No deployment can serve from one, so a setting that names
 * one is an example copied from the docs, and the deploy tooling refuses it.
 */
import { type Rule, refuse } from "../../core/config";

const RESERVED_DOMAINS = ["example.com", "example.net", "example.org"];
const RESERVED_TOP_LEVEL = ["example", "test", "invalid", "localhost"];

export function isExampleHost(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, "");
  const topLevel = name.slice(name.lastIndexOf(".") + 1);
  return (
    RESERVED_TOP_LEVEL.includes(topLevel) ||
    RESERVED_DOMAINS.some((domain) => name === domain || name.endsWith(`.${domain}`))
  );
}

/** The host of a URL, or undefined for text that is not one. */
export function hostOfUrl(text: string): string | undefined {
  return URL.canParse(text) ? new URL(text).hostname : undefined;
}

/** What is wrong with a setting on an example host. */
export const EXAMPLE_PROBLEM = "is an example (a reserved example domain such as example.com); set your own";

/** `rule`, refusing a value whose host (found by `hostOf`) is an example one. */
export function notExample(
  rule: Rule<string>,
  hostOf: (value: string) => string | undefined = (value) => value,
): Rule<string> {
  return {
    expected: rule.expected,
    parse: (raw) => {
      const parsed = rule.parse(raw);
      const host = parsed.ok ? hostOf(parsed.value) : undefined;
      return host !== undefined && isExampleHost(host) ? refuse([EXAMPLE_PROBLEM]) : parsed;
    },
  };
}
