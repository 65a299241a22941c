// The session page: roster and attendance, the group note and each member's note through
// their lifecycle (draft → signed → co-signed, addenda, void), and the documentation state.
import { h, put, badge, clientName, humanize, announce, uid } from './dom.js';
import * as api from './api.js';
import * as fmt from './format.js';
import { field, form, errorBox, showError, clearErrors } from './forms.js';
import { group as loadGroup, documentationBadges, staffName, CLINICAL } from './common.js';

const STATUSES = [
  ['present', 'Present'], ['late', 'Late'], ['left_early', 'Left early'],
  ['excused_absence', 'Excused absence'], ['unexcused_absence', 'Unexcused absence'],
];
const ATTENDED = new Set(['present', 'late', 'left_early']);
const PARTICIPATION = [['active', 'Active'], ['moderate', 'Moderate'], ['minimal', 'Minimal'], ['none', 'None']];
const RISK_FLAGS = [
  ['suicidal_ideation', 'Suicidal ideation'], ['relapse', 'Relapse'],
  ['intoxicated_in_session', 'Intoxicated in session'], ['safety_concern', 'Safety concern'], ['other', 'Other'],
];
const GROUP_FIELDS = [
  ['themes', 'Themes'], ['group_process', 'Group process (cohesion, conflict, here-and-now)'],
  ['interventions', 'Interventions'], ['plan', 'Plan'],
];
const missing = (e) => { if (e.status === 404) return null; throw e; };

export async function session(view, [id], { user }) {
  const clinical = CLINICAL.has(user.role);
  const canRecord = clinical || user.role === 'intake';
  const ctx = { id, user, clinical };
  let sheet = null;
  let etag = null;
  let meta = null;
  if (canRecord) {
    const r = await api.call('GET', `/sessions/${id}/attendance`);
    sheet = r.data;
    etag = r.etag;
    meta = sheet.session;
  } else {
    meta = await api.get(`/sessions/${id}`);
  }
  const grp = await loadGroup(meta.group_id);
  ctx.group = grp;
  ctx.tz = grp.timezone || 'UTC';

  const docBox = h('div', { class: 'documentation', 'aria-live': 'polite' });
  ctx.refreshDocumentation = async () => {
    if (!clinical) return;
    const s = await api.get(`/sessions/${id}`).catch(missing);
    put(docBox, s && s.documentation ? [h('strong', {}, 'Documentation: '), documentationBadges(s.documentation)] : null);
  };

  put(view,
    h('p', { class: 'crumbs' }, h('a', { href: `#/groups/${grp.id}` }, grp.name), ' › session ', String(meta.sequence)),
    h('h1', {}, `${grp.name} · session ${meta.sequence}`),
    h('p', { class: 'sub' },
      fmt.dateTime(meta.scheduled_at, ctx.tz), ` · ${meta.duration_minutes} minutes · `,
      badge(humanize(meta.status), meta.status === 'held' ? 'ok' : meta.status === 'cancelled' ? 'danger' : 'info'),
      meta.cancel_reason ? ` ${meta.cancel_reason}` : ''),
    docBox);
  ctx.refreshDocumentation();

  if (sheet) view.append(attendanceSection(ctx, sheet, etag));
  if (clinical && meta.status !== 'cancelled') {
    const notesBox = h('section', { 'aria-labelledby': 'notes-h' }, h('h2', { id: 'notes-h' }, 'Notes'));
    view.append(notesBox);
    await notesSection(ctx, notesBox, sheet);
  }
}

function attendanceSection(ctx, sheet, etag) {
  const section = h('section', { 'aria-labelledby': 'att-h' }, h('h2', { id: 'att-h' }, 'Attendance'));
  let currentTag = etag;
  const rows = sheet.records.map((r, i) => {
    const statusId = uid('att');
    const late = h('input', {
      type: 'number', min: 0, max: 600, name: `records[${i}].minutes_late`, id: `${statusId}-late`,
      value: r.minutes_late ?? '', disabled: r.status !== 'late', 'aria-label': `Minutes late, ${clientName(r.client)}`,
      'aria-describedby': `${statusId}-err`,
    });
    const select = h('select', { name: `records[${i}].status`, id: statusId, 'data-membership': r.membership_id, 'aria-describedby': `${statusId}-serr` },
      h('option', { value: '' }, '— choose —'),
      STATUSES.map(([v, l]) => h('option', { value: v, selected: r.status === v }, l)));
    select.addEventListener('change', () => {
      late.disabled = select.value !== 'late';
      if (late.disabled) late.value = '';
    });
    return h('tr', { 'data-membership': r.membership_id },
      h('th', { scope: 'row' }, h('label', { for: statusId }, clientName(r.client))),
      h('td', { 'data-field': `records[${i}].status` }, select, h('div', { class: 'error', id: `${statusId}-serr` })),
      h('td', { 'data-field': `records[${i}].minutes_late` }, late,
        h('div', { class: 'error', id: `${statusId}-err` })),
      h('td', {}, r.recorded_at ? `recorded ${fmt.time(r.recorded_at, ctx.tz)}` : 'not recorded'));
  });
  const status = h('div', { class: 'form-error', role: 'alert' });
  const save = h('button', { type: 'submit' }, 'Save attendance');
  const f = h('form', { class: 'attendance', 'aria-labelledby': 'att-h', novalidate: true },
    h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'sr-only' }, 'Roster: status and minutes late of each member'),
      h('thead', {}, h('tr', {}, ['Member', 'Status', 'Minutes late', 'Recorded'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 4, class: 'empty' }, 'No member holds a seat at this session.'))))),
    status,
    h('div', { class: 'actions' }, save, h('button', { type: 'button', class: 'secondary', onclick: () => {
      for (const s of f.querySelectorAll('select')) if (!s.value) { s.value = 'present'; s.dispatchEvent(new Event('change')); }
    } }, 'Mark the rest present')));
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(f);
    const records = [];
    const unchosen = [];
    sheet.records.forEach((r, i) => {
      const s = f.querySelector(`[name="records[${i}].status"]`).value;
      const late = f.querySelector(`[name="records[${i}].minutes_late"]`).value;
      if (!s) unchosen.push(i);
      records.push({ membership_id: r.membership_id, status: s, ...(s === 'late' && late !== '' ? { minutes_late: Number(late) } : {}) });
    });
    if (unchosen.length) {
      const err = new api.ApiError(422, { detail: 'Choose a status for every member.', errors: unchosen.map((i) => ({ field: `records[${i}].status`, message: 'Choose a status.' })) });
      showError(f, err);
      return;
    }
    save.disabled = true;
    try {
      const r = await api.call('PUT', `/sessions/${ctx.id}/attendance`, { body: { records }, ifMatch: currentTag || undefined });
      currentTag = r.etag;
      sheet.records = r.data.records;
      r.data.records.forEach((rec, i) => {
        const row = f.querySelectorAll('tbody tr')[i];
        if (row) row.lastChild.textContent = rec.recorded_at ? `recorded ${fmt.time(rec.recorded_at, ctx.tz)}` : 'not recorded';
      });
      status.textContent = '';
      announce('Attendance saved.');
      saved.textContent = 'Attendance saved.';
      ctx.refreshDocumentation();
      if (ctx.refreshMembers) ctx.refreshMembers(sheet.records);
    } catch (e) {
      if (e.status === 412) e.message = 'Someone else changed this attendance meanwhile. Reload the page to see it.';
      showError(f, e);
    } finally {
      save.disabled = false;
    }
  });
  const saved = h('p', { class: 'saved', role: 'status' });
  if (new Date(sheet.session.scheduled_at) > new Date() && sheet.session.status === 'scheduled') {
    save.disabled = true;
    section.append(h('p', { class: 'hint' }, 'This session has not begun: attendance can be recorded once it starts.'));
  }
  if (sheet.session.status === 'cancelled') save.disabled = true;
  section.append(f, saved);
  return section;
}

async function notesSection(ctx, box, sheet) {
  const index = await api.all('/notes', { session_id: ctx.id }).catch(missing);
  const byMembership = new Map();
  let groupMeta = null;
  for (const n of index || []) {
    if (n.kind === 'group') groupMeta = n;
    else byMembership.set(n.membership_id, n);
  }
  const groupBox = h('section', { class: 'card', 'aria-labelledby': 'gn-h' });
  box.append(groupBox);
  const path = `/sessions/${ctx.id}/group-note`;
  await noteEditor(ctx, groupBox, {
    headingId: 'gn-h', title: 'Group note', path, fields: groupFields, known: groupMeta !== null || index === null,
  });

  box.append(h('h3', { id: 'mn-h' }, 'Member notes'));
  const list = h('div', { 'aria-labelledby': 'mn-h' });
  box.append(list);
  const members = (sheet ? sheet.records : []);
  const draw = (records) => {
    put(list, records.map((r) => {
      const meta = byMembership.get(r.membership_id);
      const body = h('div', { class: 'body' });
      const d = h('details', { class: 'note', 'data-membership': r.membership_id },
        h('summary', {}, h('strong', {}, clientName(r.client)),
          r.status ? badge(humanize(r.status), ATTENDED.has(r.status) ? 'ok' : null) : badge('attendance not recorded'),
          h('span', { class: 'note-state' }, noteState(meta ? meta.status : null, r.status))),
        body);
      const noteBadge = d.querySelector('summary .note-state');
      let loaded = false;
      d.addEventListener('toggle', async () => {
        if (!d.open || loaded) return;
        loaded = true;
        await noteEditor(ctx, body, {
          headingId: uid('mn'), title: `Note on ${clientName(r.client)}`,
          path: `/sessions/${ctx.id}/member-notes/${r.membership_id}`, fields: memberFields, known: index === null || byMembership.has(r.membership_id), level: 'h4',
          onChange: (n) => { byMembership.set(r.membership_id, n); put(noteBadge, noteState(n.status, r.status)); },
        });
      });
      return d;
    }));
    if (!records.length) list.append(h('p', {}, 'No member holds a seat at this session.'));
  };
  draw(members);
  ctx.refreshMembers = draw;
}

function noteState(status, attendance) {
  if (status) return badge(`note ${status}`, status === 'draft' ? 'warn' : status === 'voided' ? 'danger' : 'ok');
  return ATTENDED.has(attendance) ? badge('note expected', 'warn') : null;
}

function groupFields(note, disabled) {
  return GROUP_FIELDS.map(([name, label]) => field({ name, label, type: 'textarea', rows: 3, value: note?.[name] ?? '', disabled }));
}

function memberFields(note, disabled) {
  return [
    field({ name: 'participation', label: 'Participation', type: 'select', blank: '— choose —', options: PARTICIPATION, value: note?.participation ?? '', disabled }),
    field({ name: 'progress', label: "Progress toward the member's goals", type: 'textarea', value: note?.progress ?? '', disabled }),
    field({ name: 'risk_flags', label: 'Risk flags', type: 'checkboxes', options: RISK_FLAGS, value: note?.risk_flags ?? [], disabled }),
    field({ name: 'content', label: 'Note', type: 'textarea', rows: 5, value: note?.content ?? '', disabled }),
  ];
}

function noteBody(values, fieldsOf) {
  const body = { ...values };
  if (fieldsOf === memberFields) body.risk_flags = values.risk_flags || [];
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  return body;
}

/// One note (group or member): loads it and draws the form or the signed text with its actions.
async function noteEditor(ctx, box, spec) {
  const Level = spec.level || 'h3';
  let note = null;
  let etag = null;
  if (spec.known) {
    try {
      const r = await api.call('GET', spec.path);
      note = r.data;
      etag = r.etag;
    } catch (e) {
      if (e.status !== 404) { put(box, h(Level, { id: spec.headingId }, spec.title), errorBox(e)); return; }
    }
  }
  const redraw = () => draw();
  const act = async (fn, message) => {
    const r = await fn();
    note = r.data;
    etag = r.etag;
    announce(message);
    redraw();
    if (spec.onChange) spec.onChange(note);
    box.querySelector('.saved').textContent = message;
    ctx.refreshDocumentation();
  };
  function draw() {
    const status = note ? note.status : null;
    const head = h('div', { class: 'row' }, h(Level, { id: spec.headingId }, spec.title),
      badge(status ? humanize(status) : 'not started', !status || status === 'draft' ? 'warn' : status === 'voided' ? 'danger' : 'ok'));
    const info = h('p', { class: 'hint' });
    if (note) {
      const nameOf = (id) => (id === ctx.user.id ? Promise.resolve('you') : staffName(id));
      Promise.all([nameOf(note.author_id), nameOf(note.cosigned_by)]).then(([a, c]) => {
        info.textContent = [`Written by ${a}`,
          note.signed_at ? `signed ${fmt.dateTime(note.signed_at, ctx.tz)}` : null,
          note.cosigned_at ? `co-signed by ${c} ${fmt.dateTime(note.cosigned_at, ctx.tz)}` : null].filter(Boolean).join(' · ');
      });
    }
    const saved = h('p', { class: 'saved', role: 'status' });
    if (!note || status === 'draft') {
      const mine = !note || note.author_id === ctx.user.id;
      const signBtn = h('button', { type: 'button', class: 'secondary', disabled: !mine }, 'Sign note');
      const f = form({ label: spec.title, submit: 'Save draft', fields: spec.fields(note, !mine), extra: signBtn }, async (v) => {
        await act(() => api.call('PUT', spec.path, { body: noteBody(v, spec.fields), ifMatch: etag || undefined }), 'Draft saved.');
      });
      signBtn.addEventListener('click', async () => {
        clearErrors(f);
        signBtn.disabled = true;
        try {
          const v = (await import('./forms.js')).values(f);
          const r = await api.call('PUT', spec.path, { body: noteBody(v, spec.fields), ifMatch: etag || undefined });
          etag = r.etag;
          await act(() => api.call('POST', `${spec.path}/sign`, { body: {} }), 'Note signed.');
        } catch (e) {
          showError(f, e);
        } finally {
          signBtn.disabled = false;
        }
      });
      put(box, head, info,
        mine ? h('p', { class: 'hint' }, 'Signing makes the note final: later corrections are addenda.') : h('p', { class: 'hint' }, 'A draft of a colleague: only its author edits and signs it.'),
        f, saved, status === 'draft' ? voidForm() : null);
      return;
    }
    const text = h('dl', { class: 'readonly' }, (spec.fields === groupFields ? GROUP_FIELDS : [['participation', 'Participation'], ['progress', 'Progress'], ['risk_flags', 'Risk flags'], ['content', 'Note']])
      .map(([k, l]) => [h('dt', {}, l), h('dd', {}, Array.isArray(note[k]) ? (note[k].map(humanize).join(', ') || 'none') : humanize(k === 'participation' ? note[k] : '') || (note[k] ?? ''))]));
    const addenda = (note.addenda || []).length ? h('div', { class: 'addenda' }, h('strong', {}, 'Addenda'),
      note.addenda.map((a) => {
        const who = h('span', {});
        staffName(a.author_id).then((n) => { who.textContent = n; });
        return h('p', {}, h('span', { class: 'hint' }, fmt.dateTime(a.created_at, ctx.tz), ' · ', who, ': '), a.content);
      })) : null;
    const actions = [];
    if (status === 'signed' && ctx.user.role === 'supervisor' && note.author_id !== ctx.user.id) {
      actions.push(h('button', { type: 'button', onclick: async (ev) => {
        ev.target.disabled = true;
        try { await act(() => api.call('POST', `${spec.path}/cosign`, { body: {} }), 'Note co-signed.'); } catch (e) { saved.replaceWith(errorBox(e)); ev.target.disabled = false; }
      } }, 'Co-sign'));
    }
    const addendum = status === 'voided' ? null : form({ label: `Addendum to ${spec.title}`, submit: 'Add addendum', fields: [field({ name: 'content', label: 'Addendum', type: 'textarea', rows: 2, required: true })] }, async (v, f) => {
      await act(() => api.call('POST', `${spec.path}/addenda`, { body: { content: v.content || '' } }), 'Addendum added.');
      f.reset();
    });
    put(box, head, info, status === 'voided' && note.void_reason ? h('p', { class: 'warning' }, `Voided: ${note.void_reason}`) : null,
      text, addenda, actions.length ? h('div', { class: 'actions' }, actions) : null, saved,
      addendum ? h('details', {}, h('summary', {}, 'Add an addendum'), addendum) : null,
      status !== 'voided' ? voidForm() : null);
  }
  function voidForm() {
    if (!(ctx.user.role === 'supervisor' || (note && note.author_id === ctx.user.id))) return null;
    return h('details', { class: 'void' }, h('summary', {}, 'Entered in error? Void this note'),
      form({ label: `Void ${spec.title}`, submit: 'Void note', danger: true, fields: [field({ name: 'reason', label: 'Reason', type: 'text', required: true })] }, async (v) => {
        await act(() => api.call('POST', `${spec.path}/void`, { body: { reason: v.reason || '' } }), 'Note voided.');
      }));
  }
  draw();
}
