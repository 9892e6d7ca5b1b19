/** The sample marketplace's in-memory state (marketplace-store.ts) and the types of its inputs and answers. */
export { MarketplaceStore } from "./marketplace-store";
export type * from "./types";
