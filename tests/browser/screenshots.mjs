// Writes docs/screenshots/recovery.png and docs/screenshots/beds.png (1920×1080), and
// beds-laptop.png (the bed board at 1280×800), of the displays of the core at
// OHJAAMO_URL. Run by tests/e2e_browser.rs after the
// simulator has lived a busy morning:
//   OHJAAMO_SCREENSHOTS=1 cargo test -p ohjaamo --test e2e_browser -- screenshots
// or by hand against a running core: OHJAAMO_URL=http://127.0.0.1:8080 node tests/browser/screenshots.mjs

import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { CORE, HOLD_SYSTEM, assertNoErrors, closePage, fhir, getJSON, launch, openPage, picture, sleep, waitLive } from './lib.mjs';

/** A coordinator holds a bed in the fullest ward that has one free, so that the
 * board shows a hold. */
async function holdOneBed() {
  const wards = (await picture('?kind=ward')).units.filter((u) => u.unitKind !== 'rehabilitation-ward' && u.figures.freeNow > 0);
  wards.sort((a, b) => a.figures.freeNow - b.figures.freeNow);
  for (const ward of wards) {
    const body = (await getJSON(`${CORE}/picture/beds?unit=${encodeURIComponent(ward.id)}`)).body;
    const bed = (body?.beds ?? []).find((b) => b.state === 'free' && b.schedule && !b.overCapacity);
    if (!bed) continue;
    const uuid = randomUUID();
    // The server's now: its clock may be shifted for the pictures (see e2e_browser.rs).
    const start = new Date(body.time);
    const r = await fhir('PUT', `/Slot?identifier=${encodeURIComponent(`${HOLD_SYSTEM}|${uuid}`)}`, {
      resourceType: 'Slot',
      identifier: [{ system: HOLD_SYSTEM, value: uuid }],
      schedule: { reference: bed.schedule },
      status: 'busy-tentative',
      start: start.toISOString(),
      end: new Date(start.getTime() + 60 * 60_000).toISOString(),
      comment: 'Saapuva potilas heräämöstä',
    });
    if (r.status === 200 || r.status === 201) return;
  }
}

const dir = process.env.OHJAAMO_SCREENSHOTS_DIR || path.join(path.dirname(fileURLToPath(import.meta.url)), '../../docs/screenshots');
await mkdir(dir, { recursive: true });
const browser = await launch();
try {
  for (const [name, url, viewport] of [
    ['recovery.png', '/displays/recovery?lang=fi'],
    ['beds.png', '/displays/beds?lang=fi'],
    ['beds-laptop.png', '/displays/beds?lang=fi', { width: 1280, height: 800 }],
  ]) {
    if (name === 'beds.png') await holdOneBed();
    const page = await openPage(browser, viewport ? { viewport } : {});
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
