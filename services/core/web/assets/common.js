// What both displays share: the live picture over `/stream` (snapshot, events,
// resync, staleness, reconnecting by itself), the sources' staleness from `/sources`,
// fetch helpers, the server's clock, formatting in Finnish conventions, the page
// header (clock, data age, language switch) and the banners.
//
// The rule everything here serves: a wall screen must never show a number it cannot
// vouch for without saying so. When the stream is not open, has said nothing for
// STALE_AFTER_MS, or a source the core reads from is stale, the page's figures turn
// grey (`body.stale`) and a banner says plainly what is wrong and since when.

import { t, locale, language, setLanguage, initialLanguage, LANGUAGES } from './i18n.js';
import * as auth from './auth.js';
import { FetchEventSource } from './sse.js';

/** Nothing (event or heartbeat) for this long: the connection is stale. */
export const STALE_AFTER_MS = 40_000;
/** A stream that is not OPEN for longer than this counts as stale (a reconnect that
 * takes a moment does not flash the banner). */
const NOT_OPEN_GRACE_MS = 2_000;
/** Consecutive errors of one EventSource before it is closed and reopened by us. */
const ERRORS_BEFORE_REOPEN = 3;
const BACKOFF_MIN_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;
/** After a `resync`, how long to wait for the snapshot on the same connection. */
const RESYNC_WAIT_MS = 5_000;
const SOURCES_EVERY_MS = 10_000;
const VERSION_EVERY_MS = 10 * 60_000;

// ---------------------------------------------------------------------------
// The server's clock. A wall PC's clock is often minutes off; times in recovery and
// "ends in" are computed against the server's time, learnt from heartbeats and from
// the `time` fields of `/sources` and `/picture/beds` (the HTTP `Date` header serves
// only until one of those arrives: it is the web server's wall clock, which in the
// demo is not the core's). The demo's core follows its simulated hospital, whose
// clock runs faster than real time: the rate is learnt from successive instants, so
// the screen's clock does not fall behind between heartbeats.

/** The last server instant taken as the reference, and when it was received. */
let anchor = null;
/** Server milliseconds per local millisecond: 1, except in the demo. */
let clockRate = 1;
let heardCoreTime = false;

/** Notes a server instant just received; later `now()` calls follow the server.
 * `resolution` is how coarse the instant is (an HTTP Date header: whole seconds);
 * `fromHeader` marks the web server's `Date`, a fallback only. */
export function noteServerTime(iso, resolution = 0, { fromHeader = false } = {}) {
  const server = Date.parse(iso);
  if (Number.isNaN(server)) return;
  if (fromHeader && heardCoreTime) return;
  const local = Date.now();
  if (!fromHeader) {
    if (heardCoreTime && anchor && local - anchor.local >= 2_000) {
      const rate = (server - anchor.server) / (local - anchor.local);
      // Within 5 % of real time is real time (transport jitter, a wall clock's drift).
      clockRate = rate > 0 && Math.abs(rate - 1) >= 0.05 ? rate : 1;
    }
    heardCoreTime = true;
  }
  // Differences within the transport's noise are not a wrong clock.
  if (!anchor || Math.abs(server - serverTimeAt(local)) > 1_000 + resolution) {
    anchor = { server, local };
  }
}

/** The server's time at the local instant `local` (milliseconds since the epoch). */
export function serverTimeAt(local) {
  if (!anchor) return local;
  return anchor.server + (local - anchor.local) * clockRate;
}

/** Now, in milliseconds since the epoch, by the server's clock. */
export function now() {
  return serverTimeAt(Date.now());
}

// ---------------------------------------------------------------------------
// Formatting: Finnish conventions in every language (14.05, 2.12.2026).

const formatters = new Map();
function formatter(options, timeZone) {
  const key = `${locale()}|${timeZone || ''}|${JSON.stringify(options)}`;
  let f = formatters.get(key);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat(locale(), { ...options, timeZone: timeZone || undefined });
    } catch {
      // an unknown zone in the data: the browser's own rather than nothing
      f = new Intl.DateTimeFormat(locale(), options);
    }
    formatters.set(key, f);
  }
  return f;
}

function ms(instant) {
  if (instant == null) return NaN;
  return typeof instant === 'number' ? instant : Date.parse(instant);
}

function parts(instant, timeZone, options) {
  const out = {};
  for (const p of formatter(options, timeZone).formatToParts(new Date(ms(instant)))) {
    out[p.type] = p.value;
  }
  return out;
}

/** `14.05` (or `14.05.32` with seconds) in `timeZone`. */
export function fmtTime(instant, timeZone, { seconds = false } = {}) {
  if (Number.isNaN(ms(instant))) return '—';
  const p = parts(instant, timeZone, {
    hour: '2-digit',
    minute: '2-digit',
    ...(seconds ? { second: '2-digit' } : {}),
    hourCycle: 'h23',
  });
  return [p.hour, p.minute, seconds ? p.second : null].filter(Boolean).join('.');
}

/** `2.12.2026` in `timeZone`. */
export function fmtDate(instant, timeZone) {
  if (Number.isNaN(ms(instant))) return '—';
  const p = parts(instant, timeZone, { day: 'numeric', month: 'numeric', year: 'numeric' });
  return `${Number(p.day)}.${Number(p.month)}.${p.year}`;
}

/** `ke 2.12.2026` */
export function fmtDay(instant, timeZone) {
  const weekday = parts(instant, timeZone, { weekday: 'short' }).weekday || '';
  return `${weekday.replace(/\.$/, '')} ${fmtDate(instant, timeZone)}`.trim();
}

function localDayKey(instant, timeZone) {
  const p = parts(instant, timeZone, { day: 'numeric', month: 'numeric', year: 'numeric' });
  return `${p.year}-${p.month}-${p.day}`;
}

/** Whether `instant` falls on today's local date in `timeZone`. */
export function isToday(instant, timeZone) {
  return !Number.isNaN(ms(instant)) && localDayKey(instant, timeZone) === localDayKey(now(), timeZone);
}

/** `3.12.` */
export function fmtDayMonth(instant, timeZone) {
  if (Number.isNaN(ms(instant))) return '—';
  const p = parts(instant, timeZone, { day: 'numeric', month: 'numeric' });
  return `${Number(p.day)}.${Number(p.month)}.`;
}

/** `14.05` today, `3.12. 14.05` another day this year, `3.12.2027 14.05` otherwise. */
export function fmtWhen(instant, timeZone) {
  if (Number.isNaN(ms(instant))) return '—';
  const time = fmtTime(instant, timeZone);
  if (localDayKey(instant, timeZone) === localDayKey(now(), timeZone)) return time;
  const p = parts(instant, timeZone, { day: 'numeric', month: 'numeric', year: 'numeric' });
  const thisYear = parts(now(), timeZone, { year: 'numeric' }).year;
  const date = p.year === thisYear ? `${Number(p.day)}.${Number(p.month)}.` : fmtDate(instant, timeZone);
  return `${date} ${time}`;
}

/** When a bed frees: `14.05` today; a local midnight means "during the day before",
 * so `2026-12-07T22:00Z` in Helsinki is `7.12.` (or `tänään`, `huomenna`). */
export function fmtFreeing(instant, timeZone) {
  const at = ms(instant);
  if (Number.isNaN(at)) return '—';
  const p = parts(at, timeZone, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  if (p.hour !== '00' || p.minute !== '00') return fmtWhen(at, timeZone);
  const day = at - 1; // the last moment of the day before
  const key = localDayKey(day, timeZone);
  if (key === localDayKey(now(), timeZone)) return t('day.today');
  if (key === localDayKey(now() + 86_400_000, timeZone)) return t('day.tomorrow');
  const d = parts(day, timeZone, { day: 'numeric', month: 'numeric', year: 'numeric' });
  return `${Number(d.day)}.${Number(d.month)}.`;
}

/** `45 min`, `1 h 05 min`, `26 h 10 min` from whole minutes (negative counts as 0). */
export function fmtMinutes(minutes) {
  const m = Math.max(0, Math.floor(minutes));
  if (m < 60) return t('dur.min', { m });
  const h = Math.floor(m / 60);
  const rest = m % 60;
  return rest === 0 ? t('dur.h', { h }) : t('dur.hmin', { h, m: String(rest).padStart(2, '0') });
}

/** Whole minutes from `from` to `to` (instants or ms). */
export function minutesBetween(from, to) {
  return Math.floor((ms(to) - ms(from)) / 60_000);
}

export function fmtNumber(n) {
  if (n == null || Number.isNaN(Number(n))) return '—';
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: 0 }).format(n);
}

/** `75 %` from a percentage 0…100 (or more); `—` for null. */
export function fmtPercent(p) {
  if (p == null || Number.isNaN(Number(p))) return '—';
  return new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 0 }).format(p / 100);
}

/** Compares names the way people read them: `Sali 2` before `Sali 10`. */
export function byName(a, b) {
  return collator().compare(a ?? '', b ?? '');
}
let collators = new Map();
function collator() {
  let c = collators.get(locale());
  if (!c) {
    c = new Intl.Collator(locale(), { numeric: true, sensitivity: 'base' });
    collators.set(locale(), c);
  }
  return c;
}

// ---------------------------------------------------------------------------
// DOM helpers. Text from the data goes in as text nodes, never as HTML.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    // Through the CSSOM: a style attribute would be refused by the pages' CSP.
    else if (k === 'style') el.style.cssText = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces `el`'s children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Fills every `[data-i18n]` element with its string. */
export function applyStaticText(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
}

// ---------------------------------------------------------------------------
// Fetch helpers.

async function withTimeout(url, init = {}, timeoutMs = 10_000) {
  const once = async () => {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const headers = { ...(init.headers ?? {}), ...auth.headers() };
      return await fetch(url, { cache: 'no-store', ...init, headers, signal: abort.signal });
    } finally {
      clearTimeout(timer);
    }
  };
  const r = await once();
  // A token refused (expired while the tab slept, or revoked): renew once and retry.
  if (r.status === 401 && auth.enabled() && (await auth.renew())) return once();
  return r;
}

/** GET `url` as JSON: `{ok, status, body}`; `status` 0 when the server was not reached. */
export async function getJSON(url, { timeoutMs } = {}) {
  try {
    const r = await withTimeout(url, { headers: { Accept: 'application/json' } }, timeoutMs);
    const date = r.headers.get('date');
    if (date) noteServerTime(date, 1_000, { fromHeader: true });
    let body = null;
    try {
      body = await r.json();
    } catch {
      body = null;
    }
    return { ok: r.ok, status: r.status, body };
  } catch {
    return { ok: false, status: 0, body: null };
  }
}

/** A FHIR request: `{ok, status, body}`, `status` 0 when the server was not reached. */
export async function fhir(method, url, resource, headers = {}) {
  const init = {
    method,
    headers: { Accept: 'application/fhir+json', ...headers },
  };
  if (resource !== undefined) {
    init.headers['Content-Type'] = 'application/fhir+json';
    init.body = JSON.stringify(resource);
  }
  try {
    const r = await withTimeout(url, init, 15_000);
    const text = await r.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    return { ok: r.ok, status: r.status, body };
  } catch {
    return { ok: false, status: 0, body: null };
  }
}

/** A random UUID (v4). `crypto.randomUUID` exists only in secure contexts, and a
 * hospital LAN often serves plain http. */
export function uuid4() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

// ---------------------------------------------------------------------------
// The live picture.

/**
 * The units of `/stream` (filtered by `query`, e.g. `{kind: 'ward'}`), kept current:
 * snapshot first, then `picture` events replace one unit each. Reconnects by itself
 * (the browser resumes with Last-Event-ID; after repeated errors we reopen with
 * `?after=` and back off), drops everything and starts over on `resync`, and tells
 * `onChange()` whenever the units or the connection's state changed.
 */
export class LivePicture {
  constructor({ query = {}, onChange = () => {} } = {}) {
    this.query = query;
    this.onChange = onChange;
    this.units = new Map();
    this.sequence = null;
    this.epoch = null;
    this.timeZone = null;
    this.hasData = false;
    this.es = null;
    this.errors = 0;
    this.attempt = 0;
    this.reopenTimer = null;
    this.resyncTimer = null;
    this.needFresh = false;
    this.resyncing = false;
    this.lastEventAt = null; // client clock, last event or heartbeat
    this.lastDataAt = null; // client clock, last snapshot or picture
    this.notOpenSince = Date.now();
    this.staleSince = null; // client clock, when it went stale
    this.unreachable = false;
    this.stale = true;
  }

  start() {
    this.open({ fresh: true });
    this.ticker = setInterval(() => this.tick(), 1_000);
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') this.tick(true);
    });
    window.addEventListener('online', () => this.reopenSoon(0));
  }

  /** Units of `kind`, in the snapshot's order. */
  ofKind(kind) {
    return [...this.units.values()].filter((u) => u.kind === kind);
  }

  unit(kind, id) {
    return this.units.get(`${kind}|${id}`);
  }

  url(fresh) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(this.query)) if (v != null && v !== '') q.set(k, v);
    if (!fresh && this.hasData && this.sequence != null) {
      // The epoch too: if the log's history changed meanwhile, the server resyncs us.
      q.set('after', this.epoch ? `${this.sequence}@${this.epoch}` : String(this.sequence));
    }
    const text = q.toString();
    return `/stream${text ? `?${text}` : ''}`;
  }

  open({ fresh }) {
    clearTimeout(this.reopenTimer);
    this.reopenTimer = null;
    if (this.es) {
      this.es.close();
      this.es = null;
    }
    if (fresh) this.drop();
    this.needFresh = false;
    this.errors = 0;
    this.notOpenSince = this.notOpenSince ?? Date.now();
    // With a token the stream goes over fetch (EventSource cannot send headers); a
    // refused token is renewed before the next attempt.
    const es = auth.enabled() ? new FetchEventSource(this.url(fresh), auth.headers) : new EventSource(this.url(fresh));
    this.es = es;
    es.addEventListener('open', () => {
      if (es !== this.es) return;
      this.errors = 0;
      this.notOpenSince = null;
      this.lastEventAt = Date.now();
      this.tick();
    });
    es.addEventListener('error', (e) => {
      if (es !== this.es) return;
      if (e?.status === 401) auth.renew();
      if (this.notOpenSince == null) this.notOpenSince = Date.now();
      this.errors += 1;
      if (this.needFresh || es.readyState === EventSource.CLOSED || this.errors >= ERRORS_BEFORE_REOPEN) {
        // The browser gave up (a non-2xx answer), or keeps failing, or the server
        // closed after `resync` (whose reconnect must not resume): we reopen, slower
        // each time.
        es.close();
        this.reopenSoon(this.backoff(), { fresh: this.needFresh || !this.hasData });
      }
      this.tick();
    });
    es.addEventListener('snapshot', (e) => this.guard(es, () => this.onSnapshot(e)));
    es.addEventListener('picture', (e) => this.guard(es, () => this.onPicture(e)));
    es.addEventListener('resync', (e) => this.guard(es, () => this.onResync(e)));
    es.addEventListener('heartbeat', (e) => this.guard(es, () => this.onHeartbeat(e)));
  }

  guard(es, f) {
    if (es !== this.es) return;
    this.lastEventAt = Date.now();
    this.notOpenSince = null;
    try {
      f();
    } catch (err) {
      // A body we cannot read: start over rather than show half of it.
      console.warn('ohjaamo: unreadable stream event, starting over', err);
      this.needFresh = true;
      this.reopenSoon(this.backoff(), { fresh: true });
    }
    this.tick();
  }

  backoff() {
    this.attempt += 1;
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(this.attempt - 1, 10));
    return base / 2 + Math.random() * (base / 2);
  }

  reopenSoon(delay, { fresh = false } = {}) {
    clearTimeout(this.reopenTimer);
    const wantFresh = fresh || this.needFresh;
    this.reopenTimer = setTimeout(() => this.open({ fresh: wantFresh }), delay);
  }

  drop() {
    this.units = new Map();
    this.sequence = null;
    this.epoch = null;
    this.hasData = false;
    this.lastDataAt = null;
  }

  onSnapshot(e) {
    const body = JSON.parse(e.data);
    const units = new Map();
    for (const u of body.units || []) units.set(`${u.kind}|${u.id}`, u);
    this.units = units;
    this.sequence = Number(body.sequence);
    this.epoch = body.epoch || null;
    this.timeZone = body.timeZone || this.timeZone;
    this.hasData = true;
    this.resyncing = false;
    this.needFresh = false;
    clearTimeout(this.resyncTimer);
    this.lastDataAt = Date.now();
    this.attempt = 0;
    this.onChange({ type: 'snapshot' });
  }

  onPicture(e) {
    if (!this.hasData) return; // a resync dropped everything; the snapshot follows
    const unit = JSON.parse(e.data);
    const sequence = Number(unit.sequence);
    const key = `${unit.kind}|${unit.id}`;
    const held = this.units.get(key);
    const otherEpoch = Boolean(unit.epoch && this.epoch && unit.epoch !== this.epoch);
    if (!otherEpoch && held && Number(held.sequence) >= sequence) return; // a repeat
    if (otherEpoch || (held && unit.previous != null && held.sequence != null && Number(unit.previous) > Number(held.sequence))) {
      // An event of this unit went missing: what we hold cannot be vouched for.
      console.warn(`ohjaamo: gap for ${key} (${held.sequence} → previous ${unit.previous}); new snapshot`);
      this.needFresh = true;
      this.resyncing = true;
      this.drop();
      this.onChange({ type: 'resync' });
      this.reopenSoon(0, { fresh: true });
      return;
    }
    unit.sequence = sequence;
    this.units.set(key, unit);
    if (this.sequence == null || sequence > this.sequence) this.sequence = sequence;
    this.lastDataAt = Date.now();
    this.attempt = 0;
    this.onChange({ type: 'unit', unit });
  }

  onResync(e) {
    let reason = '';
    try {
      reason = JSON.parse(e.data).reason || '';
    } catch {
      reason = '';
    }
    console.info(`ohjaamo: resync (${reason})`);
    this.drop();
    this.resyncing = true;
    // A snapshot follows on this connection, or the server closes it; then (or if
    // nothing comes) a new connection without Last-Event-ID.
    this.needFresh = true;
    clearTimeout(this.resyncTimer);
    this.resyncTimer = setTimeout(() => {
      if (!this.hasData) this.open({ fresh: true });
    }, RESYNC_WAIT_MS);
    this.onChange({ type: 'resync' });
  }

  onHeartbeat(e) {
    this.attempt = 0;
    try {
      const beat = JSON.parse(e.data);
      if (beat.time) noteServerTime(beat.time);
    } catch {
      // a heartbeat is a heartbeat even if its body is odd
    }
  }

  /** Re-evaluates staleness; reconnects a stream that went silent. */
  tick(force = false) {
    const at = Date.now();
    const es = this.es;
    const open = es && es.readyState === EventSource.OPEN;
    if (open && this.lastEventAt != null && at - this.lastEventAt > STALE_AFTER_MS) {
      // Open but silent past the heartbeat: the connection may be half-dead (a NAT or
      // proxy dropped it). Reopen, resuming after what we have.
      this.lastEventAt = at;
      this.notOpenSince = at;
      this.open({ fresh: !this.hasData });
    } else if (force && (!es || es.readyState === EventSource.CLOSED)) {
      this.open({ fresh: !this.hasData });
    }
    const notOpenTooLong = this.notOpenSince != null && at - this.notOpenSince > NOT_OPEN_GRACE_MS;
    const silent = this.lastEventAt == null || at - this.lastEventAt > STALE_AFTER_MS;
    const stale = !this.hasData || notOpenTooLong || silent;
    this.unreachable = notOpenTooLong;
    if (stale && !this.stale) this.staleSince = this.lastEventAt ?? at;
    if (!stale) this.staleSince = null;
    const changed = stale !== this.stale;
    this.stale = stale;
    if (changed) this.onChange({ type: 'status' });
  }

  /** `connecting` (no data yet), `resync` (dropped, a snapshot is coming), `stale`
   * (data held but not vouched for), `live`. */
  status() {
    if (!this.hasData) return this.resyncing ? 'resync' : 'connecting';
    return this.stale ? 'stale' : 'live';
  }
}

// ---------------------------------------------------------------------------
// Sources (`/sources`): a stale source gets a banner. A server without the route
// (404) is left alone.

export class Sources {
  constructor({ onChange = () => {} } = {}) {
    this.onChange = onChange;
    this.stale = [];
    this.available = true;
  }

  start() {
    // A credential without the sources' scope (a coordinator, a wall screen:
    // docs/security.md) is not shown them; asking would only be refused.
    if (!auth.grants('ohjaamo.sources.read')) {
      this.available = false;
      return;
    }
    this.poll();
    this.timer = setInterval(() => this.poll(), SOURCES_EVERY_MS);
  }

  async poll() {
    if (!this.available) return;
    const r = await getJSON('/sources');
    // 403: this credential may not read the sources (a coordinator or a wall screen:
    // docs/security.md); the stream's own staleness still shows a lost feed.
    if (r.status === 404 || r.status === 403) {
      this.available = false;
      clearInterval(this.timer);
      // The route may come with an upgrade; the version check reloads the page then.
      return;
    }
    if (!r.ok || !r.body) return; // the stream's own staleness covers a lost server
    if (r.body.time) noteServerTime(r.body.time);
    const stale = (r.body.sources || []).filter((src) => src.stale);
    const key = (list) => JSON.stringify(list.map((x) => [x.name, x.lastSuccess, x.staleReason]));
    const changed = key(stale) !== key(this.stale);
    this.stale = stale;
    if (changed) this.onChange();
  }
}

// ---------------------------------------------------------------------------
// A tab open for days reloads itself after the server was upgraded.

export function watchVersion(onReloading) {
  let first = null;
  const check = async () => {
    const r = await getJSON('/displays/version');
    if (!r.ok || !r.body?.version) return;
    if (first == null) first = r.body.version;
    else if (r.body.version !== first) {
      onReloading?.();
      setTimeout(() => location.reload(), 3_000);
    }
  };
  check();
  setInterval(check, VERSION_EVERY_MS);
}

// ---------------------------------------------------------------------------
// The page frame: language, header, banners.

/** Sets the language from `?lang=` or storage; returns it. */
export function startLanguage() {
  const lang = initialLanguage();
  setLanguage(lang, { store: false });
  return lang;
}

/** The language switch: a button per language; `onSwitch()` re-renders the page. */
export function languageSwitch(container, onSwitch) {
  const render = () => {
    fill(
      container,
      h('span', { class: 'lang-label' }, t('lang.switch')),
      LANGUAGES.map((lang) =>
        h(
          'button',
          {
            type: 'button',
            class: 'lang-button',
            lang,
            'aria-pressed': String(lang === language()),
            title: t('lang.name'),
            dataset: { lang },
            onclick: () => {
              setLanguage(lang);
              const url = new URL(location.href);
              url.searchParams.set('lang', lang);
              history.replaceState(null, '', url);
              render();
              onSwitch();
            },
          },
          lang.toUpperCase(),
        ),
      ),
    );
  };
  render();
  return render;
}

/**
 * The banners and the status line for `live` (a LivePicture) and `sources`, in zone
 * `timeZone()`; sets `body.stale` when figures cannot be vouched for.
 */
export function renderStatus({ live, sources, timeZone, banners, status, extra = [] }) {
  const zone = timeZone();
  const state = live.status();
  const list = [];
  if (state === 'connecting') {
    list.push(live.unreachable ? ['connection', 'alarm', t('banner.connectionNever')] : ['loading', 'info', t('banner.loading')]);
  } else if (state === 'resync') {
    list.push(['resync', 'warn', t('banner.resync')]);
  } else if (state === 'stale') {
    const since = live.staleSince ?? live.lastEventAt;
    list.push([
      'connection',
      'alarm',
      since ? t('banner.connection', { since: fmtWhen(serverTimeAt(since), zone) }) : t('banner.connectionNever'),
    ]);
  }
  for (const src of sources?.stale ?? []) {
    const name = src.name || src.kind || '?';
    const text = src.lastSuccess
      ? t('banner.source', { name, since: fmtWhen(src.lastSuccess, zone) })
      : t('banner.sourceUnknownSince', { name });
    list.push(['source', 'alarm', text, src.staleReason ? t('banner.sourceReason', { reason: src.staleReason }) : null, name]);
  }
  list.push(...extra);
  fill(
    banners,
    list.map(([kind, level, text, detail, name]) =>
      h(
        'div',
        { class: ['banner', `banner-${level}`], role: level === 'alarm' ? 'alert' : 'status', dataset: { banner: kind, ...(name ? { source: name } : {}) } },
        h('span', { class: 'banner-icon', 'aria-hidden': 'true' }, level === 'info' ? '…' : '!'),
        h('span', { class: 'banner-text' }, text, detail ? h('small', {}, ` ${detail}`) : null),
      ),
    ),
  );
  const cannotVouch = state !== 'live' || (sources?.stale?.length ?? 0) > 0;
  document.body.classList.toggle('stale', cannotVouch);
  document.body.dataset.connection = state;

  // The status line: a dot and how old the data is.
  const last = live.lastEventAt;
  const age = last == null ? null : Math.max(0, Math.round((Date.now() - last) / 1000));
  fill(
    status,
    h('span', { class: ['dot', `dot-${state}`], 'aria-hidden': 'true' }),
    h(
      'span',
      { class: 'status-text' },
      h('strong', {}, t(state === 'live' ? 'status.live' : state === 'stale' ? 'status.stale' : 'status.connecting')),
      last == null
        ? null
        : h(
            'span',
            { class: 'status-age', dataset: { ageSeconds: String(age) } },
            ` · ${t('status.updated', { time: fmtTime(serverTimeAt(last), zone, { seconds: true }) })}`,
            age >= 5 ? ` (${t('status.age', { age: fmtAge(age) })})` : '',
          ),
    ),
  );
}

function fmtAge(seconds) {
  if (seconds < 90) return `${seconds} s`;
  return fmtMinutes(seconds / 60);
}

/** The header clock: `14.05` and `ke 2.12.2026`. */
export function renderClock(el, timeZone) {
  const at = now();
  fill(el, h('span', { class: 'clock-time' }, fmtTime(at, timeZone)), h('span', { class: 'clock-date' }, fmtDay(at, timeZone)));
}

/** Calls `render` at most once per `ms` (the next frame of work, not every event). */
export function coalesce(render, delay = 30) {
  let timer = null;
  return () => {
    if (timer != null) return;
    timer = setTimeout(() => {
      timer = null;
      render();
    }, delay);
  };
}
