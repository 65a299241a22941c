// Labelled fields, and problem+json errors shown beside the fields they name.
import { h, uid, announce } from './dom.js';
import { ApiError } from './api.js';

/// A labelled control. `spec`: {name, label, type?, value?, required?, options?: [[value,label]],
/// hint?, min?, max?, step?, rows?, multiple?, autocomplete?}
export function field(spec) {
  const id = uid(`f-${spec.name}`);
  const errId = `${id}-err`;
  const hintId = spec.hint ? `${id}-hint` : null;
  const describedby = [hintId, errId].filter(Boolean).join(' ');
  const common = {
    id,
    name: spec.name,
    required: spec.required,
    'aria-describedby': describedby,
    autocomplete: spec.autocomplete,
    disabled: spec.disabled,
  };
  let control;
  if (spec.type === 'select') {
    control = h('select', common,
      spec.blank !== undefined ? h('option', { value: '' }, spec.blank) : null,
      spec.options.map(([v, l]) => h('option', { value: v, selected: String(spec.value ?? '') === String(v) }, l)));
  } else if (spec.type === 'textarea') {
    control = h('textarea', { ...common, rows: spec.rows || 3 });
    control.value = spec.value ?? '';
  } else if (spec.type === 'checkbox') {
    control = h('input', { ...common, type: 'checkbox', checked: !!spec.value });
    return h('div', { class: 'field field-check', 'data-field': spec.name },
      control, h('label', { for: id }, spec.label),
      hintId ? h('div', { class: 'hint', id: hintId }, spec.hint) : null,
      h('div', { class: 'error', id: errId }));
  } else if (spec.type === 'checkboxes') {
    const chosen = new Set(spec.value || []);
    return h('fieldset', { class: 'field field-group', 'data-field': spec.name, 'aria-describedby': describedby },
      h('legend', {}, spec.label),
      spec.options.map(([v, l]) => {
        const cid = uid(`f-${spec.name}`);
        return h('span', { class: 'check' },
          h('input', { type: 'checkbox', id: cid, name: spec.name, value: v, checked: chosen.has(v), disabled: spec.disabled }),
          h('label', { for: cid }, l));
      }),
      hintId ? h('div', { class: 'hint', id: hintId }, spec.hint) : null,
      h('div', { class: 'error', id: errId }));
  } else {
    control = h('input', { ...common, type: spec.type || 'text', value: spec.value ?? '', min: spec.min, max: spec.max, step: spec.step, inputmode: spec.inputmode });
  }
  return h('div', { class: 'field', 'data-field': spec.name },
    h('label', { for: id }, spec.label, spec.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
    control,
    hintId ? h('div', { class: 'hint', id: hintId }, spec.hint) : null,
    h('div', { class: 'error', id: errId }));
}

/// A form: fields, a status line for errors that name no field, and a submit button.
/// `onSubmit(values, form)` may throw an ApiError, which is shown.
export function form(spec, onSubmit) {
  const status = h('div', { class: 'form-error', role: 'alert' });
  const button = h('button', { type: 'submit', class: spec.danger ? 'danger' : null }, spec.submit || 'Save');
  const f = h('form', { class: ['form', spec.class], novalidate: true, 'aria-label': spec.label },
    spec.fields, status, h('div', { class: 'actions' }, button, spec.extra));
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(f);
    button.disabled = true;
    try {
      await onSubmit(values(f), f);
    } catch (e) {
      showError(f, e);
    } finally {
      button.disabled = false;
    }
  });
  return f;
}

/// Values by name: checkboxes groups → arrays, single checkboxes → booleans, numbers → numbers,
/// empty strings → absent.
export function values(f) {
  const out = {};
  for (const el of f.elements) {
    if (!el.name || el.disabled) continue;
    const group = el.closest('.field-group');
    if (el.type === 'checkbox' && group) {
      out[el.name] = out[el.name] || [];
      if (el.checked) out[el.name].push(el.value);
    } else if (el.type === 'checkbox') {
      out[el.name] = el.checked;
    } else if (el.type === 'number') {
      if (el.value !== '') out[el.name] = Number(el.value);
    } else if (el.value !== '') {
      out[el.name] = el.value;
    }
  }
  return out;
}

export function clearErrors(f) {
  for (const e of f.querySelectorAll('.error')) e.textContent = '';
  for (const e of f.querySelectorAll('[aria-invalid]')) e.removeAttribute('aria-invalid');
  const s = f.querySelector('.form-error');
  if (s) s.textContent = '';
}

/// Shows an error: each `errors[].field` beside its field (matched by name, also the last part
/// of a dotted or indexed path), the rest in the form's alert line. Focuses the first.
export function showError(f, e) {
  const status = f.querySelector('.form-error');
  if (!(e instanceof ApiError)) {
    status.textContent = `Something went wrong: ${e.message || e}`;
    return;
  }
  let first = null;
  const loose = [];
  for (const item of e.errors) {
    let { field: name, message } = item;
    // A body missing a required field names the body; show it beside the field instead.
    const missing = /missing field `([a-z_]+)`/.exec(message || '');
    if (missing) { name = missing[1]; message = 'Required.'; }
    const candidates = [name, String(name).split(/[.[\]]/).filter(Boolean).pop()];
    const box = candidates.map((n) => f.querySelector(`[data-field="${CSS.escape(n)}"]`)).find(Boolean);
    if (box) {
      let err = box.querySelector('.error');
      if (!err) err = box.appendChild(h('div', { class: 'error' }));
      err.textContent = err.textContent ? `${err.textContent} ${message}` : message;
      const control = box.querySelector('input, select, textarea');
      if (control) control.setAttribute('aria-invalid', 'true');
      first = first || control;
    } else {
      loose.push(`${name}: ${message}`);
    }
  }
  const head = e.errors.length ? 'Please correct the marked fields.' : e.message;
  status.textContent = [head, ...loose].join(' ');
  announce(status.textContent);
  if (first) first.focus();
}

/// A message box for errors outside forms.
export function errorBox(e) {
  const text = e instanceof ApiError ? `${e.message}${e.code ? ` (${e.code})` : ''}` : String(e.message || e);
  return h('div', { class: 'alert', role: 'alert' }, text);
}
