/** Types for scripts/check-node.mjs, which stays plain JavaScript so an old Node can run it. */
export declare const RECOMMENDED_NODE: string;
export declare class NodeRangeError extends Error {}
export declare function parseVersion(text: string): [number, number, number] | undefined;
export declare function satisfies(version: string, range: string): boolean;
export declare function nodeVersionProblem(options: {
  name: string;
  range: string;
  version: string;
  execPath: string;
}): string | undefined;
export declare function readEngines(packageJsonUrl?: URL): { name: string; range: string };
