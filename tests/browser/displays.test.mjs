// The browser tests: `node --test tests/browser/` with OHJAAMO_URL (the core) and
// OHJAAMO_SIM_URL (the simulator, started with --speed 0) in the environment;
// tests/e2e_browser.rs starts both and runs this. One file, so that the suites run
// one after another: they share one core and one simulated clock.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recoverySuite } from './recovery.mjs';
import { bedsSuite } from './beds.mjs';
import { LANGUAGES, keys } from '../../services/core/web/assets/i18n.js';

test('every language has every string', () => {
  const fi = keys('fi').sort();
  assert.ok(fi.length > 100);
  for (const lang of LANGUAGES) assert.deepEqual(keys(lang).sort(), fi, `${lang} has the same keys as fi`);
});

recoverySuite();
bedsSuite();
