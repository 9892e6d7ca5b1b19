/**
 * The live dashboard in a real headless Chromium, over a real local stack: the page loads
 * with nothing fetched from outside its own server, polls its snapshot every second, and
 * shows what happens: requests to the Worker move its tile and the request chart, a booking's
 * events move the events tile, the per-type table and the events chart (its data and its
 * pixels), and the booking's purges move the purge tile. No console error, page error or
 * failed request along the way. Leaves a screenshot in bench/out/dashboard.png (git-ignored).
 *
 * Without Chromium this fails (never skips), under CI=true or not: the page is only tested in
 * a browser. Element ids: dev/local/dashboard/page/element-ids.ts.
 */
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CHART_IDS,
  EVENTS_TABLE_ID,
  STATUS_ID,
  TILE_IDS,
} from "../../../dev/local/dashboard/page/element-ids";
import { deliverEvents, originAdmin } from "../../../dev/local/marketplace-events";
import { DEFAULT_WEBHOOK_SECRET, type LocalStack, startLocalStack } from "../../../dev/local/stack";

/** Debian's package (.ci/run installs it); CHROMIUM_PATH names another build. */
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const SCREENSHOT = fileURLToPath(new URL("../../../bench/out/dashboard.png", import.meta.url));
/** Bounds on waits for the page's next polls (one a second), not sleeps: each ends as soon as the page shows it. */
const SHOWN_WITHIN_MS = 15_000;

function requireChromium(): void {
  if (existsSync(CHROMIUM)) return;
  throw new Error(
    `${CHROMIUM} not found: the dashboard test needs Chromium (apt-get install -y chromium, or set CHROMIUM_PATH)${
      process.env.CI === "true" ? "; CI=true must run it" : ""
    }`,
  );
}

async function dataValue(page: Page, id: string, attribute = "data-value"): Promise<number> {
  const text = await page.locator(`#${id}`).getAttribute(attribute);
  return text === null || text === "" ? Number.NaN : Number(text);
}

/** Resolves with the element's numeric attribute once the page shows it above `than`. */
async function waitForAbove(page: Page, id: string, attribute: string, than: number): Promise<number> {
  await page.waitForFunction(
    ({ id, attribute, than }) => Number(document.getElementById(id)?.getAttribute(attribute) ?? "") > than,
    { id, attribute, than },
    { timeout: SHOWN_WITHIN_MS },
  );
  return dataValue(page, id, attribute);
}

describe("the local dashboard in headless Chromium", () => {
  let stack: LocalStack;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const requested: string[] = [];

  beforeAll(async () => {
    requireChromium();
    stack = await startLocalStack({
      dashboard: true,
      ports: { edge: 0, origin: 0, redisRest: 0, events: 0, worker: 0, originCache: 0, dashboard: 0 },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless=new", "--no-sandbox"] });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on("console", (message) => {
      if (message.type() === "error" || message.type() === "warning")
        problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("requestfailed", (request) =>
      problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`),
    );
    page.on("response", (response) => {
      if (response.status() >= 400) problems.push(`${response.status()} for ${response.url()}`);
    });
    page.on("request", (request) => {
      if (!request.url().startsWith("data:")) requested.push(request.url());
    });
  }, 120_000);

  afterAll(async () => {
    await page?.close();
    await browser?.close();
    await stack?.stop();
  });

  it("announces itself among the stack's services, before the edge", () => {
    const names = stack.services.map((service) => service.name);
    expect(names.slice(-2)).toEqual(["dashboard", "edge"]);
    expect(stack.urls.dashboard).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("shows requests, a booking's events and its purges as they happen", { timeout: 90_000 }, async () => {
    const dashboard = stack.urls.dashboard ?? "";
    await page.goto(dashboard);
    // Two answered polls: every tile and chart has been drawn from a snapshot at least twice.
    await waitForAbove(page, STATUS_ID, "data-polls", 1);
    expect(await page.locator(`#${STATUS_ID}`).getAttribute("data-state")).toBe("live");
    expect(await page.locator("canvas").count()).toBe(Object.keys(CHART_IDS).length);

    // Requests straight to the Worker (the front cache would answer repeats itself).
    const workerBefore = await dataValue(page, TILE_IDS.workerRequests);
    expect(workerBefore).toBeGreaterThanOrEqual(0);
    const requestsSumBefore = await dataValue(page, CHART_IDS.requests, "data-sum");
    for (let i = 1; i <= 5; i++) {
      const response = await fetch(`${stack.urls.worker}/v1/gpus/gpu-0003${i}`);
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
    expect(await waitForAbove(page, TILE_IDS.workerRequests, "data-value", workerBefore + 4)).toBe(
      workerBefore + 5,
    );
    await waitForAbove(page, CHART_IDS.requests, "data-sum", requestsSumBefore);

    // A booking, as the booking system sends it: the change at the origin, then its signed events.
    const applied = await dataValue(page, TILE_IDS.eventsApplied);
    expect(applied).toBe(0);
    const eventsChart = page.locator(`#${CHART_IDS.events}`);
    const eventsSum = await dataValue(page, CHART_IDS.events, "data-sum");
    const eventsPoints = await dataValue(page, CHART_IDS.events, "data-points");
    const pixelsBefore = await eventsChart.screenshot();
    const purgesBefore = await dataValue(page, TILE_IDS.purgesSent);

    const { events } = await originAdmin(stack.urls.origin).bookGpu("gpu-00001", "user-dashboard");
    const delivery = await deliverEvents(stack.urls.events, DEFAULT_WEBHOOK_SECRET, events);
    expect(delivery.status, delivery.body).toBe(202);

    expect(await waitForAbove(page, TILE_IDS.eventsApplied, "data-value", applied)).toBe(events.length);
    await waitForAbove(page, CHART_IDS.events, "data-sum", eventsSum);
    expect(await dataValue(page, CHART_IDS.events, "data-points")).toBeGreaterThan(eventsPoints);
    // Propagation of what was just applied: a delay measured, well under the events' lifetime.
    const p99 = await dataValue(page, TILE_IDS.propagation);
    expect(p99).toBeGreaterThanOrEqual(0);
    expect(p99).toBeLessThan(10_000);
    const bookingRow = page.locator(`#${EVENTS_TABLE_ID} tr`, { hasText: "booking.created" });
    expect(await bookingRow.locator("td").allTextContents()).toEqual(["booking.created", "1", "0", "0"]);
    const pixelsAfter = await eventsChart.screenshot();
    expect(pixelsAfter.equals(pixelsBefore)).toBe(false);

    // The booking's purges reach the CDN fakes (CloudFront's through the retry queue).
    await waitForAbove(page, TILE_IDS.purgesSent, "data-value", purgesBefore);

    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // Everything the page loaded came from its own server.
    expect(requested.length).toBeGreaterThan(3);
    expect(requested.filter((url) => !url.startsWith(`${dashboard}/`))).toEqual([]);
    expect(problems).toEqual([]);
  });
});
