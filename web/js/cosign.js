// The supervisor's co-sign queue (GET /notes?awaiting_cosign=true): each note is read in place
// before it is co-signed.
import { h, put, table, badge, humanize, clientName, announce } from './dom.js';
import * as api from './api.js';
import * as fmt from './format.js';
import { groups, staffName } from './common.js';
import { errorBox } from './forms.js';

const GROUP_FIELDS = [['themes', 'Themes'], ['group_process', 'Group process'], ['interventions', 'Interventions'], ['plan', 'Plan']];
const MEMBER_FIELDS = [['participation', 'Participation'], ['progress', 'Progress'], ['risk_flags', 'Risk flags'], ['content', 'Note']];

function notePath(n) {
  return n.kind === 'group'
    ? `/sessions/${n.session_id}/group-note`
    : `/sessions/${n.session_id}/member-notes/${n.membership_id}`;
}

async function nameOf(n, cache) {
  if (n.kind === 'group') return 'the whole group';
  if (n.client_name) return n.client_name;
  if (!n.client_id) return 'a member';
  if (!cache.has(n.client_id)) cache.set(n.client_id, api.get(`/clients/${n.client_id}`).then(clientName).catch(() => 'a member'));
  return cache.get(n.client_id);
}

export async function cosign(view) {
  const [items, all] = await Promise.all([api.all('/notes', { awaiting_cosign: 'true' }), groups()]);
  const names = new Map();
  const rows = await Promise.all(items.map(async (n) => {
    const g = all.get(n.group_id);
    const tz = g ? g.timezone : fmt.browserZone;
    const about = await nameOf(n, names);
    const author = await staffName(n.author_id);
    const reader = h('div', { class: 'reader' });
    const open = h('button', { type: 'button', class: 'secondary', 'aria-expanded': 'false' }, 'Read and co-sign');
    open.addEventListener('click', async () => {
      if (open.getAttribute('aria-expanded') === 'true') {
        put(reader);
        open.setAttribute('aria-expanded', 'false');
        return;
      }
      open.setAttribute('aria-expanded', 'true');
      try {
        const note = await api.get(notePath(n));
        const fields = n.kind === 'group' ? GROUP_FIELDS : MEMBER_FIELDS;
        const sign = h('button', { type: 'button' }, 'Co-sign');
        const result = h('p', { role: 'status' });
        sign.addEventListener('click', async () => {
          sign.disabled = true;
          try {
            await api.post(`${notePath(n)}/cosign`, {});
            put(result, 'Co-signed.');
            announce('Note co-signed.');
            open.remove();
            sign.remove();
            put(row.querySelector('.status'), badge('cosigned', 'ok'));
          } catch (e) {
            sign.disabled = false;
            put(result, errorBox(e));
          }
        });
        put(reader, h('dl', { class: 'readonly' }, fields.map(([k, l]) => [h('dt', {}, l),
          h('dd', {}, Array.isArray(note[k]) ? (note[k].map(humanize).join(', ') || 'none') : (note[k] ?? ''))])),
        (note.addenda || []).map((a) => h('p', { class: 'addenda' }, h('span', { class: 'hint' }, `${fmt.dateTime(a.created_at, tz)}: `), a.content)),
        h('div', { class: 'actions' }, sign), result);
        sign.focus();
      } catch (e) {
        put(reader, errorBox(e));
      }
    });
    const row = h('tr', { 'data-note': n.id },
      h('td', {}, h('a', { href: `#/sessions/${n.session_id}` }, g ? g.name : 'Session')),
      h('td', {}, n.kind === 'group' ? 'Group note' : 'Member note', h('div', { class: 'hint' }, about)),
      h('td', {}, author),
      h('td', {}, fmt.dateTime(n.signed_at, tz)),
      h('td', { class: 'status' }, badge('signed', 'warn')),
      h('td', {}, open, reader));
    return row;
  }));
  put(view, h('h1', {}, 'Co-sign queue'),
    h('p', { class: 'sub' }, `${items.length} signed ${items.length === 1 ? 'note awaits' : 'notes await'} a supervisor's co-signature.`),
    table('Notes awaiting co-signature', ['Group', 'Note', 'Author', 'Signed', 'Status', ''], rows, { empty: 'Nothing awaits your co-signature.' }));
}
