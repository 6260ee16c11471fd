/**
 * A real headless browser for tests: the Debian chromium driven by playwright-core. The machine
 * has no network, so the flags turn off everything that would try to reach Google (sync,
 * component updates, background fetches, QUIC probes); each launch gets a new throw-away profile
 * from Playwright, so no cache (of preflights, say) survives from one run to the next.
 */
import { existsSync } from 'node:fs';
import { Browser, chromium, Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Why browser tests cannot run here, or false when they can (for `describe(..., { skip })`). */
export function browserMissing(): string | false {
  return existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (Debian package chromium)`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 15_000 });
}

/** A CORS preflight the browser sent, as the DevTools protocol saw it (header names lower case). */
export interface SeenPreflight {
  url: string;
  requestHeaders: Record<string, string>;
  status?: number;
  headers?: Record<string, string>;
}

const lowerCased = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));

/**
 * Records the preflights of a page. Playwright's own request events leave them out (the browser
 * sends them by itself), so this listens to the DevTools Network domain, where Chromium reports
 * them as OPTIONS requests initiated by "preflight" and responses of type Preflight.
 */
export async function recordPreflights(page: Page): Promise<SeenPreflight[]> {
  const seen: SeenPreflight[] = [];
  const byId = new Map<string, SeenPreflight>();
  const cdp = await page.context().newCDPSession(page);
  cdp.on('Network.requestWillBeSent', (e) => {
    if (e.request.method !== 'OPTIONS' || e.initiator.type !== 'preflight') return;
    const preflight: SeenPreflight = { url: e.request.url, requestHeaders: lowerCased(e.request.headers) };
    byId.set(e.requestId, preflight);
    seen.push(preflight);
  });
  cdp.on('Network.responseReceived', (e) => {
    const preflight = byId.get(e.requestId);
    if (e.type !== 'Preflight' || !preflight) return;
    preflight.status = e.response.status;
    preflight.headers = lowerCased(e.response.headers);
  });
  await cdp.send('Network.enable');
  return seen;
}
