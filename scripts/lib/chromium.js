'use strict';
// Debian's headless chromium as the browser bench (scripts/bench-browser-live.js) and the browser e2e tests
// (test/helpers/browser.ts) start it: one path and one set of flags, so the bench measures what the tests check.

/** apt-get install chromium (scripts/lib/ensure-deps.sh APT_TEST); CHROMIUM_PATH overrides. */
const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const CHROMIUM_ARGS = Object.freeze([
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--autoplay-policy=no-user-gesture-required',
  '--mute-audio',
  // a loaded 2-core machine must not make chromium throttle the page's timers or media
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
]);

module.exports = { CHROMIUM_PATH, CHROMIUM_ARGS };
