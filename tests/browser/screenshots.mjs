// Writes docs/screenshots/recovery.png and docs/screenshots/beds.png (1920×1080) of
// the displays of the core at OHJAAMO_URL. Run by tests/e2e_browser.rs after the
// simulator has lived a busy morning:
//   OHJAAMO_SCREENSHOTS=1 cargo test -p ohjaamo --test e2e_browser -- screenshots
// or by hand against a running core: OHJAAMO_URL=http://127.0.0.1:8080 node tests/browser/screenshots.mjs

import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { CORE, assertNoErrors, closePage, launch, openPage, sleep, waitLive } from './lib.mjs';

const dir = process.env.OHJAAMO_SCREENSHOTS_DIR || path.join(path.dirname(fileURLToPath(import.meta.url)), '../../docs/screenshots');
await mkdir(dir, { recursive: true });
const browser = await launch();
try {
  for (const [name, url] of [
    ['recovery.png', '/displays/recovery?lang=fi'],
    ['beds.png', '/displays/beds?lang=fi'],
  ]) {
    const page = await openPage(browser);
    await page.goto(`${CORE}${url}`);
    await waitLive(page, 30_000);
    // A heartbeat sets the screen's clock to the server's (which may be shifted).
    await sleep(2_000);
    const file = path.join(dir, name);
    await page.screenshot({ path: file });
    assertNoErrors(page);
    await closePage(page);
    console.log(`wrote ${file}`);
  }
} finally {
  await browser.close();
}
