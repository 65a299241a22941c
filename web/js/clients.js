// Clients: search, create, edit; on a client's page their screenings, seats and consents, and
// scheduling a screening.
import { h, put, table, badge, clientName, humanize, announce } from './dom.js';
import * as api from './api.js';
import * as fmt from './format.js';
import { field, form, errorBox } from './forms.js';
import { groups, staff } from './common.js';

export const REFERRALS = ['self', 'court', 'probation', 'employer', 'physician', 'treatment_program', 'other'].map((v) => [v, humanize(v)]);
const EDITORS = new Set(['supervisor', 'intake']);
const SCHEDULERS = new Set(['supervisor', 'intake', 'therapist']);

function clientFields(c = {}) {
  return [
    field({ name: 'first_name', label: 'First name', required: true, value: c.first_name, autocomplete: 'off' }),
    field({ name: 'last_name', label: 'Last name', required: true, value: c.last_name, autocomplete: 'off' }),
    field({ name: 'preferred_name', label: 'Preferred name', value: c.preferred_name, autocomplete: 'off' }),
    field({ name: 'date_of_birth', label: 'Date of birth', type: 'date', required: true, value: c.date_of_birth }),
    field({ name: 'phone', label: 'Phone', type: 'tel', value: c.phone, autocomplete: 'off' }),
    field({ name: 'email', label: 'Email', type: 'email', value: c.email, autocomplete: 'off' }),
    field({ name: 'referral_source', label: 'Referral source', type: 'select', required: true, options: REFERRALS, value: c.referral_source || 'self' }),
    field({ name: 'mandated', label: 'Mandated (involuntary participation, e.g. court-ordered)', type: 'checkbox', value: c.mandated }),
  ];
}

export async function list(view, _params, { user, navigate }) {
  const q = new URLSearchParams(location.hash.split('?')[1] || '').get('q') || '';
  const results = h('div', {});
  const search = form({ label: 'Search clients', submit: 'Search', class: 'inline', fields: [
    field({ name: 'q', label: 'Name', type: 'search', value: q, hint: 'Part of a first, last or preferred name' }),
  ] }, async (v) => navigate(`/clients?q=${encodeURIComponent(v.q || '')}`));
  put(view, h('div', { class: 'row' }, h('h1', {}, 'Clients'), h('span', { class: 'spacer' }),
    EDITORS.has(user.role) ? h('a', { href: '#/clients/new', class: 'button' }, 'New client') : null),
  search, results);
  try {
    const page = await api.get('/clients', { q: q || undefined, limit: 100 });
    put(results, table('Clients', ['Name', 'Date of birth', 'Referral', 'Mandated'], page.items.map((c) => h('tr', {},
      h('td', {}, h('a', { href: `#/clients/${c.id}` }, clientName(c))),
      h('td', {}, fmt.calendarDate(c.date_of_birth)),
      h('td', {}, humanize(c.referral_source)),
      h('td', {}, c.mandated ? 'yes' : 'no'))), { empty: q ? 'No client matches.' : 'No clients yet.' }),
    page.next_cursor ? h('p', { class: 'hint' }, 'Showing the first 100; narrow the search to see others.') : null);
  } catch (e) {
    put(results, errorBox(e));
  }
}

export async function create(view, _params, { navigate }) {
  const f = form({ label: 'New client', submit: 'Create client', fields: clientFields() }, async (v) => {
    const c = await api.post('/clients', { ...v, mandated: !!v.mandated });
    announce('Client created.');
    navigate(`/clients/${c.id}`);
  });
  put(view, h('h1', {}, 'New client'), h('section', { class: 'card' }, f));
}

export async function detail(view, [id], { user }) {
  const { data: client, etag } = await api.call('GET', `/clients/${id}`);
  let tag = etag;
  put(view, h('h1', {}, clientName(client)),
    h('p', { class: 'sub' }, `Born ${fmt.calendarDate(client.date_of_birth)} · referred by ${humanize(client.referral_source)}${client.mandated ? ' · mandated' : ''}`));

  if (EDITORS.has(user.role)) {
    const saved = h('p', { role: 'status' });
    const f = form({ label: 'Edit client', submit: 'Save changes', fields: clientFields(client) }, async (v) => {
      const body = { ...v, mandated: !!v.mandated };
      for (const k of ['preferred_name', 'phone', 'email']) if (!(k in v)) body[k] = null;
      const r = await api.call('PATCH', `/clients/${id}`, { body, ifMatch: tag || undefined });
      tag = r.etag;
      saved.textContent = 'Saved.';
      announce('Client saved.');
      view.querySelector('h1').textContent = clientName(r.data);
    });
    view.append(h('details', { class: 'card' }, h('summary', {}, 'Edit details'), f, saved));
  }

  const screeningsBox = h('section', { 'aria-labelledby': 'cs-h' }, h('h2', { id: 'cs-h' }, 'Screenings'), h('p', { class: 'loading' }, 'Loading…'));
  const seatsBox = h('section', { 'aria-labelledby': 'seats-h' }, h('h2', { id: 'seats-h' }, 'Group seats'));
  view.append(screeningsBox, seatsBox);
  if (user.role !== 'admin') await drawScreenings(screeningsBox, client, user);
  else screeningsBox.remove();
  await drawSeats(seatsBox, id);
  const consents = await import('./consents.js').catch(() => null);
  if (consents) view.append(await consents.section(client, user));
}

async function drawScreenings(box, client, user) {
  const [items, people, all] = await Promise.all([
    api.all('/screenings', { client_id: client.id }),
    staff().catch(() => new Map()),
    groups(),
  ]);
  const rows = items.map((s) => h('tr', {},
    h('td', {}, h('a', { href: `#/screenings/${s.id}` }, fmt.dateTime(s.scheduled_at))),
    h('td', {}, people.get(s.interviewer_id)?.display_name || ''),
    h('td', {}, s.group_id ? (all.get(s.group_id)?.name || '') : 'any group'),
    h('td', {}, badge(humanize(s.status)), s.outcome ? badge(humanize(s.outcome), s.outcome === 'accepted' ? 'ok' : null) : null)));
  put(box, h('h2', { id: 'cs-h' }, 'Screenings'),
    table('Screenings of this client', ['When', 'Interviewer', 'For group', 'Status'], rows, { empty: 'No screening yet.' }));
  if (SCHEDULERS.has(user.role)) box.append(scheduleForm(client, user, people, all, () => drawScreenings(box, client, user)));
}

export function scheduleForm(client, user, people, all, done) {
  const interviewers = [...people.values()].filter((p) => p.active !== false && (p.role === 'therapist' || p.role === 'supervisor'))
    .map((p) => [p.id, `${p.display_name} (${p.role})`]);
  const mine = user.role === 'therapist';
  const f = form({ label: 'Schedule a screening', submit: 'Schedule screening', fields: [
    mine ? field({ name: 'interviewer_id', label: 'Interviewer', type: 'select', options: [[user.id, user.display_name]], value: user.id })
      : field({ name: 'interviewer_id', label: 'Interviewer', type: 'select', required: true, blank: '— choose —', options: interviewers }),
    field({ name: 'scheduled_at', label: 'Date and time', type: 'datetime-local', required: true, hint: `In your time zone (${fmt.browserZone})` }),
    field({ name: 'group_id', label: 'Group being considered', type: 'select', blank: 'No group in particular',
      options: [...all.values()].filter((g) => g.status === 'forming' || g.status === 'active').map((g) => [g.id, g.name]) }),
  ] }, async (v) => {
    const body = { interviewer_id: v.interviewer_id, group_id: v.group_id };
    if (v.scheduled_at) body.scheduled_at = fmt.localToUtc(v.scheduled_at);
    await api.post(`/clients/${client.id}/screenings`, body);
    announce('Screening scheduled.');
    await done();
  });
  return h('div', { class: 'card' }, h('h3', {}, 'Schedule a screening'), f);
}

async function drawSeats(box, id) {
  let seats;
  try {
    seats = await api.all(`/clients/${id}/memberships`);
  } catch (e) {
    if (e.status === 404) { box.remove(); return; }
    box.append(errorBox(e));
    return;
  }
  box.append(table('Seats of this client', ['Group', 'Status', 'Joined', 'Exit'], seats.map((m) => h('tr', {},
    h('td', {}, h('a', { href: `#/memberships/${m.id}` }, m.group_name || 'group')),
    h('td', {}, badge(humanize(m.status)), m.at_risk ? badge('at risk', 'danger') : null),
    h('td', {}, m.joined_on ? fmt.calendarDate(m.joined_on) : '—'),
    h('td', {}, m.exit_reason ? humanize(m.exit_reason) : ''))), { empty: 'No seat in any group.' }));
}
