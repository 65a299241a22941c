// Each role's home (GET /me/dashboard, GET /me/agenda) and the sessions list (GET /sessions).
import { h, put, table, badge, humanize } from './dom.js';
import * as api from './api.js';
import * as fmt from './format.js';
import { groups, documentationBadges, CLINICAL } from './common.js';
import { field, form, errorBox } from './forms.js';

const COUNTS = [
  ['sessions_today', 'Sessions today', '#/sessions'],
  ['documentation_incomplete', 'Documentation incomplete', '#/sessions?documentation=incomplete'],
  ['documentation_overdue', 'Documentation overdue', '#/sessions?documentation=overdue'],
  ['awaiting_cosign', 'Awaiting your co-signature', '#/cosign'],
  ['members_at_risk', 'Members at risk', '#/groups'],
  ['members_exiting', 'Members exiting', '#/groups'],
  ['pending_signatures', 'Agreements to sign', '#/groups'],
  ['contracts_to_resign', 'Agreements to re-sign', '#/groups'],
  ['waitlist', 'On the waitlist', '#/waitlist'],
  ['approvals_pending', 'Accounts awaiting approval', '#/approvals'],
];

function zoneOf(all, groupId) {
  const g = all.get(groupId);
  return g ? g.timezone : fmt.browserZone;
}

export function sessionLink(s, all) {
  const tz = zoneOf(all, s.group_id);
  return h('a', { href: `#/sessions/${s.id}` }, `${s.group_name || all.get(s.group_id)?.name || 'Group'} · session ${s.sequence}`, h('span', { class: 'sr-only' }, ` on ${fmt.dateTime(s.scheduled_at, tz)}`));
}

export async function home(view, _params, { user }) {
  const start = fmt.today();
  // A server without the day's endpoints (older than SPEC v2 §7) still gets a usable home.
  const missing = (e) => { if (e.status === 404) return null; throw e; };
  const [dashboard, agenda, all] = await Promise.all([
    api.get('/me/dashboard').catch(missing),
    api.get('/me/agenda', { from: start, to: fmt.addDays(start, 6) }).catch(missing),
    groups(),
  ]);
  if (!dashboard || !agenda) {
    put(view,
      h('h1', {}, `Good day, ${user.display_name}`),
      h('h2', {}, 'Groups'),
      h('ul', {}, [...all.values()].map((g) => h('li', {}, h('a', { href: `#/groups/${g.id}` }, g.name)))));
    return;
  }
  const stats = COUNTS.filter(([k]) => dashboard[k] !== undefined && dashboard[k] !== null)
    .map(([k, label, href]) => h('div', { class: 'stat' },
      h('dt', {}, h('a', { href }, label)), h('dd', {}, String(dashboard[k]))));
  const items = agenda.items.map((it) => {
    if (it.kind === 'session' && it.session) {
      const s = it.session;
      const tz = zoneOf(all, s.group_id);
      return h('li', { 'data-session': s.id },
        h('span', { class: 'when' }, fmt.dateTime(it.at, tz)),
        sessionLink(s, all),
        badge(humanize(s.status), s.status === 'cancelled' ? 'danger' : s.status === 'held' ? 'ok' : 'info'),
        CLINICAL.has(user.role) ? documentationBadges(s.documentation) : null);
    }
    const sc = it.screening || {};
    return h('li', {},
      h('span', { class: 'when' }, fmt.dateTime(it.at)),
      h('a', { href: `#/screenings/${sc.id}` }, `Screening: ${sc.client_name || 'client'}`),
      badge(humanize(sc.status || 'scheduled'), 'info'));
  });
  put(view,
    h('h1', {}, `Good day, ${user.display_name}`),
    h('p', { class: 'sub' }, `Signed in as ${humanize(user.role)} · times in each group's time zone`),
    h('h2', {}, 'At a glance'),
    h('dl', { class: 'stats' }, stats),
    h('h2', { id: 'agenda-h' }, 'Your agenda: the next 7 days'),
    items.length ? h('ul', { class: 'agenda', 'aria-labelledby': 'agenda-h' }, items)
      : h('p', {}, 'Nothing scheduled for you in the next 7 days.'));
}

const DOC_FILTERS = [['', 'Any'], ['incomplete', 'Incomplete'], ['overdue', 'Overdue']];

export async function sessions(view, _params, { user, navigate }) {
  const q = new URLSearchParams(location.hash.split('?')[1] || '');
  const from = q.get('from') || fmt.addDays(fmt.today(), q.get('documentation') ? -60 : -7);
  const to = q.get('to') || fmt.addDays(fmt.today(), q.get('documentation') ? 0 : 14);
  const clinical = CLINICAL.has(user.role);
  const filters = form({
    label: 'Filter sessions', submit: 'Show', class: 'inline',
    fields: [
      field({ name: 'from', label: 'From', type: 'date', value: from }),
      field({ name: 'to', label: 'To', type: 'date', value: to }),
      user.role === 'therapist' || user.role === 'supervisor'
        ? field({ name: 'mine', label: 'Only groups I lead', type: 'checkbox', value: q.get('mine') === 'true' }) : null,
      clinical ? field({ name: 'documentation', label: 'Documentation', type: 'select', options: DOC_FILTERS, value: q.get('documentation') || '' }) : null,
    ],
  }, async (v) => {
    const p = new URLSearchParams();
    for (const k of ['from', 'to', 'documentation']) if (v[k]) p.set(k, v[k]);
    if (v.mine) p.set('mine', 'true');
    navigate(`/sessions?${p}`);
  });
  const results = h('div', {}, h('p', { class: 'loading' }, 'Loading…'));
  put(view, h('h1', {}, 'Sessions'), filters, results);
  try {
    const query = { from, to, mine: q.get('mine') || undefined, documentation: q.get('documentation') || undefined };
    const [items, all] = await Promise.all([api.all('/sessions', query), groups()]);
    put(results, table('Sessions', ['When', 'Session', 'Status', clinical ? 'Documentation' : null].filter(Boolean),
      items.map((s) => h('tr', {},
        h('td', {}, fmt.dateTime(s.scheduled_at, zoneOf(all, s.group_id))),
        h('td', {}, sessionLink(s, all)),
        h('td', {}, humanize(s.status)),
        clinical ? h('td', {}, documentationBadges(s.documentation)) : null)),
      { empty: 'No sessions match.' }));
  } catch (e) {
    put(results, errorBox(e));
  }
}
