// A client's Part 2 consents (42 CFR §2.31): list, record a signed consent, revoke; and the
// disclosures made under them (§2.24's accounting), each with its PDF letter.
import { h, put, table, badge, humanize, clientName, announce } from './dom.js';
import * as api from './api.js';
import * as fmt from './format.js';
import { field, form, errorBox } from './forms.js';

const KINDS = ['court', 'probation', 'employer', 'physician', 'treatment_program', 'family', 'other'].map((v) => [v, humanize(v)]);
const INFO = ['attendance', 'membership_status', 'screening_outcome', 'record'].map((v) => [v, humanize(v)]);
const WRITERS = new Set(['supervisor', 'intake', 'therapist']);

export async function section(client, user) {
  const box = h('section', { 'aria-labelledby': 'consents-h' }, h('h2', { id: 'consents-h' }, 'Consents to disclose (42 CFR Part 2)'));
  await draw(box, client, user);
  return box;
}

async function draw(box, client, user) {
  let items;
  try {
    items = await api.all(`/clients/${client.id}/consents`);
  } catch (e) {
    if (e.status === 404) { box.remove(); return; }
    box.append(errorBox(e));
    return;
  }
  const redraw = async () => { put(box, h('h2', { id: 'consents-h' }, 'Consents to disclose (42 CFR Part 2)')); await draw(box, client, user); };
  box.append(table('Consents of this client', ['Recipient', 'Purpose', 'Information', 'Valid', 'Status', ''], items.map((c) => {
    const out = h('div', { role: 'status' });
    const revoke = WRITERS.has(user.role) && c.status === 'active' ? h('details', {}, h('summary', {}, 'Revoke'),
      form({ label: `Revoke consent for ${c.recipient_name}`, submit: 'Revoke consent', danger: true, fields: [field({ name: 'reason', label: 'Reason', required: true })] }, async (v) => {
        await api.post(`/consents/${c.id}/revoke`, { reason: v.reason || '' });
        announce('Consent revoked.');
        await redraw();
      })) : null;
    return h('tr', {},
      h('td', {}, c.recipient_name, h('div', { class: 'hint' }, humanize(c.recipient_kind))),
      h('td', {}, c.purpose),
      h('td', {}, (c.information || []).map(humanize).join(', ')),
      h('td', {}, `from ${fmt.calendarDate(c.effective_on)}`, c.expires_on ? ` to ${fmt.calendarDate(c.expires_on)}` : '', c.expires_event ? ` until ${c.expires_event}` : ''),
      h('td', {}, badge(humanize(c.status), c.status === 'active' ? 'ok' : 'danger'), c.revocation_reason ? h('div', { class: 'hint' }, c.revocation_reason) : null),
      h('td', {}, revoke, out));
  }), { empty: 'No consent on file: nothing identifying may be disclosed.' }));
  await disclosures(box, client, user, items, redraw);
  if (WRITERS.has(user.role)) {
    box.append(h('details', { class: 'card' }, h('summary', {}, 'Record a signed consent'),
      form({ label: 'Record a signed consent', submit: 'Record consent', class: 'inline', fields: [
        field({ name: 'recipient_name', label: 'Recipient', required: true }),
        field({ name: 'recipient_kind', label: 'Kind of recipient', type: 'select', required: true, blank: '— choose —', options: KINDS }),
        field({ name: 'purpose', label: 'Purpose', required: true }),
        field({ name: 'information', label: 'Information that may be disclosed', type: 'checkboxes', options: INFO }),
        field({ name: 'effective_on', label: 'Effective on', type: 'date', hint: 'Default: the day of the signature' }),
        field({ name: 'expires_on', label: 'Expires on', type: 'date', hint: 'Or give an expiring event' }),
        field({ name: 'expires_event', label: 'Expires on the event', hint: 'e.g. “end of probation”' }),
        field({ name: 'signature_name', label: 'Name as signed', required: true, value: clientName({ ...client, preferred_name: null }) }),
      ] }, async (v) => {
        await api.post(`/clients/${client.id}/consents`, v);
        announce('Consent recorded.');
        await redraw();
      })));
  }
}

/// The accounting of disclosures (newest first), each letter downloadable, and — for the roles
/// that may disclose — a disclosure under one of the active consents.
async function disclosures(box, client, user, consents, redraw) {
  let items;
  try {
    items = await api.all(`/clients/${client.id}/disclosures`);
  } catch (e) {
    box.append(errorBox(e));
    return;
  }
  box.append(h('h3', { id: 'disclosures-h' }, 'Disclosures (accounting)'));
  box.append(table('Disclosures of this client, newest first', ['Disclosed', 'Recipient', 'Information', 'Period', 'Letter'], items.map((d) => {
    const out = h('span', { role: 'status' });
    const get = h('button', { type: 'button', class: 'secondary', 'data-disclosure': d.id }, 'Download PDF');
    get.addEventListener('click', async () => {
      try {
        const name = await api.download(`/disclosures/${d.id}/document`, undefined, `disclosure-${d.id}.pdf`, 'application/pdf');
        put(out, ` saved ${name}`);
      } catch (e) { put(out, errorBox(e)); }
    });
    return h('tr', {},
      h('td', {}, fmt.dateTime(d.disclosed_at)),
      h('td', {}, d.recipient_name, d.purpose ? h('div', { class: 'hint' }, d.purpose) : null),
      h('td', {}, (d.information || []).map(humanize).join(', ')),
      h('td', {}, d.period_from ? fmt.calendarDate(d.period_from) : '…', ' – ', d.period_to ? fmt.calendarDate(d.period_to) : '…'),
      h('td', {}, get, out));
  }), { empty: 'Nothing has been disclosed.' }));
  const active = consents.filter((c) => c.status === 'active');
  if (!WRITERS.has(user.role) || !active.length) return;
  box.append(h('details', { class: 'card' }, h('summary', {}, 'Disclose under a consent'),
    form({ label: 'Disclose under a consent', submit: 'Disclose and make the letter', class: 'inline', fields: [
      field({ name: 'consent_id', label: 'Consent', type: 'select', required: true, blank: '— choose —', options: active.map((c) => [c.id, `${c.recipient_name} — ${c.purpose}`]) }),
      field({ name: 'information', label: 'Information to disclose', type: 'checkboxes', options: INFO, hint: 'The consent must cover every kind chosen.' }),
      field({ name: 'from', label: 'Period from', type: 'date' }),
      field({ name: 'to', label: 'Period to', type: 'date' }),
    ] }, async (v) => {
      await api.post(`/clients/${client.id}/disclosures`, v);
      announce('Disclosed; the letter is in the accounting.');
      await redraw();
    })));
}
