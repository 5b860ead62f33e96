// The recovery-room (heräämö) wall display: the theatres that send patients here,
// the bays, expected arrivals per hour, today's flows theatre → recovery → onward
// care as a picture, and free beds in the wards and rehabilitation units recovery
// sends to. Everything comes from the live picture (`/stream`); see docs/displays.md.

import { t } from './i18n.js';
import * as auth from './auth.js';
import {
  LivePicture,
  Sources,
  applyStaticText,
  byName,
  coalesce,
  fill,
  fmtMinutes,
  fmtNumber,
  fmtDayMonth,
  fmtTime,
  h,
  isToday,
  languageSwitch,
  minutesBetween,
  now,
  renderClock,
  renderStatus,
  s,
  startLanguage,
  watchVersion,
} from './common.js';

const params = new URLSearchParams(location.search);
// A wall screen runs unattended: with authentication on it gets tokens of its own
// OAuth client (auth.js), whose credential may confine it to its unit(s).
const signedIn = await auth.start('screen');
const confined = auth.units();
const wantedUnit = params.get('unit') ?? confined[0] ?? null;
/** A case this much behind or ahead of its planned end is called late or early. */
const ON_TIME_MINUTES = 5;

startLanguage();

const el = (id) => document.getElementById(id);
// A confined credential reads its own unit's picture only, and must name it.
const live = new LivePicture({ query: confined.length ? { unit: wantedUnit } : {}, onChange: () => schedule() });
const sources = new Sources({ onChange: () => schedule() });
let reloading = false;
const schedule = coalesce(render);

function recoveryUnit() {
  const units = live.ofKind('recovery-unit').sort((a, b) => byName(a.name, b.name) || byName(a.id, b.id));
  if (wantedUnit) return units.find((u) => u.id === wantedUnit) ?? null;
  return units[0] ?? null;
}

function zone() {
  return recoveryUnit()?.timeZone || live.timeZone || 'Europe/Helsinki';
}

function roomName(id) {
  return live.unit('operating-room', id)?.name ?? id ?? '?';
}

/** The name of a flow's or bay's destination: a ward's name, home or unknown. */
function destinationName(id, { node = false } = {}) {
  if (id === 'home') return t(node ? 'node.home' : 'dest.home');
  if (id == null || id === 'unknown') return t(node ? 'node.unknown' : 'dest.unknown');
  const ward = live.unit('ward', id) ?? live.unit('recovery-unit', id);
  return ward?.name ?? id;
}

// ---------------------------------------------------------------- theatres

function theatresOf(unit) {
  const ids = unit?.figures?.theatres;
  let rooms;
  if (Array.isArray(ids)) {
    rooms = ids.map((id) => live.unit('operating-room', id) ?? { id, name: id, figures: null });
  } else {
    rooms = live.ofKind('operating-room').filter((r) => !unit || r.site === unit.site);
  }
  return rooms.sort((a, b) => byName(a.name, b.name));
}

function renderTheatres(unit) {
  const rooms = unit ? theatresOf(unit) : [];
  const container = el('theatres');
  if (!live.hasData) return fill(container);
  if (rooms.length === 0) return fill(container, h('div', { class: 'empty' }, t('recovery.theatres.none')));
  const zoneName = zone();
  const at = now();
  container.dataset.density = rooms.length <= 4 ? 'roomy' : rooms.length <= 6 ? 'compact' : 'dense';
  fill(
    container,
    rooms.map((room) => {
      const f = room.figures ?? {};
      const state = f.state ?? 'unknown';
      const lines = [];
      let plannedText = null;
      if (state === 'in-use' && f.currentCase) {
        const planned = Date.parse(f.currentPlannedEnd);
        const expected = Date.parse(f.currentExpectedEnd ?? f.currentPlannedEnd);
        // Past its expected end the case is running on: it ends no earlier than now.
        const ends = Number.isNaN(expected) ? NaN : Math.max(expected, at);
        const delta = Number.isNaN(planned) || Number.isNaN(ends) ? null : minutesBetween(planned, ends);
        const off = delta != null && Math.abs(delta) > ON_TIME_MINUTES;
        lines.push(
          h(
            'div',
            { class: 'row2' },
            h('strong', { class: 'fig', dataset: { fig: 'expected-end' } }, t('room.ends', { time: fmtTime(ends, zoneName) })),
            delta == null
              ? null
              : delta > ON_TIME_MINUTES
                ? h('span', { class: 'delta delta-late', dataset: { delta: String(delta) } }, t('room.late', { d: fmtMinutes(delta) }))
                : delta < -ON_TIME_MINUTES
                  ? h('span', { class: 'delta delta-ok', dataset: { delta: String(delta) } }, t('room.early', { d: fmtMinutes(-delta) }))
                  : h('span', { class: 'delta delta-ok', dataset: { delta: String(delta) } }, t('room.onTime')),
          ),
        );
        if (off) plannedText = t('room.planned', { time: fmtTime(planned, zoneName) });
      }
      const nextDay = f.nextPlannedStart && !isToday(f.nextPlannedStart, zoneName);
      const next = !f.nextCase
        ? t('room.nextNone')
        : nextDay
          ? t('room.nextDay', { case: f.nextCase, date: fmtDayMonth(f.nextPlannedStart, zoneName), time: fmtTime(f.nextPlannedStart, zoneName) })
          : t('room.next', { case: f.nextCase, time: fmtTime(f.nextPlannedStart, zoneName) });
      const counts = [
        f.casesLeftToday != null ? t('room.left', { n: fmtNumber(f.casesLeftToday) }) : null,
        f.casesDoneToday != null ? t('room.done', { n: fmtNumber(f.casesDoneToday) }) : null,
      ]
        .filter(Boolean)
        .join(' · ');
      if (plannedText) lines.push(h('div', { class: 'row3 planned' }, plannedText));
      lines.push(h('div', { class: 'row3', dataset: { fig: 'next' } }, next));
      if (state !== 'in-use' && counts) lines.push(h('div', { class: 'row3 counts' }, counts));
      return h(
        'article',
        { class: 'theatre', dataset: { roomId: room.id, state, sequence: String(room.sequence ?? '') } },
        h('div', { class: 'bar' }),
        h(
          'div',
          { class: 'body' },
          h(
            'div',
            { class: 'row1' },
            h('span', { class: 'name' }, room.name ?? room.id),
            h('span', { class: 'state', dataset: { fig: 'state' } }, t(`room.${state}`)),
            state === 'in-use' && f.currentCase ? h('span', { class: 'case fig', dataset: { fig: 'case' } }, f.currentCase) : null,
          ),
          lines,
        ),
      );
    }),
  );
}

// ---------------------------------------------------------------- bays

/** What names have in common at their start, cut at a word ("Heräämöpaikka "). */
function commonPrefix(names) {
  if (names.length < 2) return '';
  let prefix = names[0];
  for (const n of names) {
    while (prefix && !n.startsWith(prefix)) prefix = prefix.slice(0, -1);
  }
  const cut = prefix.lastIndexOf(' ');
  return cut >= 0 ? prefix.slice(0, cut + 1) : '';
}

function bayState(bay) {
  if (bay.case && bay.readyAt) return 'ready';
  if (bay.case) return 'occupied';
  if (bay.closed) return 'closed';
  return 'free';
}

function renderBays(unit) {
  const summary = el('bay-summary');
  const grid = el('bays');
  if (!live.hasData || !unit) {
    fill(summary);
    return fill(grid);
  }
  const f = unit.figures ?? {};
  grid.dataset.unitId = unit.id;
  grid.dataset.sequence = String(unit.sequence ?? '');
  fill(
    summary,
    summaryItem('patients', t('recovery.sum.patients'), f.patients),
    summaryItem('free', t('recovery.sum.free'), f.baysFree),
    summaryItem('waiting', t('recovery.sum.waiting'), f.waitingForWardBed),
    f.baysClosed ? summaryItem('closed', t('recovery.sum.closed'), f.baysClosed) : null,
  );
  const bays = [...(f.bays ?? [])].sort((a, b) => byName(a.name ?? a.id, b.name ?? b.id));
  const prefix = commonPrefix(bays.map((b) => b.name ?? ''));
  const cols = bays.length > 20 ? 6 : bays.length > 16 ? 5 : 4;
  grid.style.setProperty('--cols', String(cols));
  const at = now();
  const zoneName = zone();
  fill(
    grid,
    bays.map((bay) => {
      const state = bayState(bay);
      const label = (bay.name ?? bay.id).slice(prefix.length) || bay.name || bay.id;
      const rows = [];
      if (bay.case) {
        const inRecovery = bay.arrivedAt ? minutesBetween(bay.arrivedAt, at) : null;
        if (state === 'ready') {
          const waited = minutesBetween(bay.readyAt, at);
          const home = bay.destination === 'home';
          rows.push(
            h(
              'div',
              {
                class: 'time fig',
                dataset: { fig: 'waiting', minutes: String(Math.max(0, waited)) },
                title: t(home ? 'bay.waitingHome' : 'bay.waiting', { d: fmtMinutes(waited) }),
              },
              fmtMinutes(waited),
            ),
          );
          rows.push(h('div', { class: 'more', dataset: { fig: 'destination' } }, t('bay.to', { dest: destinationName(bay.destination) })));
        } else {
          rows.push(
            h(
              'div',
              {
                class: 'time fig',
                dataset: { fig: 'in-recovery', minutes: inRecovery == null ? '' : String(Math.max(0, inRecovery)) },
                title: bay.arrivedAt ? fmtTime(bay.arrivedAt, zoneName) : null,
              },
              inRecovery == null ? '—' : fmtMinutes(inRecovery),
            ),
          );
          rows.push(h('div', { class: 'more' }, bay.fromRoom ? t('bay.from', { room: roomName(bay.fromRoom) }) : ''));
        }
      }
      // Ready to leave: "waiting for a bed" (the time below is the wait) or, going
      // home, "ready to go home".
      const stateText =
        state === 'ready' ? t(bay.destination === 'home' ? 'bay.readyHome' : 'bay.readyWaiting') : t(`bay.${state}`);
      return h(
        'article',
        { class: 'bay', title: bay.name ?? bay.id, dataset: { bayId: bay.id, state, case: bay.case ?? '' } },
        h(
          'div',
          { class: 'top' },
          h('span', { class: 'label' }, label),
          bay.case ? h('span', { class: 'case', dataset: { fig: 'case' } }, bay.case) : null,
        ),
        h('div', { class: 'state' }, stateText),
        rows,
      );
    }),
  );
}

function summaryItem(key, label, value) {
  return h(
    'div',
    { class: ['item', key] },
    h('span', { class: 'fig', dataset: { fig: key } }, fmtNumber(value)),
    h('span', {}, label),
  );
}

// ---------------------------------------------------------------- arrivals

function renderArrivals(unit) {
  const container = el('arrivals');
  const hours = live.hasData && unit ? unit.figures?.expectedArrivals ?? [] : [];
  const W = Math.max(200, container.clientWidth);
  const H = Math.max(120, container.clientHeight);
  if (hours.length === 0) return fill(container);
  const top = 40;
  const bottom = 34;
  const max = Math.max(4, ...hours.map((x) => x.count));
  const slot = W / hours.length;
  const barW = Math.min(70, slot * 0.64);
  const zoneName = zone();
  const svg = s(
    'svg',
    { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': t('recovery.arrivals') },
    s('line', { class: 'axis', x1: 0, x2: W, y1: H - bottom, y2: H - bottom }),
    hours.map((hour, i) => {
      const bh = ((H - top - bottom) * hour.count) / max;
      const x = i * slot + (slot - barW) / 2;
      const y = H - bottom - bh;
      const cls = i === 0 ? 'now' : '';
      return s(
        'g',
        { class: 'hour', dataset: { hourStart: hour.hourStart, count: String(hour.count) } },
        s('rect', { class: ['bar-rect', cls], x, y, width: barW, height: Math.max(bh, hour.count > 0 ? 2 : 0), rx: 4 }),
        s('text', { class: 'bar-count fig', x: x + barW / 2, y: y - 8 }, fmtNumber(hour.count)),
        s('text', { class: ['bar-hour', cls], x: x + barW / 2, y: H - 8 }, fmtTime(hour.hourStart, zoneName)),
      );
    }),
  );
  fill(container, svg);
}

// ---------------------------------------------------------------- flows

function renderFlows(unit) {
  const container = el('flows');
  if (!live.hasData || !unit) return fill(container);
  const flows = unit.figures?.flowsToday ?? [];
  const inflows = flows.filter((f) => f.to === unit.id && f.count > 0);
  const outflows = flows.filter((f) => f.from === unit.id && f.count > 0);
  const W = Math.max(300, container.clientWidth);
  const H = Math.max(120, container.clientHeight);
  if (inflows.length === 0 && outflows.length === 0) {
    return fill(container, h('div', { class: 'empty', dataset: { flows: 'none' } }, t('recovery.flows.empty')));
  }
  const left = inflows
    .map((f) => ({ id: f.from, name: roomName(f.from), count: f.count, flow: f }))
    .sort((a, b) => byName(a.name, b.name));
  const wardKind = (id) => live.unit('ward', id)?.unitKind;
  const right = outflows
    .map((f) => ({ id: f.to, name: destinationName(f.to, { node: true }), count: f.count, flow: f }))
    .sort((a, b) => rank(a.id) - rank(b.id) || byName(a.name, b.name));
  function rank(id) {
    if (id === 'home') return 2;
    if (id === 'unknown') return 3;
    return wardKind(id) === 'rehabilitation-ward' ? 1 : 0;
  }
  const pad = 14;
  const gap = 6;
  const minSlot = 22;
  const nodeW = 16;
  const leftLabel = Math.min(210, W * 0.2);
  const rightLabel = Math.min(360, W * 0.4);
  const xl = leftLabel;
  const xm = (W - nodeW) / 2 - (rightLabel - leftLabel) / 4;
  const xr = W - rightLabel - nodeW;
  const avail = H - 2 * pad;
  const sumIn = left.reduce((a, n) => a + n.count, 0);
  const sumOut = right.reduce((a, n) => a + n.count, 0);
  // The pixels per patient that let every side fit, each node at least a label high.
  const fits = (k, side) => side.reduce((a, n) => a + Math.max(n.count * k, minSlot), 0) + gap * Math.max(0, side.length - 1) <= avail;
  let k = (avail - 40) / Math.max(1, sumIn, sumOut);
  for (let i = 0; i < 60 && !(fits(k, left) && fits(k, right)); i++) k *= 0.92;
  const place = (side) => {
    const total = side.reduce((a, n) => a + Math.max(n.count * k, minSlot), 0) + gap * Math.max(0, side.length - 1);
    let y = pad + (avail - total) / 2;
    for (const n of side) {
      const slot = Math.max(n.count * k, minSlot);
      n.h = n.count * k;
      n.y = y + (slot - n.h) / 2;
      n.mid = y + slot / 2;
      y += slot + gap;
    }
  };
  place(left);
  place(right);
  const midH = Math.max(sumIn, sumOut) * k;
  const midY = pad + (avail - midH) / 2;
  const band = (x0, y0, x1, y1, w, cls, flow) => {
    const mx = (x0 + x1) / 2;
    return s('path', {
      class: ['band', cls],
      d: `M${x0},${y0} C${mx},${y0} ${mx},${y1} ${x1},${y1} L${x1},${y1 + w} C${mx},${y1 + w} ${mx},${y0 + w} ${x0},${y0 + w} Z`,
      dataset: { from: flow.from, to: flow.to, count: String(flow.count) },
    });
  };
  const bands = [];
  let yIn = midY + (midH - sumIn * k) / 2;
  for (const n of left) {
    bands.push(band(xl + nodeW, n.y, xm, yIn, n.h, 'in', n.flow));
    yIn += n.h;
  }
  let yOut = midY + (midH - sumOut * k) / 2;
  for (const n of right) {
    bands.push(band(xm + nodeW, yOut, xr, n.y, n.h, 'out', n.flow));
    yOut += n.h;
  }
  const nodeClass = (id) => (id === 'home' ? 'home' : id === 'unknown' ? 'unknown' : wardKind(id) === 'rehabilitation-ward' ? 'rehab' : '');
  const inRecovery = unit.figures?.patients;
  const svg = s(
    'svg',
    { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': t('recovery.flows') },
    bands,
    left.map((n) => [
      s('rect', { class: 'node', x: xl, y: n.y, width: nodeW, height: Math.max(n.h, 2), rx: 2 }),
      s(
        'text',
        { class: 'label left', x: xl - 10, y: n.mid, dataset: { name: n.name } },
        s('tspan', { class: 'name' }, n.name),
        '\u2003',
        s('tspan', { class: 'count fig' }, fmtNumber(n.count)),
      ),
    ]),
    s('rect', { class: 'node recovery', x: xm, y: midY, width: nodeW, height: Math.max(midH, 2), rx: 2 }),
    s('text', { class: 'label center', x: xm + nodeW / 2, y: Math.max(12, midY - 30) }, unit.name ?? t('recovery.title')),
    s(
      'text',
      { class: 'sub', x: xm + nodeW / 2, y: Math.min(H - 10, midY + midH + 20) },
      inRecovery == null ? '' : t('recovery.flows.inRecovery', { n: fmtNumber(inRecovery) }),
    ),
    right.map((n) => [
      s('rect', { class: ['node', nodeClass(n.id)], x: xr, y: n.y, width: nodeW, height: Math.max(n.h, 2), rx: 2 }),
      s(
        'text',
        { class: 'label right', x: xr + nodeW + 10, y: n.mid, dataset: { name: n.name } },
        s('tspan', { class: 'count fig' }, fmtNumber(n.count)),
        '\u2003',
        s('tspan', { class: 'name' }, n.name),
      ),
    ]),
  );
  fill(container, svg);
  // Names longer than their room are cut with an ellipsis, measured in the font used.
  const fit = (text, room) => {
    const full = text.dataset.name;
    let name = full;
    const label = text.querySelector('.name');
    while (name.length > 3 && text.getComputedTextLength() > room) {
      name = name.slice(0, -1);
      label.textContent = `${name.trimEnd()}…`;
    }
    if (name !== full) text.append(s('title', {}, full));
  };
  for (const text of svg.querySelectorAll('.label.left')) fit(text, xl - 14);
  for (const text of svg.querySelectorAll('.label.right')) fit(text, W - (xr + nodeW + 14));
}

// ---------------------------------------------------------------- onward beds

function renderWards(unit) {
  const container = el('wards');
  if (!live.hasData) return fill(container);
  const wards = live.ofKind('ward');
  if (wards.length === 0) return fill(container, h('div', { class: 'empty' }, t('recovery.beds.none')));
  // Grouped by site: the recovery unit's own first, rehabilitation last.
  const site = unit?.site;
  const groups = new Map();
  for (const w of wards) {
    const key = w.site ?? '';
    if (!groups.has(key)) groups.set(key, { name: w.siteName ?? w.site ?? '', rehab: true, wards: [] });
    const g = groups.get(key);
    g.wards.push(w);
    if (w.unitKind !== 'rehabilitation-ward') g.rehab = false;
  }
  const ordered = [...groups.entries()]
    .sort(([ka, a], [kb, b]) => (ka === site ? 0 : 1) - (kb === site ? 0 : 1) || Number(a.rehab) - Number(b.rehab) || byName(a.name, b.name))
    .map(([, g]) => g);
  const row = (w) => {
    const f = w.figures ?? {};
    return h(
      'div',
      { class: ['ward-row', w.unitKind === 'rehabilitation-ward' ? 'rehab' : ''], dataset: { unitId: w.id, sequence: String(w.sequence ?? '') } },
      h('div', { class: 'name' }, w.name ?? w.id),
      h('div', { class: ['free', 'fig', f.freeNow === 0 ? 'none' : ''], dataset: { fig: 'freeNow' } }, fmtNumber(f.freeNow)),
      h('div', { class: 'soon fig', dataset: { fig: 'freeingToday' }, title: t('recovery.beds.today') }, f.freeingToday ? `+${fmtNumber(f.freeingToday)}` : '0'),
    );
  };
  fill(
    container,
    h('div', { class: 'cols' }, h('span', {}, t('recovery.beds.freeNow')), h('span', {}, t('recovery.beds.today'))),
    ordered.map((g) => [
      h('h3', {}, g.name || (g.rehab ? t('recovery.beds.rehab') : t('recovery.beds.wards'))),
      g.wards.sort((a, b) => byName(a.name, b.name)).map(row),
    ]),
  );
}

// ---------------------------------------------------------------- the page

function extraBanners(unit) {
  const extra = [];
  if (reloading) extra.push(['reload', 'info', t('banner.reloading')]);
  if (signedIn.error) extra.push(['credential', 'alarm', t(`auth.error.${signedIn.error}`)]);
  if (live.hasData && !unit) {
    extra.push(['no-unit', 'warn', wantedUnit ? t('banner.noUnitId', { id: wantedUnit }) : t('banner.noUnit')]);
  }
  return extra;
}

function render() {
  const unit = live.hasData ? recoveryUnit() : null;
  const extra = extraBanners(unit);
  const title = unit?.name ?? t('recovery.title');
  fill(el('title'), title);
  fill(el('subtitle'), unit?.siteName ?? '');
  document.title = `${title} – Ohjaamo`;
  renderStatus({ live, sources, timeZone: zone, banners: el('banners'), status: el('status'), extra });
  renderTheatres(unit);
  renderBays(unit);
  renderArrivals(unit);
  renderFlows(unit);
  renderWards(unit);
  document.body.dataset.sequence = live.sequence == null ? '' : String(live.sequence);
}

function tick() {
  renderClock(el('clock'), zone());
  renderStatus({
    live,
    sources,
    timeZone: zone,
    banners: el('banners'),
    status: el('status'),
    extra: extraBanners(live.hasData ? recoveryUnit() : null),
  });
}

function start() {
  applyStaticText();
  languageSwitch(el('lang'), () => {
    applyStaticText();
    render();
    tick();
  });
  live.start();
  sources.start();
  watchVersion(() => {
    reloading = true;
    schedule();
  });
  render();
  tick();
  setInterval(tick, 1_000);
  // Times in recovery and "ends at" move with the clock.
  setInterval(schedule, 10_000);
  window.addEventListener('resize', schedule);
}

start();
