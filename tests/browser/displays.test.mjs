// The browser tests: `node --test tests/browser/` with OHJAAMO_URL (the core) and
// OHJAAMO_SIM_URL (the simulator, started with --speed 0) in the environment;
// tests/e2e_browser.rs starts both and runs this. One file, so that the suites run
// one after another: they share one core and one simulated clock.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recoverySuite } from './recovery.mjs';
import { bedsSuite } from './beds.mjs';
import { LANGUAGES, keys } from '../../services/core/web/assets/i18n.js';
import { CORE, assertNoErrors, assertOnlyFromCore, closePage, launch, openPage, waitLive } from './lib.mjs';

test('every language has every string', () => {
  const fi = keys('fi').sort();
  assert.ok(fi.length > 100);
  for (const lang of LANGUAGES) assert.deepEqual(keys(lang).sort(), fi, `${lang} has the same keys as fi`);
});

test('the index links to both screens, in the language chosen', async () => {
  const browser = await launch();
  try {
    const page = await openPage(browser);
    await page.goto(`${CORE}/displays/`);
    assert.equal(await page.locator('#link-recovery').textContent(), 'Heräämön näyttö');
    await page.locator('.lang-button[data-lang=sv]').click();
    assert.equal(await page.locator('#link-beds').textContent(), 'Vårdplatsläget');
    await page.locator('#link-beds').click();
    await page.waitForURL(/\/displays\/beds\?lang=sv$/);
    await waitLive(page);
    assert.equal(await page.locator('#title').textContent(), 'Vårdplatsläget');
    await page.goBack();
    await page.locator('#link-recovery').click();
    await page.waitForURL(/\/displays\/recovery\?lang=sv$/);
    await waitLive(page);
    assert.equal(await page.locator('#h-bays').textContent(), 'Uppvakningsplatser');
    assertOnlyFromCore(page);
    assertNoErrors(page);
    await closePage(page);
  } finally {
    await browser.close();
  }
});

recoverySuite();
bedsSuite();
