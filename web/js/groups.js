// Groups: list, create, configure, start/complete/cancel, the agreement, members with their
// badges and composition warnings, sessions; a membership's page (signature, exit notice,
// discharge, withdraw, rescind).
import { h, put, table, badge, clientName, humanize, announce } from './dom.js';
import * as api from './api.js';
import * as fmt from './format.js';
import { field, form, errorBox } from './forms.js';
import { groups, staff, forget, membershipBadges, compositionWarnings, documentationBadges, CLINICAL } from './common.js';

const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].map((d) => [d, d[0].toUpperCase() + d.slice(1)]);
const MANAGERS = new Set(['admin', 'supervisor']);
const CLAUSES = [['attendance', 'Attendance'], ['confidentiality', 'Confidentiality'], ['outside_socialization', 'Outside socialization'], ['substance_use', 'Substance use'], ['exit_notice', 'Exit notice'], ['other', 'Other']];
const DISCHARGE = ['dropped_out', 'discharged', 'against_advice', 'higher_level_of_care', 'hospitalized', 'incarcerated', 'relocated', 'transferred', 'other'].map((v) => [v, humanize(v)]);

function zones() {
  try { return Intl.supportedValuesOf('timeZone'); } catch { return ['UTC', fmt.browserZone]; }
}

function seatsText(g) {
  const s = g.seats || {};
  return `${(s.pending || 0) + (s.active || 0) + (s.exiting || 0)} of ${g.max_size} seats (${s.active || 0} active, ${s.pending || 0} pending, ${s.exiting || 0} exiting)`;
}

export async function list(view, _params, { user }) {
  forget('groups');
  const [all, people] = await Promise.all([groups(), staff().catch(() => new Map())]);
  put(view, h('div', { class: 'row' }, h('h1', {}, 'Groups'), h('span', { class: 'spacer' }),
    MANAGERS.has(user.role) ? h('a', { href: '#/groups/new', class: 'button' }, 'New group') : null),
  table('Groups', ['Group', 'Status', 'Lead', 'Meets', 'Seats'], [...all.values()].map((g) => h('tr', {},
    h('td', {}, h('a', { href: `#/groups/${g.id}` }, g.name)),
    h('td', {}, badge(humanize(g.status), g.status === 'active' ? 'ok' : null), g.below_minimum ? badge('below minimum', 'warn') : null),
    h('td', {}, people.get(g.lead_therapist_id)?.display_name || ''),
    h('td', {}, `${humanize(g.meeting_day)} ${g.meeting_time} (${g.timezone})`),
    h('td', {}, seatsText(g)))), { empty: 'No groups yet.' }));
}

function groupFields(g, people) {
  const therapists = [...people.values()].filter((p) => (p.role === 'therapist' || p.role === 'supervisor') && p.active !== false).map((p) => [p.id, p.display_name]);
  const forming = !g || g.status === 'forming';
  return [
    field({ name: 'name', label: 'Name', required: true, value: g?.name }),
    field({ name: 'lead_therapist_id', label: 'Lead therapist', type: 'select', required: true, blank: '— choose —', options: therapists, value: g?.lead_therapist_id }),
    field({ name: 'co_therapist_ids', label: 'Co-therapists (up to two)', type: 'checkboxes', options: therapists, value: g?.co_therapist_ids }),
    field({ name: 'meeting_day', label: 'Meeting day', type: 'select', required: true, options: DAYS, value: g?.meeting_day || 'tuesday' }),
    field({ name: 'meeting_time', label: 'Meeting time (local)', type: 'time', required: true, value: g?.meeting_time || '18:00' }),
    field({ name: 'timezone', label: 'Time zone', type: 'select', options: zones().map((z) => [z, z]), value: g?.timezone || fmt.browserZone }),
    field({ name: 'duration_minutes', label: 'Duration (minutes)', type: 'number', min: 30, max: 180, value: g?.duration_minutes ?? 90 }),
    field({ name: 'min_size', label: 'Minimum size', type: 'number', min: 8, max: 15, value: g?.min_size ?? 8 }),
    field({ name: 'max_size', label: 'Maximum size', type: 'number', min: 8, max: 15, value: g?.max_size ?? 15 }),
    field({ name: 'min_term_sessions', label: 'Minimum term (sessions)', type: 'number', min: 1, max: 52, value: g?.min_term_sessions ?? 12 }),
    field({ name: 'exit_notice_sessions', label: 'Exit notice (sessions)', type: 'number', min: 1, max: 6, value: g?.exit_notice_sessions ?? 3 }),
    field({ name: 'absence_alert_threshold', label: 'At risk after consecutive unexcused absences', type: 'number', min: 1, max: 10, value: g?.absence_alert_threshold ?? 3 }),
    field({ name: 'start_date', label: 'Start date', type: 'date', required: true, value: g?.start_date, disabled: !forming }),
    field({ name: 'end_date', label: 'End date (time-limited groups)', type: 'date', value: g?.end_date }),
  ];
}

export async function create(view, _params, { navigate }) {
  const people = await staff();
  const f = form({ label: 'New group', submit: 'Create group', class: 'inline', fields: groupFields(null, people) }, async (v) => {
    const g = await api.post('/groups', { ...v, co_therapist_ids: v.co_therapist_ids || [] });
    forget('groups');
    announce('Group created.');
    navigate(`/groups/${g.id}`);
  });
  put(view, h('h1', {}, 'New group'), h('section', { class: 'card' }, f));
}

export async function detail(view, [id], { user }) {
  const { data: g, etag } = await api.call('GET', `/groups/${id}`);
  const people = await staff().catch(() => new Map());
  const tz = g.timezone;
  const manage = MANAGERS.has(user.role);
  const out = h('div', { role: 'status' });
  const transition = (action, label) => h('button', { type: 'button', class: action === 'cancel' ? 'danger' : null, onclick: async () => {
    try {
      await api.post(`/groups/${id}/${action}`, {});
      forget('groups');
      announce(`Group ${label}.`);
      await detail(view, [id], { user });
    } catch (e) { put(out, errorBox(e)); }
  } }, `${action[0].toUpperCase()}${action.slice(1)} group`);
  put(view,
    h('h1', {}, g.name),
    h('p', { class: 'sub' }, badge(humanize(g.status), g.status === 'active' ? 'ok' : null), g.below_minimum ? badge('below minimum', 'warn') : null,
      ` ${humanize(g.meeting_day)}s at ${g.meeting_time} (${tz}), ${g.duration_minutes} min · led by ${people.get(g.lead_therapist_id)?.display_name || '—'}`,
      g.co_therapist_ids?.length ? ` with ${g.co_therapist_ids.map((c) => people.get(c)?.display_name || 'a colleague').join(' and ')}` : ''),
    h('p', {}, `${seatsText(g)} · sizes ${g.min_size}–${g.max_size} · minimum term ${g.min_term_sessions} sessions · exit notice ${g.exit_notice_sessions} sessions · start date ${fmt.calendarDate(g.start_date)}${g.end_date ? `, ends ${fmt.calendarDate(g.end_date)}` : ''}`),
    compositionWarnings(g.composition_warnings),
    manage ? h('div', { class: 'actions' },
      g.status === 'forming' ? transition('start', 'started') : null,
      g.status === 'active' ? transition('complete', 'completed') : null,
      g.status === 'forming' || g.status === 'active' ? transition('cancel', 'cancelled') : null) : null,
    out);
  if (manage && (g.status === 'forming' || g.status === 'active')) {
    let tag = etag;
    const saved = h('p', { class: 'saved', role: 'status' });
    const f = form({ label: 'Configure group', submit: 'Save configuration', class: 'inline', fields: groupFields(g, people) }, async (v) => {
      const body = { ...v, co_therapist_ids: v.co_therapist_ids || [] };
      if (!v.end_date) body.end_date = null;
      const r = await api.call('PATCH', `/groups/${id}`, { body, ifMatch: tag || undefined });
      tag = r.etag;
      forget('groups');
      saved.textContent = 'Saved.';
      announce('Group saved.');
    });
    view.append(h('details', { class: 'card' }, h('summary', {}, 'Configure'), f, saved));
  }
  const membersBox = h('section', { 'aria-labelledby': 'gm-h' }, h('h2', { id: 'gm-h' }, 'Members'));
  const contractBox = h('section', { 'aria-labelledby': 'gc-h' }, h('h2', { id: 'gc-h' }, 'Group agreement'));
  const sessionsBox = h('section', { 'aria-labelledby': 'gs-h' }, h('h2', { id: 'gs-h' }, 'Sessions'));
  view.append(membersBox, sessionsBox, contractBox);
  await Promise.all([
    drawMembers(membersBox, g, user).catch((e) => membersBox.append(errorBox(e))),
    drawSessions(sessionsBox, g, user).catch((e) => sessionsBox.append(errorBox(e))),
    drawContract(contractBox, g, user).catch((e) => contractBox.append(errorBox(e))),
  ]);
}

async function drawMembers(box, g) {
  const members = await api.all(`/groups/${g.id}/members`);
  const seated = members.filter((m) => m.status !== 'exited');
  const past = members.filter((m) => m.status === 'exited');
  const row = (m) => h('tr', {},
    h('td', {}, h('a', { href: `#/memberships/${m.id}` }, clientName(m.client))),
    h('td', {}, membershipBadges(m)),
    h('td', {}, m.joined_on ? fmt.calendarDate(m.joined_on) : '—'),
    h('td', {}, `${m.sessions_held_since_join ?? 0}${m.attendance_rate != null ? ` · ${Math.round(m.attendance_rate * 100)}% attended` : ''}`),
    h('td', {}, m.exit_reason ? humanize(m.exit_reason) : ''));
  box.append(table('Seated members', ['Member', 'Status', 'Joined', 'Sessions held since joining', 'Exit'], seated.map(row), { empty: 'No member yet: admit from the waitlist.' }),
    h('p', {}, h('a', { href: `#/waitlist?group_id=${g.id}` }, 'Admit from the waitlist')));
  if (past.length) box.append(h('details', {}, h('summary', {}, `Former members (${past.length})`), table('Former members', ['Member', 'Status', 'Joined', 'Sessions', 'Exit'], past.map(row))));
}

async function drawSessions(box, g, user) {
  const today = fmt.today(g.timezone);
  const items = await api.all(`/groups/${g.id}/sessions`, { from: fmt.addDays(today, -28), to: fmt.addDays(today, 28) });
  let docs = new Map();
  if (CLINICAL.has(user.role)) {
    const rich = await api.all('/sessions', { group_id: g.id, from: fmt.addDays(today, -28), to: fmt.addDays(today, 28) }).catch(() => []);
    docs = new Map(rich.map((s) => [s.id, s.documentation]));
  }
  box.append(table('Sessions from four weeks ago to four weeks ahead', ['#', 'When', 'Status', CLINICAL.has(user.role) ? 'Documentation' : null].filter(Boolean),
    items.map((s) => h('tr', {},
      h('td', {}, String(s.sequence)),
      h('td', {}, h('a', { href: `#/sessions/${s.id}` }, fmt.dateTime(s.scheduled_at, g.timezone))),
      h('td', {}, badge(humanize(s.status), s.status === 'held' ? 'ok' : s.status === 'cancelled' ? 'danger' : null), s.cancel_reason || ''),
      CLINICAL.has(user.role) ? h('td', {}, documentationBadges(docs.get(s.id))) : null)),
    { empty: 'No sessions in these eight weeks.' }));
  if (MANAGERS.has(user.role) && g.status !== 'cancelled' && g.status !== 'completed') {
    box.append(form({ label: 'Generate sessions', submit: 'Generate sessions', class: 'inline', fields: [
      field({ name: 'through', label: 'Through', type: 'date', required: true, value: fmt.addDays(today, 56) }),
    ] }, async (v) => {
      await api.post(`/groups/${g.id}/sessions/generate`, { through: v.through });
      announce('Sessions generated.');
      location.reload();
    }));
  }
}

async function drawContract(box, g, user) {
  const page = await api.get(`/groups/${g.id}/contracts`);
  const versions = Array.isArray(page) ? page : page.items;
  const current = versions.find((c) => c.current) || versions[versions.length - 1];
  if (current) {
    box.append(h('p', {}, `Version ${current.version}, from ${fmt.day(current.created_at, g.timezone)}.`),
      h('dl', { class: 'readonly card' }, CLAUSES.filter(([k]) => current.clauses[k]).map(([k, l]) => [h('dt', {}, l), h('dd', {}, current.clauses[k])])));
  } else {
    box.append(h('p', { class: 'warning' }, 'No agreement yet: the group cannot start without one.'));
  }
  if (MANAGERS.has(user.role)) {
    box.append(h('details', { class: 'card' }, h('summary', {}, current ? 'Amend the agreement (new version)' : 'Write the agreement'),
      form({ label: 'Group agreement', submit: 'Save new version', fields: CLAUSES.map(([k, l]) => field({ name: k, label: l, type: 'textarea', rows: 2, value: current?.clauses[k] })) }, async (v) => {
        await api.post(`/groups/${g.id}/contracts`, { clauses: v });
        announce('Agreement saved.');
        put(box, h('h2', { id: 'gc-h' }, 'Group agreement'));
        await drawContract(box, g, user);
      })));
  }
}

export async function membership(view, [id], { user }) {
  const m = await api.get(`/memberships/${id}`);
  const g = await api.get(`/groups/${m.group_id}`);
  const tz = g.timezone;
  const clinical = CLINICAL.has(user.role);
  const redraw = () => membership(view, [id], { user });
  put(view,
    h('p', { class: 'crumbs' }, h('a', { href: `#/groups/${g.id}` }, g.name)),
    h('h1', {}, `${clientName(m.client)} in ${g.name}`),
    h('p', {}, membershipBadges(m)),
    h('dl', { class: 'readonly' },
      h('dt', {}, 'Joined'), h('dd', {}, m.joined_on ? fmt.calendarDate(m.joined_on) : 'not yet: the agreement is unsigned'),
      h('dt', {}, 'Sessions held since joining'), h('dd', {}, `${m.sessions_held_since_join}${m.minimum_term_met ? ' (minimum term met)' : ` of ${g.min_term_sessions} for the minimum term`}`),
      m.absence_streak != null ? [h('dt', {}, 'Unexcused absences in a row'), h('dd', {}, String(m.absence_streak))] : null,
      m.announced_at ? [h('dt', {}, 'Exit announced'), h('dd', {}, fmt.dateTime(m.announced_at, tz), m.exit_notice_reason ? ` — ${m.exit_notice_reason}` : '')] : null,
      m.exit_reason ? [h('dt', {}, 'Exit'), h('dd', {}, `${humanize(m.exit_reason)}${m.exited_at ? `, ${fmt.dateTime(m.exited_at, tz)}` : ''}`)] : null),
    (m.signatures || []).length ? h('section', {}, h('h2', {}, 'Signatures'), table('Signatures of the agreement', ['Version', 'Signed', 'Name'],
      m.signatures.map((s) => h('tr', {}, h('td', {}, String(s.version)), h('td', {}, fmt.dateTime(s.signed_at, tz)), h('td', {}, s.signature_name))))) : null);
  const actions = h('div', { class: 'grid' });
  view.append(actions);
  const card = (title, f) => h('section', { class: 'card' }, h('h2', {}, title), f);
  const canSign = ['supervisor', 'intake', 'therapist'].includes(user.role);
  const needsSignature = m.status === 'pending' || (['active', 'exiting'].includes(m.status) && m.contract_current === false);
  if (canSign && needsSignature) {
    const page = await api.get(`/groups/${g.id}/contracts`);
    const versions = Array.isArray(page) ? page : page.items;
    const current = versions.find((c) => c.current);
    if (current) {
      actions.append(card(m.status === 'pending' ? 'Record the signed agreement' : 'Record the re-signed agreement', form({ label: 'Signature', submit: 'Record signature', fields: [
        field({ name: 'signature_name', label: `Name as signed on version ${current.version}`, required: true, value: clientName({ ...m.client, preferred_name: null }) }),
        field({ name: 'signed_at', label: 'Signed at', type: 'datetime-local', hint: `Leave empty for now (${tz})` }),
      ] }, async (v) => {
        await api.post(`/memberships/${id}/sign`, { contract_id: current.id, signature_name: v.signature_name, signed_at: v.signed_at ? fmt.localToUtc(v.signed_at, tz) : undefined });
        announce('Signature recorded.');
        await redraw();
      })));
    }
  }
  if (!clinical) return;
  if (m.status === 'active') {
    actions.append(card('Exit notice (phased exit)', form({ label: 'Exit notice', submit: 'Record exit notice', fields: [
      field({ name: 'reason', label: 'Reason', type: 'textarea', required: true, rows: 2 }),
      field({ name: 'announced_at', label: 'Announced at', type: 'datetime-local', hint: `Leave empty for now (${tz})` }),
    ] }, async (v) => {
      await api.post(`/memberships/${id}/exit-notice`, { reason: v.reason || '', announced_at: v.announced_at ? fmt.localToUtc(v.announced_at, tz) : undefined });
      announce('Exit notice recorded.');
      await redraw();
    })));
  }
  if (m.status === 'exiting') {
    actions.append(card('Rescind the exit notice', form({ label: 'Rescind exit', submit: 'Rescind', fields: [
      field({ name: 'reason', label: 'Reason', required: true }),
    ] }, async (v) => {
      await api.post(`/memberships/${id}/rescind-exit`, { reason: v.reason || '' });
      announce('Exit notice rescinded.');
      await redraw();
    })));
  }
  if (m.status === 'active' || m.status === 'exiting') {
    actions.append(card('Discharge', form({ label: 'Discharge', submit: 'Discharge', danger: true, fields: [
      field({ name: 'exit_reason', label: 'Reason', type: 'select', required: true, blank: '— choose —', options: DISCHARGE }),
      field({ name: 'note', label: 'Note', type: 'textarea', required: true, rows: 2 }),
    ] }, async (v) => {
      await api.post(`/memberships/${id}/discharge`, { exit_reason: v.exit_reason, note: v.note || '' });
      announce('Discharged.');
      await redraw();
    })));
  }
  if (m.status === 'pending') {
    actions.append(card('Withdraw', form({ label: 'Withdraw', submit: 'Withdraw admission', danger: true, fields: [] }, async () => {
      await api.post(`/memberships/${id}/withdraw`, {});
      announce('Admission withdrawn.');
      await redraw();
    })));
  }
}
