// Look-ups shared by screens (cached for a minute), and the badges of SPEC §7 and §2.
import { h, badge, humanize } from './dom.js';
import * as api from './api.js';

const cache = new Map();
api.onAuthChange(() => cache.clear());

async function cached(key, load) {
  const hit = cache.get(key);
  if (hit && hit.until > Date.now()) return hit.value;
  const value = await load();
  cache.set(key, { value, until: Date.now() + 60000 });
  return value;
}

export function forget(key) {
  cache.delete(key);
}

/// Every group the caller may see, by id.
export function groups() {
  return cached('groups', async () => new Map((await api.all('/groups')).map((g) => [g.id, g])));
}

export async function group(id) {
  const all = await groups();
  if (all.has(id)) return all.get(id);
  return api.get(`/groups/${id}`);
}

/// The staff directory (`GET /staff`), by id.
export function staff() {
  return cached('staff', async () => {
    let people;
    try {
      people = await api.all('/staff');
    } catch (e) {
      // A server older than SPEC v2 has no directory; an administrator can still list users.
      if (e.status !== 404 || api.currentUser()?.role !== 'admin') throw e;
      people = await api.all('/users');
    }
    return new Map(people.map((s) => [s.id, s]));
  });
}

export async function staffName(id) {
  if (!id) return '';
  try {
    const s = (await staff()).get(id);
    return s ? s.display_name : 'a colleague';
  } catch {
    return 'a colleague';
  }
}

export const CLINICAL = new Set(['therapist', 'supervisor']);

export function documentationBadges(d) {
  if (!d) return null;
  const out = [];
  if (d.complete) out.push(badge('documented', 'ok'));
  else if (d.overdue) out.push(badge('documentation overdue', 'danger'));
  out.push(badge(d.attendance_recorded ? 'attendance recorded' : 'attendance missing', d.attendance_recorded ? 'ok' : 'warn'));
  out.push(badge(d.group_note ? `group note ${d.group_note}` : 'no group note', d.group_note === 'draft' || !d.group_note ? 'warn' : 'ok'));
  if (d.member_notes_expected) {
    const done = d.member_notes_signed >= d.member_notes_expected;
    out.push(badge(`member notes ${d.member_notes_signed}/${d.member_notes_expected} signed`, done ? 'ok' : 'warn'));
  }
  return h('span', { class: 'badges' }, out);
}

export function membershipBadges(m) {
  const out = [badge(humanize(m.status), m.status === 'active' ? 'ok' : m.status === 'exiting' ? 'info' : null)];
  if (m.at_risk) out.push(badge('at risk', 'danger'));
  if (m.contract_current === false && ['active', 'exiting'].includes(m.status)) out.push(badge('contract not current', 'warn'));
  if (m.contract_current === true) out.push(badge('contract current', 'ok'));
  if (m.minimum_term_met) out.push(badge('minimum term met', 'ok'));
  return h('span', { class: 'badges' }, out);
}

export function compositionWarnings(list) {
  if (!list || !list.length) return null;
  return h('div', { class: 'warning', role: 'note' },
    h('strong', {}, 'Composition: '),
    list.map((w, i) => [i ? '; ' : '', `only one member with ${humanize(w.attribute)} “${humanize(String(w.value))}”`]),
    ' (TIP 41: avoid a lone member of their kind).');
}
