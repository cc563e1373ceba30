/// <reference lib="dom" />
// (DOM types only for the callbacks that run inside the page; the gateway build has none)
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Browser, Page } from 'puppeteer-core';
import puppeteer from 'puppeteer-core';

// the path and flags the browser bench uses too (plain CommonJS under scripts/lib)
// eslint-disable-next-line @typescript-eslint/no-require-imports
const chromium = require('../../scripts/lib/chromium') as { CHROMIUM_PATH: string; CHROMIUM_ARGS: readonly string[] };

/** Debian's chromium (apt-get install chromium; scripts/lib/ensure-deps.sh APT_TEST); CHROMIUM_PATH overrides. */
export const CHROMIUM = chromium.CHROMIUM_PATH;

export interface TestBrowser {
  browser: Browser;
  page: Page;
  /** uncaught page errors seen so far (a broken module shows up here) */
  errors: string[];
  /** every HTTP answer of 400 or more the page got: "status url" */
  httpErrors: string[];
  close(): Promise<void>;
}

/**
 * Starts headless chromium through puppeteer-core (which downloads nothing) with its own profile
 * folder. close() always ends the browser: a polite close first, SIGKILL if it hangs.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install chromium (or set CHROMIUM_PATH)`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'lipsync-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: profile,
    protocolTimeout: 240_000,
    args: [...chromium.CHROMIUM_ARGS],
  });
  const errors: string[] = [];
  const httpErrors: string[] = [];
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(180_000);
    page.on('pageerror', (err) => errors.push(String(err)));
    page.on('response', (r) => {
      if (r.status() >= 400) httpErrors.push(`${r.status()} ${r.url()}`);
    });
    return {
      browser,
      page,
      errors,
      httpErrors,
      close: async () => {
        const proc = browser.process();
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([browser.close().catch(() => undefined), new Promise((r) => (timer = setTimeout(r, 10_000)))]);
        clearTimeout(timer);
        if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
        fs.rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (err) {
    browser.process()?.kill('SIGKILL');
    fs.rmSync(profile, { recursive: true, force: true });
    throw err;
  }
}

/** Waits until `video` (a CSS selector) has played past `seconds` with decoded frames; returns what it saw. */
export async function waitForPlayback(
  page: Page,
  selector: string,
  seconds: number,
  timeoutMs = 180_000,
): Promise<{ currentTime: number; decoded: number }> {
  await page.waitForFunction(
    (sel: string, s: number) => {
      const v = document.querySelector<HTMLVideoElement>(sel);
      return !!v && v.currentTime > s && v.getVideoPlaybackQuality().totalVideoFrames > 0;
    },
    { timeout: timeoutMs, polling: 200 },
    selector,
    seconds,
  );
  return page.$eval(selector, (v) => ({
    currentTime: (v as HTMLVideoElement).currentTime,
    decoded: (v as HTMLVideoElement).getVideoPlaybackQuality().totalVideoFrames,
  }));
}
