// The ward bed board: per unit beds free now, freeing today and tomorrow, held,
// over capacity, patients, beds and occupancy, filtered by site, unit kind and
// specialty; a ward's beds; and holding a bed for an incoming patient over FHIR
// (a `busy-tentative` Slot with an expiry), confirming and releasing it.
// See docs/displays.md.

import { t } from './i18n.js';
import * as auth from './auth.js';
import {
  LivePicture,
  Sources,
  applyStaticText,
  byName,
  coalesce,
  fhir,
  fill,
  fmtFreeing,
  fmtNumber,
  fmtPercent,
  fmtTime,
  fmtWhen,
  getJSON,
  h,
  languageSwitch,
  noteServerTime,
  now,
  renderClock,
  renderStatus,
  startLanguage,
  uuid4,
  watchVersion,
} from './common.js';

export const HOLD_SYSTEM = 'https://ohjaamo.fi/fhir/NamingSystem/bed-hold';
const CONFLICT_SYSTEM = 'https://ohjaamo.fi/fhir/CodeSystem/bed-hold-conflict';
/** A confirmed hold keeps the bed at least this long from the confirmation. */
const CONFIRM_KEEPS_MINUTES = 60;
const MESSAGE_SECONDS = 20;
/** A ward's beds are read again this often even without events (occupied until…). */
const BEDS_EVERY_MS = 60_000;

startLanguage();

const el = (id) => document.getElementById(id);
const live = new LivePicture({ query: { kind: 'ward' }, onChange: (change) => onLive(change) });
const sources = new Sources({ onChange: () => schedule() });
let reloading = false;
const schedule = coalesce(render);

// What the page shows: the filters and the ward opened, all in the URL.
const view = readUrl();
function readUrl() {
  const p = new URLSearchParams(location.search);
  return {
    site: p.get('site') || '',
    kind: p.get('kind') || '',
    specialty: p.get('specialty') || '',
    unit: p.get('unit') || '',
  };
}
function writeUrl({ push = false } = {}) {
  const url = new URL(location.href);
  for (const k of ['site', 'kind', 'specialty', 'unit']) {
    if (view[k]) url.searchParams.set(k, view[k]);
    else url.searchParams.delete(k);
  }
  if (push) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}

function wards() {
  return live.ofKind('ward');
}

function zone(unit) {
  return unit?.timeZone || beds.data?.timeZone || live.timeZone || 'Europe/Helsinki';
}

// ---------------------------------------------------------------- messages

let messages = [];
let messageSeq = 0;
function say(level, text, code = null) {
  const id = ++messageSeq;
  messages = [...messages.slice(-3), { id, level, text, code }];
  setTimeout(() => {
    messages = messages.filter((m) => m.id !== id);
    renderMessages();
  }, MESSAGE_SECONDS * 1000);
  renderMessages();
}

function renderMessages() {
  fill(
    el('messages'),
    messages.map((m) =>
      h(
        'div',
        { class: ['message', m.level], role: m.level === 'error' ? 'alert' : 'status', dataset: { code: m.code ?? '', level: m.level } },
        h('span', {}, m.text),
        h(
          'button',
          {
            type: 'button',
            class: 'btn secondary',
            onclick: () => {
              messages = messages.filter((x) => x.id !== m.id);
              renderMessages();
            },
          },
          t('beds.msg.close'),
        ),
      ),
    ),
  );
}

// ---------------------------------------------------------------- the board

function filtered() {
  return wards()
    .filter((w) => !view.site || w.site === view.site)
    .filter((w) => !view.kind || (w.unitKind ?? 'ward') === view.kind)
    .filter((w) => !view.specialty || w.specialty === view.specialty)
    .sort((a, b) => byName(a.siteName, b.siteName) || byName(a.name, b.name));
}

function options(values, selected) {
  return [
    h('option', { value: '', selected: selected === '' }, t('beds.filter.all')),
    values.map(([value, label]) => h('option', { value, selected: value === selected }, label)),
  ];
}

function select(key, label, values) {
  return h(
    'label',
    {},
    label,
    h(
      'select',
      {
        id: `filter-${key}`,
        name: key,
        onchange: (e) => {
          view[key] = e.target.value;
          writeUrl();
          schedule();
        },
      },
      options(values, view[key]),
    ),
  );
}

function sum(units, key) {
  let total = 0;
  for (const u of units) {
    const v = u.figures?.[key];
    if (typeof v === 'number') total += v;
  }
  return total;
}

function occupancy(percent) {
  if (percent == null) return h('span', { class: 'fig', dataset: { fig: 'occupancyPercent' } }, '—');
  const cls = percent >= 100 ? 'full' : percent >= 90 ? 'high' : '';
  return h(
    'span',
    { class: ['occ', cls] },
    h('span', { class: 'meter', 'aria-hidden': 'true' }, h('span', { style: `width:${Math.min(100, Math.max(0, percent))}%` })),
    h('span', { class: 'fig', dataset: { fig: 'occupancyPercent' } }, fmtPercent(percent)),
  );
}

function cell(key, value, { big = false, cls = '' } = {}) {
  return h(
    'td',
    { class: [big ? 'big' : '', value === 0 ? 'zero' : '', cls] },
    h('span', { class: 'fig', dataset: { fig: key } }, fmtNumber(value)),
  );
}

function renderBoard() {
  const all = wards();
  const sites = [...new Map(all.map((w) => [w.site, w.siteName ?? w.site])).entries()].sort((a, b) => byName(a[1], b[1]));
  const kinds = [...new Set(all.map((w) => w.unitKind ?? 'ward'))].sort().map((k) => [k, t(`beds.kind.${k}`)]);
  const specialties = [...new Set(all.map((w) => w.specialty).filter(Boolean))].sort(byName).map((s) => [s, s]);
  const units = live.hasData ? filtered() : [];
  const beds = sum(units, 'bedsOpen');
  const patients = sum(units, 'patients');
  const container = el('view');
  if (container.dataset.mode !== 'board') {
    container.dataset.mode = 'board';
    fill(container, h('div', { class: 'filters' }, h('div', { class: 'selects' }), h('div', { class: 'totals' })), h('div', { class: 'table' }));
    container.dataset.options = '';
  }
  // The selects are rebuilt only when their choices change, so that a live update
  // never closes a list someone is choosing from.
  const signature = JSON.stringify([sites, kinds, specialties, view.site, view.kind, view.specialty]);
  if (container.dataset.options !== signature) {
    container.dataset.options = signature;
    fill(
      container.querySelector('.selects'),
      select('site', t('beds.filter.site'), sites),
      select('kind', t('beds.filter.kind'), kinds),
      select('specialty', t('beds.filter.specialty'), specialties),
    );
  }
  fill(
    container.querySelector('.totals'),
      total('free', t('beds.col.freeNow'), live.hasData ? sum(units, 'freeNow') : null, 'freeNow'),
      total('', t('beds.col.freeingToday'), live.hasData ? sum(units, 'freeingToday') : null, 'freeingToday'),
      total('', t('beds.col.patients'), live.hasData ? patients : null, 'patients'),
      total('', t('beds.col.occupancy'), null, 'occupancyPercent', live.hasData && beds > 0 ? fmtPercent((100 * patients) / beds) : '—'),
  );
  const head = h(
    'thead',
    {},
    h(
      'tr',
      {},
      COLUMNS.map((k) => h('th', { scope: 'col' }, t(`beds.col.${k}`))),
      h('th', {}, ''),
    ),
  );
  const rows = units.map((w) => {
    const f = w.figures ?? {};
    const open = (e) => {
      e.preventDefault();
      e.stopPropagation();
      openUnit(w.id);
    };
    return labelled(h(
      'tr',
      { class: 'unit', dataset: { unitId: w.id, sequence: String(w.sequence ?? '') }, onclick: open },
      h(
        'td',
        {},
        h('a', { class: 'uname', href: `?unit=${encodeURIComponent(w.id)}`, onclick: open }, w.name ?? w.id),
        h('span', { class: 'usub' }, [w.siteName, w.specialty].filter(Boolean).join(' · ')),
      ),
      cell('freeNow', f.freeNow, { big: true, cls: ['free-now', f.freeNow === 0 ? 'none' : ''].join(' ') }),
      cell('freeingToday', f.freeingToday, { big: true }),
      cell('freeingTomorrow', f.freeingTomorrow),
      cell('reserved', f.reserved),
      cell('overCapacityPatients', f.overCapacityPatients, { cls: f.overCapacityPatients > 0 ? 'over' : '' }),
      cell('patients', f.patients),
      h(
        'td',
        {},
        h('span', { class: 'fig', dataset: { fig: 'bedsOpen' } }, fmtNumber(f.bedsOpen)),
        f.bedsClosed ? h('span', { class: 'usub' }, t('beds.closedBeds', { n: fmtNumber(f.bedsClosed) })) : null,
      ),
      h('td', {}, occupancy(f.occupancyPercent)),
      h('td', {}, h('button', { type: 'button', class: 'open-unit', onclick: open }, t('beds.open'))),
    ));
  });
  const table = h(
    'table',
    { class: 'units' },
    head,
    h('tbody', {}, rows),
    units.length > 1
      ? h(
          'tfoot',
          {},
          labelled(h(
            'tr',
            {},
            h('td', {}, t('beds.total')),
            ['freeNow', 'freeingToday', 'freeingTomorrow', 'reserved', 'overCapacityPatients', 'patients', 'bedsOpen'].map((k) =>
              h('td', {}, h('span', { class: 'fig', dataset: { total: k } }, fmtNumber(sum(units, k)))),
            ),
            h('td', {}, occupancy(beds > 0 ? (100 * patients) / beds : null)),
            h('td', {}),
          )),
        )
      : null,
  );
  fill(container.querySelector('.table'), live.hasData && units.length === 0 ? h('div', { class: 'empty' }, t('beds.none')) : table);
}

/** The board's columns, in order (their headings are `beds.col.<name>`). */
const COLUMNS = ['unit', 'freeNow', 'freeingToday', 'freeingTomorrow', 'reserved', 'overCapacity', 'patients', 'beds', 'occupancy'];

/** Gives each figure cell of `row` its column's heading as `data-label`: where the
 * board is too narrow for its columns (a tablet), a unit's figures go on a line of
 * their own under its name and each shows its heading (app.css). */
function labelled(row) {
  [...row.children].forEach((td, i) => {
    if (i > 0 && i < COLUMNS.length) td.dataset.label = t(`beds.col.${COLUMNS[i]}`);
  });
  return row;
}

function total(cls, label, value, key, text = null) {
  return h('div', { class: ['item', cls] }, h('span', { class: 'fig', dataset: { total: key } }, text ?? fmtNumber(value)), h('span', {}, label));
}

// ---------------------------------------------------------------- one ward's beds

/** The opened ward's beds: what `/picture/beds` said last, and the request state. */
const beds = { unit: null, data: null, status: null, loading: false, request: 0, expiryTimer: null, retryTimer: null };

function openUnit(id) {
  view.unit = id;
  writeUrl({ push: true });
  loadBeds();
  schedule();
}

function closeUnit() {
  view.unit = '';
  writeUrl({ push: true });
  schedule();
}

async function loadBeds() {
  const unit = view.unit;
  if (!unit) return;
  if (beds.unit !== unit) {
    beds.unit = unit;
    beds.data = null;
    beds.status = null;
  }
  const request = ++beds.request;
  beds.loading = true;
  const r = await getJSON(`/picture/beds?unit=${encodeURIComponent(unit)}`);
  if (request !== beds.request || beds.unit !== unit) return; // a newer request is on its way
  beds.loading = false;
  beds.status = r.status;
  clearTimeout(beds.retryTimer);
  if (r.ok && r.body) {
    if (r.body.time) noteServerTime(r.body.time);
    beds.data = r.body;
    beds.fetchedAt = Date.now();
    planExpiry();
  } else if (r.status !== 404) {
    // Keep what we had (shown grey with a note) and try again.
    beds.retryTimer = setTimeout(loadBeds, 5_000);
  }
  schedule();
}

/** Reads the beds again just after the first shown hold expires. */
function planExpiry() {
  clearTimeout(beds.expiryTimer);
  const at = now();
  const next = (beds.data?.beds ?? [])
    .map((b) => Date.parse(b.hold?.expires))
    .filter((x) => !Number.isNaN(x) && x > at - 60_000)
    .sort((a, b) => a - b)[0];
  if (next == null) return;
  beds.expiryTimer = setTimeout(
    () => {
      schedule(); // shows it expired at once
      loadBeds();
    },
    Math.max(250, next - at + 300),
  );
}

function bedName(bed) {
  return bed?.name ?? bed?.id ?? '?';
}

function renderWard() {
  const unit = live.unit('ward', view.unit);
  const f = unit?.figures ?? {};
  const zoneName = zone(unit);
  const head = h(
    'div',
    { class: 'ward-head', dataset: { unitId: view.unit, sequence: String(unit?.sequence ?? '') } },
    h('a', { class: 'back', href: '?', onclick: (e) => (e.preventDefault(), closeUnit()) }, t('beds.back')),
    h('div', {}, h('h2', {}, unit?.name ?? beds.data?.name ?? view.unit), h('div', { class: 'usub' }, [unit?.siteName, unit?.specialty].filter(Boolean).join(' · '))),
    h(
      'div',
      { class: 'figs' },
      [
        ['free', 'freeNow', 'beds.col.freeNow'],
        ['', 'freeingToday', 'beds.col.freeingToday'],
        ['', 'freeingTomorrow', 'beds.col.freeingTomorrow'],
        ['', 'reserved', 'beds.col.reserved'],
        ['', 'patients', 'beds.col.patients'],
        ['', 'bedsOpen', 'beds.col.beds'],
      ].map(([cls, key, label]) =>
        h('div', { class: ['item', cls] }, h('span', { class: 'fig', dataset: { fig: key } }, fmtNumber(f[key])), h('span', {}, t(label))),
      ),
      h('div', { class: 'item' }, h('span', { class: 'fig', dataset: { fig: 'occupancyPercent' } }, fmtPercent(f.occupancyPercent)), h('span', {}, t('beds.col.occupancy'))),
    ),
  );
  let body;
  if (!beds.data) {
    body = h(
      'div',
      { class: 'empty' },
      beds.status === 404 ? t(unit ? 'beds.ward.unavailable' : 'beds.ward.notFound') : beds.status && beds.status !== 200 ? t('beds.ward.failed', { status: beds.status }) : t('beds.ward.loading'),
    );
  } else {
    const rooms = new Map();
    for (const bed of beds.data.beds ?? []) {
      const key = bed.room ?? '';
      if (!rooms.has(key)) rooms.set(key, []);
      rooms.get(key).push(bed);
    }
    body = h(
      'div',
      { class: 'rooms' },
      beds.status && beds.status !== 200 ? h('div', { class: 'message error', role: 'alert' }, t('beds.ward.failed', { status: beds.status })) : null,
      [...rooms.entries()].map(([room, list]) =>
        h('section', { class: 'room' }, room ? h('h3', {}, room) : null, h('div', { class: 'bed-grid' }, list.map((b) => bedTile(b, zoneName)))),
      ),
    );
  }
  const container = el('view');
  container.dataset.mode = 'ward';
  fill(container, head, body);
}

function bedTile(bed, zoneName) {
  const at = now();
  const hold = bed.hold;
  const expires = Date.parse(hold?.expires);
  const expired = hold && !Number.isNaN(expires) && expires <= at;
  // A hold whose time is up no longer holds anything, whatever the last answer said.
  const state = bed.state === 'reserved' && expired ? 'free' : bed.state;
  const busy = pending.has(bed.id);
  const info = [];
  if (bed.overCapacity) info.push(h('div', { class: 'info' }, t('beds.bed.overCapacity')));
  if (state === 'occupied' && bed.occupiedUntil) {
    info.push(h('div', { class: 'info', dataset: { fig: 'occupied-until' } }, t('beds.bed.until', { when: fmtFreeing(bed.occupiedUntil, zoneName) })));
  }
  if (hold) {
    const key = expired ? 'beds.hold.expired' : hold.status === 'busy' ? 'beds.hold.confirmed' : 'beds.hold.tentative';
    info.push(h('div', { class: 'info', dataset: { fig: 'hold' } }, h('strong', {}, t(key, { time: fmtWhen(hold.expires, zoneName) }))));
    if (hold.note) info.push(h('div', { class: 'info' }, t('beds.hold.note', { note: hold.note })));
    // Who holds it: the server stamps the signed-in holder (docs/security.md).
    const holder = hold.heldByName ?? hold.heldBy;
    if (holder) info.push(h('div', { class: 'info', dataset: { fig: 'held-by' } }, t('beds.hold.by', { who: holder })));
  }
  const actions = [];
  if (state === 'free' && !bed.closed) {
    if (bed.schedule) {
      actions.push(h('button', { type: 'button', class: 'btn primary', dataset: { action: 'hold' }, disabled: busy, onclick: () => openHold(bed) }, t('beds.hold.do')));
    } else {
      info.push(h('div', { class: 'info' }, t('beds.bed.noSchedule')));
    }
  }
  if (hold && !expired) {
    if (hold.status === 'busy-tentative') {
      actions.push(h('button', { type: 'button', class: 'btn confirm', dataset: { action: 'confirm' }, disabled: busy, onclick: () => confirmHold(bed) }, t('beds.hold.confirm')));
    }
    actions.push(h('button', { type: 'button', class: 'btn danger', dataset: { action: 'release' }, disabled: busy, onclick: () => releaseHold(bed) }, t('beds.hold.release')));
  }
  return h(
    'article',
    {
      class: ['bed', expired ? 'expired' : ''],
      dataset: { bedId: bed.id, state, holdStatus: hold && !expired ? hold.status : '', overCapacity: String(Boolean(bed.overCapacity)) },
    },
    h(
      'div',
      { class: 'top' },
      h('span', { class: 'bname' }, bedName(bed)),
      h('span', { class: 'state' }, t(state === 'reserved' && hold?.status === 'busy' ? 'beds.bed.confirmed' : `beds.bed.${state}`)),
    ),
    info,
    actions.length ? h('div', { class: 'actions' }, actions) : null,
  );
}

// ---------------------------------------------------------------- holds

/** Beds with a request in flight: their buttons wait (a double click sends once). */
const pending = new Set();
/** The hold being made in the dialog: its bed and the identifier made when it opened. */
let draft = null;

function openHold(bed) {
  const dialog = el('hold-dialog');
  // One identifier per hold: a repeated submit is the same conditional update (200),
  // never a second hold.
  draft = { bed, unit: view.unit, uuid: uuid4(), sending: false };
  fill(el('hold-title'), t('beds.hold.dialog', { bed: bedName(bed) }));
  const unit = live.unit('ward', view.unit);
  fill(el('hold-sub'), [unit?.name, bed.room].filter(Boolean).join(' · '));
  el('hold-note').value = t('beds.hold.noteDefault');
  el('hold-minutes').value = '60';
  fill(el('hold-error'));
  setSubmitting(false);
  dialog.showModal();
}

function setSubmitting(on) {
  const button = el('hold-submit');
  button.disabled = on;
  button.textContent = on ? t('beds.hold.busy') : t('beds.hold.submit');
}

function closeDialog() {
  draft = null;
  const dialog = el('hold-dialog');
  if (dialog.open) dialog.close();
}

function conflictCode(outcome) {
  const issue = outcome?.issue?.[0];
  const coding = issue?.details?.coding?.find((c) => c.system === CONFLICT_SYSTEM) ?? issue?.details?.coding?.[0];
  return coding?.code ?? null;
}

function diagnostics(outcome) {
  return outcome?.issue?.map((i) => i.diagnostics ?? i.details?.text).filter(Boolean).join('; ') || '';
}

function holdUrl(uuid) {
  return `/fhir/Slot?identifier=${encodeURIComponent(`${HOLD_SYSTEM}|${uuid}`)}`;
}

/** Says what a refused hold means, in the reader's language, and shows the bed as it is now. */
function refused(bed, outcome) {
  const code = conflictCode(outcome);
  const key = ['held', 'occupied', 'closed'].includes(code) ? `beds.msg.conflict.${code}` : 'beds.msg.conflict.other';
  say('error', t(key, { bed: bedName(bed) }), code ?? 'conflict');
  loadBeds();
}

async function submitHold(event) {
  event.preventDefault();
  if (!draft || draft.sending) return;
  const { bed, uuid } = draft;
  const minutes = Number(el('hold-minutes').value) || 60;
  const note = el('hold-note').value.trim();
  const start = new Date(now());
  const end = new Date(start.getTime() + minutes * 60_000);
  const slot = {
    resourceType: 'Slot',
    identifier: [{ system: HOLD_SYSTEM, value: uuid }],
    schedule: { reference: bed.schedule },
    status: 'busy-tentative',
    start: start.toISOString(),
    end: end.toISOString(),
    ...(note ? { comment: note } : {}),
  };
  draft.sending = true;
  pending.add(bed.id);
  setSubmitting(true);
  fill(el('hold-error'));
  const r = await fhir('PUT', holdUrl(uuid), slot);
  pending.delete(bed.id);
  if (draft && draft.uuid === uuid) draft.sending = false;
  setSubmitting(false);
  if (r.status === 200 || r.status === 201) {
    closeDialog();
    say('ok', t('beds.msg.held', { bed: bedName(bed), time: fmtTime(r.body?.end ?? end, zone()) }), 'held-ok');
    loadBeds();
  } else if (r.status === 409) {
    closeDialog();
    refused(bed, r.body);
  } else if (r.status === 0) {
    // Nothing known to have changed; the same identifier makes a retry safe.
    fill(el('hold-error'), t('beds.msg.network'));
  } else {
    fill(el('hold-error'), t('beds.msg.failed', { status: r.status, detail: diagnostics(r.body) }));
  }
  schedule();
}

async function confirmHold(bed) {
  const hold = bed.hold;
  if (!hold || pending.has(bed.id)) return;
  pending.add(bed.id);
  schedule();
  try {
    const current = await fhir('GET', `/fhir/Slot/${encodeURIComponent(hold.slot)}`);
    if (current.status === 404 || current.status === 410) {
      say('error', t('beds.msg.gone', { bed: bedName(bed) }), 'gone');
      return;
    }
    if (!current.ok || !current.body) {
      say('error', current.status === 0 ? t('beds.msg.network') : t('beds.msg.failed', { status: current.status, detail: diagnostics(current.body) }), 'failed');
      return;
    }
    const slot = current.body;
    const uuid = slot.identifier?.find((i) => i.system === HOLD_SYSTEM)?.value;
    const keep = now() + CONFIRM_KEEPS_MINUTES * 60_000;
    const end = Math.max(Date.parse(slot.end) || 0, keep);
    const body = {
      resourceType: 'Slot',
      identifier: slot.identifier,
      schedule: slot.schedule,
      status: 'busy',
      start: slot.start,
      end: new Date(end).toISOString(),
      ...(slot.comment ? { comment: slot.comment } : {}),
    };
    // If-Match carries the version the coordinator saw on the board: a change made
    // meanwhile by someone else is 412, not overwritten.
    const url = uuid ? holdUrl(uuid) : `/fhir/Slot/${encodeURIComponent(hold.slot)}`;
    if (!uuid) body.id = hold.slot;
    const r = await fhir('PUT', url, body, { 'If-Match': `W/"${hold.versionId}"` });
    if (r.ok) say('ok', t('beds.msg.confirmed', { bed: bedName(bed) }), 'confirmed');
    else if (r.status === 412) say('error', t('beds.msg.changed', { bed: bedName(bed) }), 'changed');
    else if (r.status === 409) refused(bed, r.body);
    else say('error', r.status === 0 ? t('beds.msg.network') : t('beds.msg.failed', { status: r.status, detail: diagnostics(r.body) }), 'failed');
  } finally {
    pending.delete(bed.id);
    loadBeds();
    schedule();
  }
}

async function releaseHold(bed) {
  const hold = bed.hold;
  if (!hold || pending.has(bed.id)) return;
  pending.add(bed.id);
  schedule();
  try {
    const r = await fhir('DELETE', `/fhir/Slot/${encodeURIComponent(hold.slot)}`);
    if (r.ok) say('ok', t('beds.msg.released', { bed: bedName(bed) }), 'released');
    else if (r.status === 404 || r.status === 410) say('error', t('beds.msg.gone', { bed: bedName(bed) }), 'gone');
    else say('error', r.status === 0 ? t('beds.msg.network') : t('beds.msg.failed', { status: r.status, detail: diagnostics(r.body) }), 'failed');
  } finally {
    pending.delete(bed.id);
    loadBeds();
    schedule();
  }
}

// ---------------------------------------------------------------- the page

function onLive(change) {
  // The opened ward changed (a stay, a hold, an expiry): its beds are read again.
  if (view.unit && (change.type === 'snapshot' || (change.type === 'unit' && change.unit.id === view.unit))) loadBeds();
  schedule();
}

function extraBanners() {
  return reloading ? [['reload', 'info', t('banner.reloading')]] : [];
}

function render() {
  const unit = view.unit ? live.unit('ward', view.unit) : null;
  const title = unit?.name ?? (view.unit ? beds.data?.name : null);
  fill(el('title'), t('beds.title'));
  fill(el('subtitle'), title ?? '');
  document.title = `${title ? `${title} – ` : ''}${t('beds.title')} – Ohjaamo`;
  renderStatus({ live, sources, timeZone: () => zone(unit), banners: el('banners'), status: el('status'), extra: extraBanners() });
  if (view.unit) renderWard();
  else renderBoard();
  renderMessages();
  document.body.dataset.view = view.unit ? 'ward' : 'board';
  document.body.dataset.sequence = live.sequence == null ? '' : String(live.sequence);
}

function tick() {
  const unit = view.unit ? live.unit('ward', view.unit) : null;
  renderClock(el('clock'), zone(unit));
  renderStatus({ live, sources, timeZone: () => zone(unit), banners: el('banners'), status: el('status'), extra: extraBanners() });
}

/** Who is signed in, and the way out (nothing without authentication). */
function renderWho() {
  const me = auth.who();
  if (!me) return fill(el('who'));
  fill(
    el('who'),
    h('span', { class: 'who-name', id: 'who-name', title: t('auth.signedInAs', { name: me.name }) }, me.name),
    h('button', { type: 'button', class: 'btn secondary', id: 'sign-out', onclick: () => auth.signOut() }, t('auth.signOut')),
  );
}

/** The board before anyone has signed in: why, and the way in. */
function showSignIn(reason) {
  applyStaticText();
  document.body.dataset.view = 'signin';
  fill(el('who'));
  const problem = reason ? h('p', { class: 'error', role: 'alert', id: 'signin-error' }, t(`auth.error.${reason}`)) : null;
  fill(
    el('view'),
    h(
      'section',
      { class: 'signin', id: 'signin' },
      h('h2', {}, t('auth.title')),
      h('p', {}, t('auth.lead')),
      problem,
      h(
        'button',
        {
          type: 'button',
          class: 'btn primary',
          id: 'sign-in',
          onclick: () => auth.signIn().catch(() => showSignIn('insecure')),
        },
        t('auth.signIn'),
      ),
    ),
  );
}

/** Signs in first when the server asks for tokens, then starts the board. */
async function boot() {
  let signedIn = { error: null };
  languageSwitch(el('lang'), () => {
    applyStaticText();
    el('view').dataset.options = '';
    if (document.body.dataset.view === 'signin') showSignIn(signedIn.error);
    else {
      renderWho();
      render();
      tick();
    }
  });
  // A session that ends by itself (its refresh token expired or was revoked) brings
  // the sign-in back.
  signedIn = await auth.start('person', { onEnded: () => location.assign(`${location.pathname}${location.search}`) });
  if (!signedIn.signedIn) {
    showSignIn(signedIn.error);
    return;
  }
  renderWho();
  start();
}

function start() {
  applyStaticText();
  el('hold-form').addEventListener('submit', submitHold);
  el('hold-cancel').addEventListener('click', closeDialog);
  el('hold-dialog').addEventListener('close', () => {
    draft = null;
  });
  window.addEventListener('popstate', () => {
    Object.assign(view, readUrl());
    if (view.unit) loadBeds();
    schedule();
  });
  live.start();
  sources.start();
  watchVersion(() => {
    reloading = true;
    schedule();
  });
  if (view.unit) loadBeds();
  render();
  tick();
  setInterval(tick, 1_000);
  setInterval(() => {
    if (view.unit) loadBeds();
    schedule();
  }, BEDS_EVERY_MS);
}

boot();
