// The recovery-room display against the real core: what it shows equals /picture,
// a change in the simulator is on the screen within a second, it fits 1920×1080, it
// speaks three languages, and it says so when it cannot vouch for its figures (a cut
// connection, a resync, a stale source) — and comes back by itself.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CORE,
  Mismatch,
  advance,
  assertNoErrors,
  assertOnlyFromCore,
  closePage,
  compare,
  eventually,
  launch,
  openPage,
  personalData,
  picture,
  proxy,
  sleep,
  waitLive,
} from './lib.mjs';

const digits = (text) => (text == null || !/\d/.test(text) ? null : Number(text.replace(/[^\d-]/g, '')));

/** What the recovery screen shows, read from the page. */
async function readScreen(page) {
  return page.evaluate(() => {
    const num = (el) => (el == null || !/\d/.test(el.textContent) ? null : Number(el.textContent.replace(/[^\d-]/g, '')));
    const grid = document.getElementById('bays');
    const bays = {};
    for (const b of document.querySelectorAll('#bays .bay')) bays[b.dataset.bayId] = { state: b.dataset.state, case: b.dataset.case };
    const theatres = {};
    for (const t of document.querySelectorAll('#theatres .theatre')) {
      theatres[t.dataset.roomId] = { state: t.dataset.state, case: t.querySelector('[data-fig=case]')?.textContent ?? '' };
    }
    const wards = {};
    for (const w of document.querySelectorAll('#wards .ward-row')) wards[w.dataset.unitId] = num(w.querySelector('[data-fig=freeNow]'));
    const arrivals = [...document.querySelectorAll('#arrivals .hour')].map((g) => [g.dataset.hourStart, Number(g.dataset.count), num(g.querySelector('.bar-count'))]);
    const flows = [...document.querySelectorAll('#flows .band')].map((b) => [b.dataset.from, b.dataset.to, Number(b.dataset.count)]).sort();
    return {
      unit: grid.dataset.unitId ?? null,
      summary: {
        patients: num(document.querySelector('#bay-summary [data-fig=patients]')),
        free: num(document.querySelector('#bay-summary [data-fig=free]')),
        waiting: num(document.querySelector('#bay-summary [data-fig=waiting]')),
      },
      bays,
      theatres,
      wards,
      arrivals,
      flows,
    };
  });
}

/** What the screen should show, from a /picture body. */
function expected(body) {
  const collator = new Intl.Collator('fi-FI', { numeric: true, sensitivity: 'base' });
  const recovery = body.units.filter((u) => u.kind === 'recovery-unit').sort((a, b) => collator.compare(a.name, b.name) || collator.compare(a.id, b.id))[0];
  assert.ok(recovery, 'the core has a recovery unit');
  const f = recovery.figures;
  const bays = {};
  for (const b of f.bays) {
    bays[b.id] = { state: b.case && b.readyAt ? 'ready' : b.case ? 'occupied' : b.closed ? 'closed' : 'free', case: b.case ?? '' };
  }
  const theatres = {};
  for (const id of f.theatres) {
    const room = body.units.find((u) => u.kind === 'operating-room' && u.id === id);
    theatres[id] = { state: room?.figures?.state ?? 'unknown', case: room?.figures?.state === 'in-use' ? room.figures.currentCase ?? '' : '' };
  }
  const wards = {};
  for (const w of body.units.filter((u) => u.kind === 'ward')) wards[w.id] = w.figures.freeNow;
  return {
    unit: recovery.id,
    summary: { patients: f.patients, free: f.baysFree, waiting: f.waitingForWardBed },
    bays,
    theatres,
    wards,
    arrivals: f.expectedArrivals.map((a) => [a.hourStart, a.count, a.count]),
    flows: f.flowsToday.filter((x) => x.count > 0).map((x) => [x.from, x.to, x.count]).sort(),
  };
}

/** Waits until the screen equals /picture (both may move meanwhile). */
async function screenEqualsPicture(page, timeout = 8_000) {
  return eventually(
    'the recovery screen equals GET /picture',
    async () => {
      const want = expected(await picture());
      const shown = await readScreen(page);
      return compare(shown, want) ?? shown;
    },
    { timeout, every: 150 },
  );
}

export function recoverySuite() {
  describe('recovery display', () => {
    let browser;
    before(async () => {
      browser = await launch();
    });
    after(async () => {
      await browser?.close();
    });

    it('shows what /picture says, fits 1920×1080 without scrolling, shows no personal data, logs no errors', async () => {
      const page = await openPage(browser);
      await page.goto(`${CORE}/displays/recovery`);
      await waitLive(page);
      const shown = await screenEqualsPicture(page);
      assert.ok(Object.keys(shown.bays).length >= 1, 'bays are shown');
      assert.ok(Object.keys(shown.theatres).length >= 1, 'theatres are shown');
      assert.ok(Object.keys(shown.wards).length >= 1, 'onward wards are shown');
      assert.equal(shown.arrivals.length, 8, 'eight hours of expected arrivals');
      const size = await page.evaluate(() => ({
        w: document.documentElement.scrollWidth,
        h: document.documentElement.scrollHeight,
        iw: innerWidth,
        ih: innerHeight,
      }));
      assert.ok(size.w <= size.iw && size.h <= size.ih, `no scrolling at 1920×1080: ${JSON.stringify(size)}`);
      const text = await page.evaluate(() => document.body.innerText);
      assert.deepEqual(personalData(text), [], 'no personal data on the screen');
      for (const c of Object.values(shown.bays).map((b) => b.case).filter(Boolean)) {
        assert.match(c, /^[A-Z]+-\d+$/, 'patients appear only as case numbers');
      }
      // Finnish by default, times as 14.05, dates as 2.12.2026.
      assert.equal(await page.evaluate(() => document.documentElement.lang), 'fi');
      assert.match(await page.locator('.clock-time').textContent(), /^\d{2}\.\d{2}$/);
      assert.match(await page.locator('.clock-date').textContent(), /\b\d{1,2}\.\d{1,2}\.\d{4}$/);
      assert.match(await page.locator('#h-theatres').textContent(), /Leikkaussalit/);
      // ?unit= picks the recovery unit; an unknown one is said plainly.
      await page.goto(`${CORE}/displays/recovery?unit=${encodeURIComponent(shown.unit)}`);
      await waitLive(page);
      assert.equal(await page.locator('#bays').getAttribute('data-unit-id'), shown.unit);
      await page.goto(`${CORE}/displays/recovery?unit=no-such-unit`);
      await waitLive(page);
      await page.locator('[data-banner=no-unit]').waitFor({ state: 'visible', timeout: 3_000 });
      assert.equal(await page.locator('#bays .bay').count(), 0, 'no bays of another unit');
      assertOnlyFromCore(page);
      assertNoErrors(page);
      await closePage(page);
    });

    it('shows a change in the simulator within a second of the core having it', async () => {
      const page = await openPage(browser);
      await page.goto(`${CORE}/displays/recovery`);
      await waitLive(page);
      await screenEqualsPicture(page);
      let measured = null;
      for (let round = 0; round < 40 && !measured; round++) {
        const baseline = new Map((await picture('?kind=ward')).units.map((u) => [u.id, u.sequence]));
        await advance(5);
        const deadline = Date.now() + 3_000;
        while (Date.now() < deadline && !measured) {
          const body = await picture('?kind=ward');
          const seen = Date.now();
          const changed = body.units.find((u) => u.sequence > (baseline.get(u.id) ?? -1));
          if (changed) {
            await page.waitForFunction(
              ([id, sequence]) => {
                const row = document.querySelector(`#wards .ward-row[data-unit-id="${id}"]`);
                return row && Number(row.dataset.sequence) >= sequence;
              },
              [changed.id, changed.sequence],
              { timeout: 1_000, polling: 20 },
            );
            measured = { unit: changed.name, ms: Date.now() - seen };
          } else {
            await sleep(40);
          }
        }
      }
      assert.ok(measured, 'advancing the simulator changed a ward');
      assert.ok(measured.ms <= 1_000, `on the screen in ${measured.ms} ms`);
      console.log(`# a ward change (${measured.unit}) was on the screen ${measured.ms} ms after /picture had it`);
      await screenEqualsPicture(page);
      assertNoErrors(page);
      await closePage(page);
    });

    it('switches language, remembers it, and takes ?lang=', async () => {
      const page = await openPage(browser);
      await page.goto(`${CORE}/displays/recovery`);
      await waitLive(page);
      await page.locator('.lang-button[data-lang=en]').click();
      assert.equal(await page.locator('#h-theatres').textContent(), 'Operating theatres');
      assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
      assert.equal(await page.evaluate(() => localStorage.getItem('ohjaamo.lang')), 'en');
      await page.goto(`${CORE}/displays/recovery`);
      await waitLive(page);
      assert.equal(await page.locator('#h-bays').textContent(), 'Recovery bays', 'the choice is remembered');
      assert.match(await page.locator('.clock-time').textContent(), /^\d{2}\.\d{2}$/, 'Finnish time convention in English too');
      assert.match(await page.locator('.clock-date').textContent(), /\b\d{1,2}\.\d{1,2}\.\d{4}$/, 'Finnish date convention in English too');
      await page.goto(`${CORE}/displays/recovery?lang=sv`);
      await waitLive(page);
      assert.equal(await page.locator('#h-theatres').textContent(), 'Operationssalar');
      assert.equal(await page.locator('.lang-button[data-lang=sv]').getAttribute('aria-pressed'), 'true');
      assert.equal(await page.evaluate(() => localStorage.getItem('ohjaamo.lang')), 'sv');
      await screenEqualsPicture(page);
      assertNoErrors(page);
      await closePage(page);
    });

    it('greys its figures and says so when the connection is cut, and resumes by itself with Last-Event-ID', async () => {
      const gate = await proxy(CORE);
      const page = await openPage(browser, { base: gate.url });
      // The cut fails the stream and any poll in flight: the browser logs those
      // failed loads itself. Excused: exactly net::ERR_ lines for this proxy, during the cut.
      let cutting = false;
      page.excuse = (text, url) => cutting && url.startsWith(gate.url) && /^Failed to load resource: net::ERR_[A-Z_]+$/.test(text);
      try {
        await page.goto(`${gate.url}/displays/recovery`);
        await waitLive(page);
        await screenEqualsPicture(page);
        assert.equal(await page.locator('[data-banner]').count(), 0, 'no banner while live');
        const streamsBefore = gate.requests.filter((r) => r.startsWith('GET /stream')).length;
        cutting = true;
        gate.cut();
        await page.waitForFunction(() => document.body.dataset.connection === 'stale', null, { timeout: 6_000 });
        await page.locator('[data-banner=connection]').waitFor({ state: 'visible', timeout: 2_000 });
        assert.match(await page.locator('[data-banner=connection]').textContent(), /Yhteys palvelimeen on poikki/);
        assert.ok(await page.evaluate(() => document.body.classList.contains('stale')), 'body.stale');
        const filter = await page.evaluate(() => getComputedStyle(document.querySelector('.live-area')).filter);
        assert.match(filter, /grayscale/, 'the figures are greyed');
        assert.match(await page.locator('.dot').getAttribute('class'), /dot-stale/);
        await sleep(3_000); // a few failed reconnects: the client backs off
        gate.restore();
        await waitLive(page, 40_000);
        cutting = false;
        assert.equal(await page.locator('[data-banner=connection]').count(), 0, 'the banner is gone');
        const reconnects = gate.requests.filter((r) => r.startsWith('GET /stream')).slice(streamsBefore);
        assert.ok(reconnects.length >= 1, 'the display reconnected');
        const resumed = reconnects.at(-1);
        assert.ok(/\r\nlast-event-id: \d+/i.test(resumed) || /[?&]after=\d+/.test(resumed.split('\r\n')[0]), `resumed after what it had, not from scratch:\n${resumed}`);
        await screenEqualsPicture(page);
        assertNoErrors(page);
      } finally {
        await closePage(page);
        await gate.close();
      }
    });

    it('drops what it holds on resync and takes a fresh snapshot without Last-Event-ID', async () => {
      const page = await openPage(browser);
      const real = await picture();
      const fake = structuredClone(real);
      for (const u of fake.units) {
        if (u.kind === 'recovery-unit') u.figures.baysFree = 99;
        if (u.kind === 'ward') u.figures.freeNow = 99;
      }
      const streams = [];
      await page.route('**/stream*', async (route) => {
        streams.push({ url: route.request().url(), lastEventId: route.request().headers()['last-event-id'] ?? null });
        if (streams.length === 1) {
          await route.fulfill({
            status: 200,
            headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
            body: `event: snapshot\nid: ${fake.sequence}\ndata: ${JSON.stringify(fake)}\n\nevent: resync\ndata: {"reason":"the test says so"}\n\n`,
          });
        } else {
          await route.continue();
        }
      });
      await page.goto(`${CORE}/displays/recovery`);
      await waitLive(page);
      assert.ok(streams.length >= 2, 'a second stream was opened');
      assert.equal(streams[1].lastEventId, null, 'no Last-Event-ID after resync');
      assert.ok(!new URL(streams[1].url).searchParams.has('after'), 'no ?after= after resync');
      const shown = await screenEqualsPicture(page);
      assert.notEqual(shown.summary.free, 99, 'the dropped snapshot is not shown');
      assertNoErrors(page);
      await closePage(page);
    });

    it('names a stale source in a banner and greys the figures until it recovers', async () => {
      const page = await openPage(browser);
      const lastSuccess = new Date(Date.now() - 12 * 60_000);
      let stale = true;
      await page.route('**/sources', async (route) => {
        await route.fulfill({
          status: 200,
          contentType: 'application/json',
          body: JSON.stringify({
            time: new Date().toISOString(),
            sources: [
              {
                name: 'lifecare-vienti',
                kind: 'pull',
                reportedAt: new Date().toISOString(),
                lastSuccess: lastSuccess.toISOString(),
                lagSeconds: 720,
                quarantined: 0,
                stale,
                staleReason: stale ? 'no successful pull for 720 s' : null,
              },
            ],
          }),
        });
      });
      await page.goto(`${CORE}/displays/recovery`);
      await waitLive(page);
      const banner = page.locator('[data-banner=source]');
      await banner.waitFor({ state: 'visible', timeout: 5_000 });
      const text = await banner.textContent();
      const hhmm = new Intl.DateTimeFormat('fi-FI', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'Europe/Helsinki' })
        .formatToParts(lastSuccess)
        .filter((p) => p.type === 'hour' || p.type === 'minute')
        .map((p) => p.value)
        .join('.');
      assert.match(text, /lifecare-vienti/, 'the banner names the source');
      assert.ok(text.includes(hhmm), `the banner says since when (${hhmm}): ${text}`);
      assert.ok(await page.evaluate(() => document.body.classList.contains('stale')), 'figures greyed');
      stale = false;
      await banner.waitFor({ state: 'detached', timeout: 15_000 });
      assert.ok(!(await page.evaluate(() => document.body.classList.contains('stale'))), 'figures back in colour');
      assertNoErrors(page);
      await closePage(page);
    });
  });
}

export { readScreen, expected, screenEqualsPicture, digits, Mismatch };
