// The ward bed board against the real core: its figures equal /picture, its filters
// filter, a ward's beds equal /picture/beds, and holding a bed works the way two
// coordinators at once need it to: a double click makes one hold, the second
// coordinator gets 409 and a clear message, a stale page's confirm gets 412, a
// release frees the bed, and a hold that expires frees it on every screen by itself.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  CORE,
  HOLD_SYSTEM,
  assertNoErrors,
  assertOnlyFromCore,
  closePage,
  compare,
  deliberate,
  eventually,
  fhir,
  getJSON,
  launch,
  openPage,
  personalData,
  picture,
  waitLive,
} from './lib.mjs';

const percent = (p) => (p == null ? '—' : new Intl.NumberFormat('fi-FI', { style: 'percent', maximumFractionDigits: 0 }).format(p / 100));
const FIGURES = ['freeNow', 'freeingToday', 'freeingTomorrow', 'reserved', 'overCapacityPatients', 'patients', 'bedsOpen'];

async function readBoard(page) {
  return page.evaluate((figures) => {
    const num = (el) => (el == null || !/\d/.test(el.textContent) ? null : Number(el.textContent.replace(/[^\d-]/g, '')));
    const rows = {};
    for (const tr of document.querySelectorAll('table.units tbody tr.unit')) {
      const row = {};
      for (const k of figures) row[k] = num(tr.querySelector(`[data-fig=${k}]`));
      row.occupancy = tr.querySelector('[data-fig=occupancyPercent]')?.textContent ?? null;
      rows[tr.dataset.unitId] = row;
    }
    const totals = {};
    for (const el of document.querySelectorAll('tfoot [data-total]')) totals[el.dataset.total] = num(el);
    return { rows, totals };
  }, FIGURES);
}

function expectedBoard(body, keep = () => true) {
  const rows = {};
  const totals = {};
  const wards = body.units.filter((u) => u.kind === 'ward' && keep(u));
  for (const w of wards) {
    const row = {};
    for (const k of FIGURES) row[k] = w.figures[k];
    row.occupancy = percent(w.figures.occupancyPercent);
    rows[w.id] = row;
  }
  if (wards.length > 1) for (const k of FIGURES) totals[k] = wards.reduce((a, w) => a + (w.figures[k] ?? 0), 0);
  return { rows, totals };
}

async function boardEqualsPicture(page, keep, what = 'the board equals GET /picture') {
  return eventually(what, async () => compare(await readBoard(page), expectedBoard(await picture('?kind=ward'), keep)) ?? true, { timeout: 8_000, every: 150 });
}

async function readBeds(page) {
  return page.evaluate(() => {
    const beds = {};
    for (const b of document.querySelectorAll('.bed')) beds[b.dataset.bedId] = { state: b.dataset.state, hold: b.dataset.holdStatus || null };
    return beds;
  });
}

async function wardBeds(unit) {
  const r = await getJSON(`${CORE}/picture/beds?unit=${encodeURIComponent(unit)}`);
  assert.equal(r.status, 200, `GET /picture/beds?unit=${unit}`);
  return r.body;
}

function expectedBeds(body) {
  const beds = {};
  for (const b of body.beds) beds[b.id] = { state: b.state, hold: b.hold ? b.hold.status : null };
  return beds;
}

async function bedsEqualWard(page, unit) {
  return eventually(`the beds of ${unit} equal GET /picture/beds`, async () => compare(await readBeds(page), expectedBeds(await wardBeds(unit))) ?? true, {
    timeout: 8_000,
    every: 150,
  });
}

/** Live hold Slots (not yet ended) of a bed's Schedule with `status`, from the FHIR API. */
async function holdsOf(schedule, status) {
  const r = await fhir('GET', `/Slot?schedule=${encodeURIComponent(schedule)}&status=${status}&_count=1000`);
  assert.equal(r.status, 200, 'Slot search');
  return (r.body.entry ?? [])
    .map((e) => e.resource)
    .filter((s) => (s.identifier ?? []).some((i) => i.system === HOLD_SYSTEM))
    .filter((s) => Date.parse(s.end) > Date.now());
}

/** A ward with at least `n` free beds that can be held, and those beds. */
async function wardWithFreeBeds(n) {
  const wards = (await picture('?kind=ward')).units.filter((u) => u.unitKind !== 'rehabilitation-ward').sort((a, b) => b.figures.freeNow - a.figures.freeNow);
  for (const w of wards) {
    const body = await wardBeds(w.id);
    const free = body.beds.filter((b) => b.state === 'free' && b.schedule && !b.overCapacity && !b.closed);
    if (free.length >= n) return { ward: w, beds: free };
  }
  assert.fail(`no ward with ${n} free beds`);
}

const bed = (page, id) => page.locator(`.bed[data-bed-id="${id}"]`);

export function bedsSuite() {
  describe('bed board', () => {
    let browser;
    before(async () => {
      browser = await launch();
    });
    after(async () => {
      await browser?.close();
    });

    it('shows per unit what /picture says, filters by site, unit kind and specialty, logs no errors', async () => {
      const page = await openPage(browser);
      await page.goto(`${CORE}/displays/beds`);
      await waitLive(page);
      await boardEqualsPicture(page);
      const wards = (await picture('?kind=ward')).units;
      assert.ok(wards.length >= 2, 'several wards');
      const site = wards[0].site;
      await page.selectOption('#filter-site', site);
      assert.equal(new URL(page.url()).searchParams.get('site'), site, 'the filter is in the URL');
      await boardEqualsPicture(page, (u) => u.site === site, 'filtered by site');
      await page.selectOption('#filter-site', '');
      if (wards.some((w) => w.unitKind === 'rehabilitation-ward')) {
        await page.selectOption('#filter-kind', 'rehabilitation-ward');
        await boardEqualsPicture(page, (u) => u.unitKind === 'rehabilitation-ward', 'filtered by unit kind');
        await page.selectOption('#filter-kind', '');
      }
      const specialty = wards.find((w) => w.specialty)?.specialty;
      if (specialty) {
        await page.goto(`${CORE}/displays/beds?specialty=${encodeURIComponent(specialty)}`);
        await waitLive(page);
        assert.equal(await page.locator('#filter-specialty').inputValue(), specialty, 'the filter is read from the URL');
        await boardEqualsPicture(page, (u) => u.specialty === specialty, 'filtered by specialty');
      }
      assert.deepEqual(personalData(await page.evaluate(() => document.body.innerText)), []);
      assertOnlyFromCore(page);
      assertNoErrors(page);
      await closePage(page);
    });

    it('drills down to a ward whose beds equal /picture/beds', async () => {
      const page = await openPage(browser);
      await page.goto(`${CORE}/displays/beds`);
      await waitLive(page);
      const ward = (await picture('?kind=ward')).units[0];
      await page.locator(`tr.unit[data-unit-id="${ward.id}"] .open-unit`).click();
      assert.equal(new URL(page.url()).searchParams.get('unit'), ward.id);
      await bedsEqualWard(page, ward.id);
      const shown = await page.locator('.ward-head [data-fig=freeNow]').textContent();
      assert.equal(Number(shown), (await picture(`?unit=${ward.id}`)).units.find((u) => u.kind === 'ward').figures.freeNow);
      await page.goBack();
      await page.locator('table.units').waitFor();
      assertNoErrors(page);
      await closePage(page);
    });

    it('fits a laptop (1280×800) and a tablet (800×1100): no sideways scrolling, every figure shown', async () => {
      const ward = (await picture('?kind=ward')).units[0];
      for (const viewport of [{ width: 1280, height: 800 }, { width: 800, height: 1100 }]) {
        const page = await openPage(browser, { viewport });
        const size = `${viewport.width}×${viewport.height}`;
        for (const url of [`/displays/beds?unit=${encodeURIComponent(ward.id)}`, '/displays/beds']) {
          await page.goto(`${CORE}${url}`);
          await waitLive(page);
          if (url.includes('unit=')) await bedsEqualWard(page, ward.id);
          else await boardEqualsPicture(page, undefined, `the board at ${size}`);
          const { scroll, client } = await page.evaluate(() => ({
            scroll: document.documentElement.scrollWidth,
            client: document.documentElement.clientWidth,
          }));
          assert.ok(scroll <= client, `${url} at ${size} scrolls sideways: ${scroll} px wide in ${client}`);
        }
        // On the board, a figure whose column heading is not shown shows its own.
        const unlabelled = await page.evaluate(() => {
          const headings = getComputedStyle(document.querySelector('table.units thead')).display !== 'none';
          return [...document.querySelectorAll('table.units tbody td')]
            .slice(0, 10)
            .filter((td) => td.querySelector('[data-fig]'))
            .filter((td) => !headings && getComputedStyle(td, '::before').content !== JSON.stringify(td.dataset.label ?? ''))
            .map((td) => td.querySelector('[data-fig]').dataset.fig);
        });
        assert.deepEqual(unlabelled, [], `figures without their heading at ${size}`);
        assertNoErrors(page);
        await closePage(page);
      }
    });

    it('holds a bed once on a double click; a second coordinator gets 409; a stale confirm gets 412; release frees it', async () => {
      const { ward, beds } = await wardWithFreeBeds(1);
      const target = beds[0];
      const one = await openPage(browser);
      const two = await openPage(browser);
      two.excuse = deliberate;
      const board = await openPage(browser);
      for (const p of [one, two]) {
        await p.goto(`${CORE}/displays/beds?unit=${encodeURIComponent(ward.id)}`);
        await waitLive(p);
        await bedsEqualWard(p, ward.id);
      }
      await board.goto(`${CORE}/displays/beds`);
      await waitLive(board);
      const reservedBefore = ward.figures.reserved;

      // Both coordinators open the hold dialog on the same free bed.
      await bed(one, target.id).locator('[data-action=hold]').click();
      await bed(two, target.id).locator('[data-action=hold]').click();
      await one.locator('#hold-dialog').waitFor({ state: 'visible' });
      await two.locator('#hold-dialog').waitFor({ state: 'visible' });
      await one.locator('#hold-note').fill('Saapuu heräämöstä');
      await one.locator('#hold-submit').dblclick();
      await one.locator('.message[data-code=held-ok]').waitFor({ timeout: 5_000 });
      await bed(one, target.id).and(one.locator('[data-state=reserved][data-hold-status=busy-tentative]')).waitFor({ timeout: 5_000 });
      const holds = await holdsOf(target.schedule, 'busy-tentative');
      assert.equal(holds.length, 1, 'exactly one hold after a double click');
      assert.equal(holds[0].comment, 'Saapuu heräämöstä');

      // The second coordinator's submit is refused and said so plainly.
      await two.locator('#hold-submit').click();
      const refusal = two.locator('.message.error[data-code=held]');
      await refusal.waitFor({ state: 'visible', timeout: 5_000 });
      assert.match(await refusal.textContent(), /toinen koordinaattori ehti pidättää/);
      assert.equal((await holdsOf(target.schedule, 'busy-tentative')).length, 1, 'still one hold');
      await bed(two, target.id).and(two.locator('[data-state=reserved]')).waitFor({ timeout: 5_000 });
      assert.ok(two.excused.some((e) => e.includes('409')), 'the 409 was the deliberate one');

      // Every display sees it live: the board's held count.
      await eventually('the board shows the hold', async () => {
        const row = (await readBoard(board)).rows[ward.id];
        return row?.reserved === reservedBefore + 1 || compare(row?.reserved, reservedBefore + 1);
      });
      await boardEqualsPicture(board);

      // A page left with the old version confirms after someone else did: 412.
      const stale = await wardBeds(ward.id);
      await two.route('**/picture/beds*', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(stale) }));
      await bed(one, target.id).locator('[data-action=confirm]').click();
      await one.locator('.message[data-code=confirmed]').waitFor({ timeout: 5_000 });
      await bed(one, target.id).and(one.locator('[data-hold-status=busy]')).waitFor({ timeout: 5_000 });
      await bed(two, target.id).locator('[data-action=confirm]').click();
      const changed = two.locator('.message.error[data-code=changed]');
      await changed.waitFor({ state: 'visible', timeout: 5_000 });
      assert.match(await changed.textContent(), /muutti/);
      assert.ok(two.excused.some((e) => e.includes('412')), 'the 412 was the deliberate one');
      await two.unroute('**/picture/beds*');
      assert.equal((await holdsOf(target.schedule, 'busy')).length, 1, 'one confirmed hold');

      // Release: the bed is free again, everywhere.
      await bed(one, target.id).locator('[data-action=release]').click();
      await one.locator('.message[data-code=released]').waitFor({ timeout: 5_000 });
      await bed(one, target.id).and(one.locator('[data-state=free]')).waitFor({ timeout: 5_000 });
      assert.equal((await holdsOf(target.schedule, 'busy')).length, 0, 'no hold left');
      await bed(two, target.id).and(two.locator('[data-state=free]')).waitFor({ timeout: 8_000 });
      await boardEqualsPicture(board);
      for (const p of [one, two, board]) assertNoErrors(p);
      assert.deepEqual(two.excused.map((e) => e.match(/status of (\d+)/)[1]).sort(), ['409', '412'], 'exactly the deliberate answers were excused');
      for (const p of [one, two, board]) await closePage(p);
    });

    it('says what a refusal means for a bed that just filled or closed', async () => {
      const { ward, beds } = await wardWithFreeBeds(1);
      const page = await openPage(browser);
      page.excuse = deliberate;
      await page.goto(`${CORE}/displays/beds?unit=${encodeURIComponent(ward.id)}&lang=en`);
      await waitLive(page);
      // The core's 409 for these needs a stay or a closure racing the click; the
      // answer is the core's documented OperationOutcome, played to the page.
      for (const [code, text] of [
        ['occupied', /a patient has just been placed in it/],
        ['closed', /the bed is closed/],
      ]) {
        await page.route('**/fhir/Slot?identifier=*', (route) =>
          route.fulfill({
            status: 409,
            contentType: 'application/fhir+json',
            body: JSON.stringify({
              resourceType: 'OperationOutcome',
              issue: [
                {
                  severity: 'error',
                  code: 'conflict',
                  details: { coding: [{ system: 'https://ohjaamo.fi/fhir/CodeSystem/bed-hold-conflict', code }] },
                  diagnostics: `the bed is ${code}`,
                },
              ],
            }),
          }),
        );
        await bed(page, beds[0].id).locator('[data-action=hold]').click();
        await page.locator('#hold-submit').click();
        const message = page.locator(`.message.error[data-code=${code}]`);
        await message.waitFor({ state: 'visible', timeout: 5_000 });
        assert.match(await message.textContent(), text);
        assert.ok(!(await page.locator('#hold-dialog').isVisible()), 'the dialog closed');
        await page.unroute('**/fhir/Slot?identifier=*');
      }
      assertNoErrors(page);
      await closePage(page);
    });

    it('frees a hold by itself when it expires, on the beds and on the board', async () => {
      const { ward, beds } = await wardWithFreeBeds(1);
      const target = beds[0];
      const page = await openPage(browser);
      await page.goto(`${CORE}/displays/beds?unit=${encodeURIComponent(ward.id)}`);
      await waitLive(page);
      await bedsEqualWard(page, ward.id);
      const board = await openPage(browser);
      await board.goto(`${CORE}/displays/beds`);
      await waitLive(board);
      // Another coordinator's client holds the bed for six seconds.
      const uuid = randomUUID();
      const start = new Date();
      const end = new Date(start.getTime() + 6_000);
      const r = await fhir('PUT', `/Slot?identifier=${encodeURIComponent(`${HOLD_SYSTEM}|${uuid}`)}`, {
        resourceType: 'Slot',
        identifier: [{ system: HOLD_SYSTEM, value: uuid }],
        schedule: { reference: target.schedule },
        status: 'busy-tentative',
        start: start.toISOString(),
        end: end.toISOString(),
        comment: 'browser test: expires by itself',
      });
      assert.ok(r.status === 201 || r.status === 200, `hold made (${r.status} ${JSON.stringify(r.body)})`);
      await bed(page, target.id).and(page.locator('[data-state=reserved]')).waitFor({ timeout: 4_000 });
      await eventually('the board counts the hold', async () => (await readBoard(board)).rows[ward.id]?.reserved >= 1);
      const heldFor = end.getTime() - Date.now();
      // Expired: free on the ward's screen (it reads the beds again at the expiry) …
      await bed(page, target.id).and(page.locator('[data-state=free]')).waitFor({ timeout: heldFor + 5_000 });
      assert.ok(Date.now() >= end.getTime(), 'not before its end');
      await bedsEqualWard(page, ward.id);
      // … and on the board once the core has recomputed the ward.
      await eventually('the board no longer counts the expired hold', async () => compare(await readBoard(board), expectedBoard(await picture('?kind=ward'))) ?? true, { timeout: 15_000, every: 200 });
      const after = (await picture(`?unit=${ward.id}`)).units.find((u) => u.kind === 'ward');
      assert.equal((await readBoard(board)).rows[ward.id].reserved, after.figures.reserved);
      assertNoErrors(page);
      assertNoErrors(board);
      await closePage(page);
      await closePage(board);
    });
  });
}
