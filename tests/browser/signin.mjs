// Signing in at the displays, against `ohjaamo demo` (the core with authentication on
// and the demo's development issuer): `node --test tests/browser/signin.mjs` with
// OHJAAMO_URL (the core), OHJAAMO_ISSUER_URL (the issuer) and OHJAAMO_SCREEN_URL (the
// recovery screen's address with its credential, from the demo's banner);
// tests/e2e_browser.rs starts the demo and runs this.
//
// A coordinator goes through the real redirect with PKCE, sees their name, holds a bed
// and sees themselves as its holder, and signs out (the session ends at the issuer
// too). The wall screen gets its own token without anyone and shows its unit live.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CORE, assertNoErrors, closePage, eventually, launch, openPage, waitLive } from './lib.mjs';

const ISSUER = (process.env.OHJAAMO_ISSUER_URL || 'http://127.0.0.1:8091').replace(/\/$/, '');
const SCREEN_URL = process.env.OHJAAMO_SCREEN_URL;
const HELD_BY = 'https://ohjaamo.fi/fhir/StructureDefinition/bed-hold-held-by';

async function api(token, path, init = {}) {
  const r = await fetch(`${CORE}${path}`, {
    ...init,
    headers: { Accept: 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(init.headers ?? {}) },
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

/** The page's session as auth.js keeps it. */
async function session(page) {
  return page.evaluate(() => JSON.parse(sessionStorage.getItem('ohjaamo.auth.session') ?? 'null'));
}

test('a coordinator signs in with PKCE, sees their name, holds a bed under it and signs out', async () => {
  const browser = await launch();
  try {
    const page = await openPage(browser);
    const toIssuer = [];
    page.on('request', (r) => {
      if (r.url().startsWith(ISSUER)) toIssuer.push({ url: r.url(), method: r.method(), body: r.postData() });
    });
    await page.goto(`${CORE}/displays/beds`);
    await page.locator('#sign-in').click();

    // The issuer's sign-in page, asked for the code flow with an S256 challenge.
    await page.waitForURL((u) => u.toString().startsWith(`${ISSUER}/authorize`));
    const asked = new URL(page.url()).searchParams;
    assert.equal(asked.get('response_type'), 'code');
    assert.equal(asked.get('code_challenge_method'), 'S256');
    assert.match(asked.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
    assert.ok(asked.get('state') && asked.get('nonce'), 'state and nonce');
    assert.equal(asked.get('client_secret'), null);
    assert.match(await page.locator('.warn').textContent(), /ei saa koskaan käyttää tuotannossa/);
    await page.locator('button[value=coordinator-surgery]').click();

    // Back at the board, the code and state gone from the address, the name shown.
    await page.locator('#who-name').waitFor({ timeout: 10_000 });
    assert.equal(page.url(), `${CORE}/displays/beds`);
    assert.equal(await page.locator('#who-name').textContent(), 'Sara Lindqvist');
    const exchange = toIssuer.find((r) => r.method === 'POST' && r.url === `${ISSUER}/token`);
    const form = new URLSearchParams(exchange.body);
    assert.equal(form.get('grant_type'), 'authorization_code');
    assert.match(form.get('code_verifier'), /^[A-Za-z0-9_-]{43}$/);
    assert.equal(form.get('client_secret'), null, 'no secret in the page');
    await waitLive(page);

    // The token is what lets the page in: the same request without it is refused.
    const { accessToken, refreshToken } = await session(page);
    assert.equal((await api(null, '/picture?kind=ward')).status, 401);
    // A ward with free beds (some may be held from later on, by the simulated
    // hospital's own coordinators: the board then says so, and we try the next).
    const wards = (await api(accessToken, '/picture?kind=ward')).body.units.sort((a, b) => b.figures.freeNow - a.figures.freeNow);
    const ward = wards[0];
    const free = (await api(accessToken, `/picture/beds?unit=${encodeURIComponent(ward.id)}`)).body.beds.filter(
      (b) => b.state === 'free' && b.schedule && !b.closed && !b.overCapacity,
    );
    assert.ok(free.length > 0, 'a ward with a free bed');

    // Hold one from the board: the tile names the holder, the Slot records the subject.
    await page.goto(`${CORE}/displays/beds?unit=${encodeURIComponent(ward.id)}`);
    await waitLive(page);
    assert.equal(await page.locator('#who-name').textContent(), 'Sara Lindqvist', 'the session survives a navigation');
    page.excuse = (text) => /status of 409/.test(text);
    let target = null;
    for (const candidate of free.slice(0, 6)) {
      const tile = page.locator(`.bed[data-bed-id="${candidate.id}"]`);
      await tile.locator('[data-action=hold]').click();
      await page.locator('#hold-submit').click();
      const outcome = await Promise.race([
        tile.locator('[data-fig=held-by]').waitFor({ timeout: 15_000 }).then(() => 'held'),
        page.locator('.message.error').first().waitFor({ timeout: 15_000 }).then(() => 'refused'),
      ]);
      if (outcome === 'held') {
        target = { bed: candidate, tile };
        break;
      }
      await page.locator('.message.error button').first().click().catch(() => {});
    }
    assert.ok(target, 'one of the free beds could be held');
    const { tile } = target;
    assert.match(await tile.locator('[data-fig=held-by]').textContent(), /Sara Lindqvist/);
    const held = (await api(accessToken, `/picture/beds?unit=${encodeURIComponent(ward.id)}`)).body.beds.find((b) => b.id === target.bed.id).hold;
    assert.equal(held.heldBy, 'coordinator-surgery');
    assert.equal(held.heldByName, 'Sara Lindqvist');
    const slot = (await api(accessToken, `/fhir/Slot/${held.slot}`, { headers: { Accept: 'application/fhir+json' } })).body;
    assert.equal(slot.extension.find((e) => e.url === HELD_BY).valueString, 'coordinator-surgery');
    // Release it again: the demo's other users need the bed.
    page.once('dialog', (d) => d.accept());
    await tile.locator('[data-action=release]').click();
    await eventually('the hold is released', async () => (await tile.locator('[data-fig=held-by]').count()) === 0 || null, { timeout: 10_000 });

    // Signing out ends the session here and at the issuer.
    await page.locator('#sign-out').click();
    await page.locator('#sign-in').waitFor({ timeout: 10_000 });
    assert.equal(await session(page), null, 'no tokens left in the tab');
    assert.equal(await page.locator('#who-name').count(), 0);
    const refreshed = await fetch(`${ISSUER}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'ohjaamo-displays' }),
    });
    assert.equal(refreshed.status, 400, 'the refresh token died with the session');
    assertNoErrors(page);
    await closePage(page);
  } finally {
    await browser.close();
  }
});

test('the wall screen gets its own token from its address and shows its unit live', { skip: !SCREEN_URL && 'OHJAAMO_SCREEN_URL not set' }, async () => {
  const browser = await launch();
  try {
    const page = await openPage(browser);
    const streams = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/stream') streams.push({ url: r.url(), auth: r.headers().authorization ?? null });
    });
    await page.goto(SCREEN_URL);
    await waitLive(page, 30_000);
    assert.equal(new URL(page.url()).hash, '', 'the credential is gone from the address bar');
    assert.ok(streams.length > 0, 'the live stream was opened');
    for (const s of streams) {
      assert.match(s.auth ?? '', /^Bearer /, 'the stream carries the token in a header');
      assert.doesNotMatch(s.url, /token|secret/i, 'and nothing secret in its URL');
      assert.ok(new URL(s.url).searchParams.get('unit'), 'a confined screen names its unit');
    }
    assert.notEqual(await page.locator('#bays').count(), 0);
    assertNoErrors(page);
    await closePage(page);
  } finally {
    await browser.close();
  }
});
