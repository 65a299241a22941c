// Break-glass access (42 CFR §2.51, SPEC §8): a therapist outside a client's care team grants
// themself four hours of read access with a reason; every grant waits in the supervisors' review
// queue until it is judged appropriate or not.
import { h, put, table, badge, announce } from './dom.js';
import * as api from './api.js';
import * as fmt from './format.js';
import { field, form, errorBox } from './forms.js';
import { staffName } from './common.js';

export async function emergency(view, _params, { user, navigate }) {
  if (user.role === 'supervisor') return review(view);
  const done = h('div', { role: 'status' });
  put(view, h('h1', {}, 'Emergency access'),
    h('p', { class: 'sub' }, 'For a medical emergency only: read access to one client for four hours. Every grant is recorded and reviewed by a supervisor.'),
    form({ label: 'Grant emergency access', submit: 'Grant four hours of access', danger: true, fields: [
      field({ name: 'client_id', label: 'Client id', required: true, hint: 'From the referral, the client record or a colleague.' }),
      field({ name: 'reason', label: 'Reason (at least 20 characters)', type: 'textarea', required: true }),
    ] }, async (v) => {
      const id = (v.client_id || '').trim();
      if (!/^[0-9a-f-]{36}$/i.test(id)) throw new api.ApiError(422, { title: 'Invalid', detail: 'A client id has 36 characters.', errors: [{ field: 'client_id', message: 'is not a client id' }] });
      const g = await api.post(`/clients/${id}/emergency-access`, { reason: v.reason || '' });
      announce('Emergency access granted.');
      put(done, h('p', {}, `Access until ${fmt.dateTime(g.expires_at)}. `, h('a', { href: `#/clients/${id}` }, 'Open the client')));
    }), done);
}

async function review(view) {
  const items = await api.all('/emergency-access', { reviewed: 'false' });
  const rows = await Promise.all(items.map(async (g) => {
    const out = h('div', { role: 'status' });
    const f = form({ label: 'Review this access', submit: 'Record the review', fields: [
      field({ name: 'outcome', label: 'Outcome', type: 'select', required: true, blank: '— choose —', options: [['appropriate', 'Appropriate'], ['inappropriate', 'Inappropriate']] }),
      field({ name: 'note', label: 'Note', type: 'textarea', required: true }),
    ] }, async (v) => {
      await api.post(`/emergency-access/${g.id}/review`, v);
      announce('Review recorded.');
      put(out, badge(v.outcome, v.outcome === 'appropriate' ? 'ok' : 'danger'));
      f.remove();
    });
    return h('tr', {},
      h('td', {}, fmt.dateTime(g.granted_at), h('div', { class: 'hint' }, `until ${fmt.dateTime(g.expires_at)}`)),
      h('td', {}, await staffName(g.granted_to).catch(() => '')),
      h('td', {}, h('a', { href: `#/clients/${g.client_id}` }, 'client')),
      h('td', {}, g.reason),
      h('td', {}, f, out));
  }));
  put(view, h('h1', {}, 'Emergency access to review'),
    table('Emergency access grants awaiting review, oldest first', ['Granted', 'By', 'Client', 'Reason', 'Review'], rows, { empty: 'No grant awaits review.' }));
}
