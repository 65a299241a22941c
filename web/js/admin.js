// Administration: staff accounts (create, edit, approval state, password-reset tokens), account
// approvals (supervisors), and reports (CSV downloads, an attendance-rate chart per group).
import { h, put, table, badge, humanize, announce } from './dom.js';
import * as api from './api.js';
import * as fmt from './format.js';
import { field, form, errorBox } from './forms.js';
import { groups } from './common.js';
import { rateChart } from './chart.js';

const ROLES = ['admin', 'supervisor', 'therapist', 'intake'].map((r) => [r, humanize(r)]);

export async function staff(view, _params, { user }) {
  const users = await api.all('/users');
  const out = h('div', { role: 'status' });
  const rows = users.map((u) => {
    const cell = h('td', {});
    const edit = form({ label: `Edit ${u.display_name}`, submit: 'Save', class: 'inline', fields: [
      field({ name: 'display_name', label: 'Name', value: u.display_name }),
      u.id === user.id ? null : field({ name: 'role', label: 'Role', type: 'select', options: ROLES, value: u.role }),
      u.id === user.id ? null : field({ name: 'active', label: 'Active (may sign in)', type: 'checkbox', value: u.active }),
    ] }, async (v) => {
      const body = { display_name: v.display_name };
      if (u.id !== user.id) { body.role = v.role; body.active = !!v.active; }
      await api.patch(`/users/${u.id}`, body);
      announce('Account saved.');
      await staffReload();
    });
    const reset = h('button', { type: 'button', class: 'secondary', onclick: async () => {
      try {
        const r = await api.post(`/users/${u.id}/password-reset`, {});
        put(cell, h('p', { class: 'notice' }, 'One-time reset token (shown once; valid until ', fmt.dateTime(r.expires_at), '): ',
          h('code', { class: 'token' }, r.reset_token), '. Give it to the person; they choose their new password with it.'));
      } catch (e) { put(cell, errorBox(e)); }
    } }, 'Password-reset token');
    return h('tr', { 'data-user': u.id },
      h('td', {}, u.display_name, h('div', { class: 'hint' }, u.email)),
      h('td', {}, humanize(u.role)),
      h('td', {}, u.active ? badge('active', 'ok') : badge('inactive', 'danger'), u.approval === 'pending' ? badge('awaiting approval', 'warn') : null),
      h('td', {}, h('details', {}, h('summary', {}, 'Edit'), edit), u.id === user.id ? null : reset, cell));
  });
  const create = form({ label: 'New account', submit: 'Create account', class: 'inline', fields: [
    field({ name: 'email', label: 'Email', type: 'email', required: true, autocomplete: 'off' }),
    field({ name: 'display_name', label: 'Name', required: true, autocomplete: 'off' }),
    field({ name: 'role', label: 'Role', type: 'select', options: ROLES, value: 'therapist' }),
    field({ name: 'password', label: 'Initial password', type: 'password', required: true, autocomplete: 'new-password', hint: 'At least 12 characters, not easily guessed.' }),
  ] }, async (v) => {
    await api.post('/users', v);
    announce('Account created.');
    await staffReload();
  });
  const staffReload = () => staff(view, [], { user });
  put(view, h('h1', {}, 'Staff accounts'),
    h('p', { class: 'sub' }, 'Clinical accounts (therapist, supervisor) you create wait for a supervisor’s approval before they can sign in.'),
    table('Staff accounts', ['Name', 'Role', 'State', ''], rows), out,
    h('section', { class: 'card' }, h('h2', {}, 'New account'), create));
}

export async function approvals(view, _params, { user }) {
  const items = await api.all('/staff/approvals');
  const rows = items.map((u) => {
    const out = h('span', { role: 'status' });
    return h('tr', {}, h('td', {}, u.display_name, u.email ? h('div', { class: 'hint' }, u.email) : null), h('td', {}, humanize(u.role)),
      h('td', {}, u.id === user.id ? 'Another supervisor approves your account.' : h('button', { type: 'button', onclick: async (ev) => {
        ev.target.disabled = true;
        try { await api.post(`/staff/${u.id}/approve`, {}); put(out, badge('approved', 'ok')); ev.target.remove(); } catch (e) { put(out, errorBox(e)); ev.target.disabled = false; }
      } }, 'Approve'), out));
  });
  put(view, h('h1', {}, 'Accounts awaiting approval'), table('Accounts awaiting approval', ['Name', 'Role', ''], rows, { empty: 'No account awaits approval.' }));
}

export async function reports(view) {
  const all = await groups();
  const today = fmt.today();
  const chartBox = h('div', {});
  const filterFields = () => [
    field({ name: 'from', label: 'From', type: 'date', value: fmt.addDays(today, -90) }),
    field({ name: 'to', label: 'To', type: 'date', value: today }),
  ];
  const attendance = form({ label: 'Attendance report', submit: 'Download attendance CSV', class: 'inline', fields: [
    ...filterFields(),
    field({ name: 'group_id', label: 'Group', type: 'select', blank: 'All groups', options: [...all.values()].map((g) => [g.id, g.name]) }),
    field({ name: 'deidentified', label: 'De-identified (pseudonyms, no names)', type: 'checkbox' }),
  ] }, async (v) => {
    const name = await api.download('/reports/attendance', { format: 'csv', from: v.from, to: v.to, group_id: v.group_id, deidentified: v.deidentified ? 'true' : undefined }, 'attendance.csv');
    announce(`Downloaded ${name}.`);
    attendanceDone.textContent = `Downloaded ${name}.`;
    await drawChart(chartBox, v, all);
  });
  const attendanceDone = h('p', { class: 'saved', role: 'status' });
  const retention = form({ label: 'Retention report', submit: 'Download retention CSV', class: 'inline', fields: [
    ...filterFields(),
    field({ name: 'group_by', label: 'Group by', type: 'select', options: ['group', 'therapist', 'referral_source', 'mandated'].map((g) => [g, humanize(g)]) }),
  ] }, async (v) => {
    const name = await api.download('/reports/retention', { format: 'csv', from: v.from, to: v.to, group_by: v.group_by }, 'retention.csv');
    announce(`Downloaded ${name}.`);
    retentionDone.textContent = `Downloaded ${name}.`;
  });
  const retentionDone = h('p', { class: 'saved', role: 'status' });
  put(view, h('h1', {}, 'Reports'),
    h('section', { class: 'card' }, h('h2', {}, 'Attendance'), attendance, attendanceDone),
    h('section', { class: 'card' }, h('h2', {}, 'Attendance rate per group'), chartBox),
    h('section', { class: 'card' }, h('h2', {}, 'Retention'), retention, retentionDone));
  await drawChart(chartBox, { from: fmt.addDays(today, -90), to: today }, all);
}

async function drawChart(box, v, all) {
  try {
    const page = await api.get('/reports/attendance', { format: 'json', from: v.from, to: v.to, group_id: v.group_id, limit: 1 });
    const per = new Map();
    for (const m of page.summary || []) {
      const t = per.get(m.group_id) || { held: 0, attended: 0 };
      t.held += m.sessions_held;
      t.attended += m.present + m.late + m.left_early;
      per.set(m.group_id, t);
    }
    const bars = [...per.entries()].map(([gid, t]) => ({
      label: all.get(gid)?.name || 'group', value: t.held ? t.attended / t.held : null, note: `${t.attended} / ${t.held}`,
    }));
    put(box, bars.length ? rateChart(`Attendance rate per group, ${fmt.calendarDate(v.from)} – ${fmt.calendarDate(v.to)}: attended (present, late, left early) over sessions held while seated`, bars)
      : h('p', {}, 'No held sessions in this window.'));
  } catch (e) {
    put(box, errorBox(e));
  }
}
