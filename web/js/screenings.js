// Screenings (list, complete with an assessment, cancel, no-show) and the waitlist with
// admissions into a group (composition warnings shown).
import { h, put, table, badge, clientName, humanize, announce } from './dom.js';
import * as api from './api.js';
import * as fmt from './format.js';
import { field, form, errorBox } from './forms.js';
import { groups, staff, compositionWarnings, CLINICAL } from './common.js';

const STATUSES = ['scheduled', 'completed', 'cancelled', 'no_show'].map((v) => [v, humanize(v)]);
const OUTCOMES = ['accepted', 'deferred', 'declined', 'referred_elsewhere'].map((v) => [v, humanize(v)]);
const CONTRA = ['acute_psychosis', 'suicidal_risk', 'homicidal_risk', 'cognitive_impairment', 'active_intoxication', 'severe_antisocial', 'cannot_tolerate_group', 'other'].map((v) => [v, humanize(v)]);

const names = new Map();
function clientLabel(id) {
  if (!names.has(id)) names.set(id, api.get(`/clients/${id}`).then(clientName).catch(() => 'client'));
  return names.get(id);
}

export async function list(view, _params, { user, navigate }) {
  const q = new URLSearchParams(location.hash.split('?')[1] || '');
  const status = q.has('status') ? q.get('status') : 'scheduled';
  const mine = q.get('mine') === 'true';
  const filters = form({ label: 'Filter screenings', submit: 'Show', class: 'inline', fields: [
    field({ name: 'status', label: 'Status', type: 'select', blank: 'Any', options: STATUSES, value: status }),
    CLINICAL.has(user.role) ? field({ name: 'mine', label: 'Only mine', type: 'checkbox', value: mine }) : null,
  ] }, async (v) => navigate(`/screenings?status=${v.status || ''}${v.mine ? '&mine=true' : ''}`));
  const results = h('div', {}, h('p', { class: 'loading' }, 'Loading…'));
  put(view, h('h1', {}, 'Screenings'), filters, results);
  const [items, people] = await Promise.all([
    api.all('/screenings', { status: status || undefined, interviewer_id: mine ? user.id : undefined }),
    staff().catch(() => new Map()),
  ]);
  const rows = await Promise.all(items.map(async (s) => h('tr', {},
    h('td', {}, h('a', { href: `#/screenings/${s.id}` }, fmt.dateTime(s.scheduled_at))),
    h('td', {}, s.client_name || await clientLabel(s.client_id)),
    h('td', {}, people.get(s.interviewer_id)?.display_name || ''),
    h('td', {}, badge(humanize(s.status)), s.outcome ? badge(humanize(s.outcome), s.outcome === 'accepted' ? 'ok' : null) : null))));
  put(results, table('Screenings', ['When', 'Client', 'Interviewer', 'Status'], rows, { empty: 'No screening matches.' }),
    h('p', { class: 'hint' }, 'To schedule a screening, open the client’s page.'));
}

export async function detail(view, [id], { user }) {
  const s = await api.get(`/screenings/${id}`);
  const [people, all, who] = await Promise.all([staff().catch(() => new Map()), groups(), clientLabel(s.client_id)]);
  const interviewer = people.get(s.interviewer_id)?.display_name || 'the interviewer';
  const maySee = CLINICAL.has(user.role);
  const mayComplete = user.role === 'supervisor' || s.interviewer_id === user.id;
  const mayCancel = user.role === 'supervisor' || user.role === 'intake' || s.interviewer_id === user.id;
  put(view, h('h1', {}, `Screening of ${who}`),
    h('p', { class: 'sub' }, fmt.dateTime(s.scheduled_at), ` · with ${interviewer}`,
      s.group_id ? ` · for ${all.get(s.group_id)?.name || 'a group'}` : '', ' · ', badge(humanize(s.status)),
      s.outcome ? badge(humanize(s.outcome), s.outcome === 'accepted' ? 'ok' : null) : null),
    h('p', {}, h('a', { href: `#/clients/${s.client_id}` }, `${who}’s page`)),
    s.valid_until ? h('p', {}, `Valid for admission until ${fmt.day(s.valid_until)}.`) : null);
  if (s.assessment && maySee) {
    const a = s.assessment;
    view.append(h('section', { class: 'card' }, h('h2', {}, 'Assessment'), h('dl', { class: 'readonly' },
      h('dt', {}, 'Motivation'), h('dd', {}, `${a.motivation} of 5`),
      h('dt', {}, 'Contraindications'), h('dd', {}, (a.contraindications || []).map(humanize).join(', ') || 'none'),
      h('dt', {}, 'Concurrent therapies'), h('dd', {}, a.concurrent_therapies || '—'),
      h('dt', {}, 'Substance use'), h('dd', {}, a.substance_use_summary || '—'),
      h('dt', {}, 'Notes'), h('dd', {}, a.notes || '—'))));
  }
  if (s.status !== 'scheduled') return;
  if (mayComplete) {
    const f = form({ label: 'Complete the screening', submit: 'Complete screening', fields: [
      field({ name: 'outcome', label: 'Outcome', type: 'select', required: true, blank: '— choose —', options: OUTCOMES }),
      field({ name: 'motivation', label: 'Motivation (1–5)', type: 'number', min: 1, max: 5, required: true }),
      field({ name: 'contraindications', label: 'Contraindications', type: 'checkboxes', options: CONTRA, hint: 'Accepting a client with any contraindication other than “other” is refused.' }),
      field({ name: 'concurrent_therapies', label: 'Concurrent therapies', type: 'textarea', rows: 2 }),
      field({ name: 'substance_use_summary', label: 'Substance use summary', type: 'textarea', rows: 2 }),
      field({ name: 'notes', label: 'Notes', type: 'textarea', rows: 3 }),
      field({ name: 'completed_at', label: 'Completed at', type: 'datetime-local', hint: 'Leave empty for now; a past time records a late entry.' }),
    ] }, async (v) => {
      const body = {
        outcome: v.outcome,
        assessment: {
          motivation: v.motivation, contraindications: v.contraindications || [],
          concurrent_therapies: v.concurrent_therapies || '', substance_use_summary: v.substance_use_summary || '', notes: v.notes || '',
        },
      };
      if (v.completed_at) body.completed_at = fmt.localToUtc(v.completed_at);
      await api.post(`/screenings/${id}/complete`, body);
      announce('Screening completed.');
      await detail(view, [id], { user });
    });
    view.append(h('section', { class: 'card' }, h('h2', {}, 'Complete'), f));
  }
  if (mayCancel) {
    const out = h('div', { role: 'status' });
    const act = (path, label) => h('button', { type: 'button', class: 'secondary', onclick: async () => {
      try { await api.post(`/screenings/${id}/${path}`, {}); announce(`Screening ${label}.`); await detail(view, [id], { user }); } catch (e) { put(out, errorBox(e)); }
    } }, path === 'cancel' ? 'Cancel screening' : 'Record no-show');
    view.append(h('div', { class: 'actions' }, act('cancel', 'cancelled'), act('no-show', 'marked as no-show')), out);
  }
}

export async function waitlist(view, _params, { user, navigate }) {
  const q = new URLSearchParams(location.hash.split('?')[1] || '');
  const groupId = q.get('group_id') || '';
  const all = await groups();
  const open = [...all.values()].filter((g) => g.status === 'forming' || g.status === 'active');
  const filters = form({ label: 'Filter the waitlist', submit: 'Show', class: 'inline', fields: [
    field({ name: 'group_id', label: 'Screened for', type: 'select', blank: 'Any group', options: open.map((g) => [g.id, g.name]), value: groupId }),
  ] }, async (v) => navigate(`/waitlist${v.group_id ? `?group_id=${v.group_id}` : ''}`));
  const results = h('div', {});
  put(view, h('h1', {}, 'Waitlist'),
    h('p', { class: 'sub' }, 'Clients with a valid accepted screening and no seat, oldest screening first.'), filters, results);
  const items = await api.all('/waitlist', { group_id: groupId || undefined });
  const mayAdmit = user.role === 'supervisor' || user.role === 'therapist';
  put(results, table('Waitlist', ['Client', 'Screened for', 'Valid until', mayAdmit ? 'Admit' : null].filter(Boolean), items.map((w) => {
    const out = h('div', { role: 'status' });
    const target = w.screened_for_group_id || groupId;
    const admitForm = mayAdmit ? form({ label: `Admit ${clientName(w.client)}`, submit: 'Admit', class: 'inline', fields: [
      field({ name: 'group_id', label: 'Group', type: 'select', required: true, options: open.filter((g) => !w.screened_for_group_id || g.id === w.screened_for_group_id).map((g) => [g.id, g.name]), value: target }),
      user.role === 'supervisor' ? field({ name: 'override_reason', label: 'Override reason (replacement in a started group)', hint: 'Only for a group already under way' }) : null,
    ] }, async (v) => {
      const m = await api.post(`/groups/${v.group_id}/members`, { client_id: w.client.id, screening_id: w.screening_id, override_reason: v.override_reason });
      put(out, h('p', { class: 'notice' }, `${clientName(w.client)} admitted: the seat is pending until the group agreement is signed. `,
        h('a', { href: `#/memberships/${m.id}` }, 'Record the signature')), compositionWarnings(m.composition_warnings));
      announce('Admitted.');
    }) : null;
    return h('tr', {},
      h('td', {}, h('a', { href: `#/clients/${w.client.id}` }, clientName(w.client)), w.client.mandated ? badge('mandated') : null),
      h('td', {}, w.screened_for_group_id ? (all.get(w.screened_for_group_id)?.name || 'a group') : 'any group'),
      h('td', {}, fmt.day(w.valid_until)),
      mayAdmit ? h('td', {}, h('details', {}, h('summary', {}, 'Admit…'), admitForm), out) : null);
  }), { empty: 'Nobody is waiting.' }));
}
