// What the browser tests share: the URLs of the core and the simulator, Debian's
// headless Chromium driven by playwright-core (never a downloaded browser), pages
// that collect console errors, reading the core and the simulator, waiting, and a
// TCP proxy that can cut a display's connection like a broken network does.

import net from 'node:net';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const CORE = (process.env.OHJAAMO_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
export const SIM = (process.env.OHJAAMO_SIM_URL || 'http://127.0.0.1:8090').replace(/\/$/, '');
export const HOLD_SYSTEM = 'https://ohjaamo.fi/fhir/NamingSystem/bed-hold';

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A page at 1920×1080 in a context of its own (its own localStorage), recording every
 * `pageerror` and console error. `allowed(message)` may excuse one console error:
 * only the reservation test's deliberate 409/412 requests are excused (`deliberate`).
 */
export async function openPage(browser, { base = CORE, viewport = { width: 1920, height: 1080 } } = {}) {
  const context = await browser.newContext({ viewport, locale: 'fi-FI', timezoneId: 'Europe/Helsinki' });
  const page = await context.newPage();
  const errors = [];
  const excused = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    const url = m.location()?.url ?? '';
    if (page.excuse?.(text, url)) excused.push(`${text} ${url}`);
    else errors.push(`console error: ${text} (${url})`);
  });
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  page.requests = requests;
  page.errors = errors;
  page.excused = excused;
  page.base = base;
  page.context_ = context;
  return page;
}

/** Excuses exactly the browser's network-status line of a deliberate 409 or 412
 * answer to a hold request (`/fhir/Slot…`), nothing else. */
export function deliberate(text, url) {
  return (
    /^Failed to load resource: the server responded with a status of (409 \(Conflict\)|412 \(Precondition Failed\))$/.test(text) &&
    new URL(url, CORE).pathname.startsWith('/fhir/Slot')
  );
}

export function assertNoErrors(page) {
  assert.deepEqual(page.errors, [], `errors on ${page.url()}`);
}

/** Everything the page loaded came from the core: no CDN, no external fonts. */
export function assertOnlyFromCore(page) {
  const origin = new URL(page.base).origin;
  const outside = page.requests.filter((u) => !u.startsWith('data:') && new URL(u).origin !== origin);
  assert.deepEqual(outside, [], 'requests outside the core');
}

export async function closePage(page) {
  await page.context_.close();
}

export async function getJSON(url, init = {}) {
  const r = await fetch(url, { ...init, headers: { Accept: 'application/json', ...(init.headers || {}) } });
  const text = await r.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: r.status, body, headers: r.headers };
}

export async function picture(query = '') {
  const r = await getJSON(`${CORE}/picture${query}`);
  assert.equal(r.status, 200, `GET /picture${query}`);
  return r.body;
}

export async function fhir(method, path, body, headers = {}) {
  return getJSON(`${CORE}/fhir${path}`, {
    method,
    headers: { 'Content-Type': 'application/fhir+json', Accept: 'application/fhir+json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Moves the stopped simulator clock on by `minutes`. */
export async function advance(minutes) {
  const r = await fetch(`${SIM}/ohjaus/eteenpain?minuutit=${minutes}`, { method: 'POST' });
  assert.ok(r.ok, `the simulator moves on (${r.status})`);
  await r.text();
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `probe()` until it returns something truthy (returned), at most `timeout` ms.
 * On timeout, fails with `what` and the last thing `probe` returned or threw.
 */
export async function eventually(what, probe, { timeout = 10_000, every = 100 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last && !(last instanceof Mismatch)) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Mismatch ? last.detail : last instanceof Error ? last.stack : JSON.stringify(last);
      assert.fail(`${what}: not within ${timeout} ms; last: ${detail}`);
    }
    await sleep(every);
  }
}

/** A probe's "not yet", with what differed. */
export class Mismatch {
  constructor(detail) {
    this.detail = detail;
  }
}

/** `null` when `actual` deep-equals `expected`, else a Mismatch naming the first difference. */
export function compare(actual, expected) {
  try {
    assert.deepStrictEqual(actual, expected);
    return null;
  } catch (e) {
    return new Mismatch(e.message.slice(0, 3000));
  }
}

/** Waits until the display says it is live (`body[data-connection=live]`). */
export async function waitLive(page, timeout = 15_000) {
  await page.waitForFunction(() => document.body.dataset.connection === 'live', null, { timeout });
}

/**
 * A TCP proxy in front of the core. `cut()` closes every connection through it and
 * refuses new ones, as a broken network or a restarting load balancer does;
 * `restore()` lets connections through again. `requests` holds the head of every
 * HTTP request seen (to check what a reconnecting EventSource sent).
 */
export async function proxy(target = CORE) {
  const { hostname, port } = new URL(target);
  const sockets = new Set();
  const requests = [];
  let open = true;
  const server = net.createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(port), hostname);
    sockets.add(client);
    sockets.add(upstream);
    let head = '';
    client.on('data', (chunk) => {
      if (head.length < 8192) {
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end >= 0) {
          requests.push(head.slice(0, end));
          head = head.slice(end + 4);
        }
      }
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    restore() {
      open = true;
    },
    close() {
      open = false;
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Text that must never be on a display: identity codes, the source's placeholder names. */
export function personalData(text) {
  const found = [];
  const hetu = text.match(/\b\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]\b/);
  if (hetu) found.push(`identity code ${hetu[0]}`);
  for (const name of ['Potilas^', 'Testi Äijä', 'Äijä']) if (text.includes(name)) found.push(`name ${name}`);
  return found;
}
