// Building DOM without innerHTML: every text is a text node, so names and notes can never
// become markup (and the Content-Security-Policy forbids inline script anyway).

export function h(tag, attrs, ...children) {
  const el = tag.startsWith('svg:')
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2).toLowerCase(), v);
    } else if (k === 'class') {
      el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    } else if (k === 'value' && 'value' in el && !(el instanceof SVGElement)) {
      el.value = v;
    } else if (k === 'checked' || k === 'selected') {
      el[k] = !!v;
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/// Replaces the contents of `el`.
export function put(el, ...children) {
  return append(clear(el), children);
}

let seq = 0;
export function uid(prefix = 'id') {
  seq += 1;
  return `${prefix}-${seq}`;
}

/// Tells screen readers what just happened.
export function announce(text) {
  const live = document.getElementById('announce');
  if (!live) return;
  live.textContent = '';
  setTimeout(() => { live.textContent = text; }, 50);
}

export function badge(text, kind) {
  return h('span', { class: ['badge', kind && `badge-${kind}`] }, text);
}

export function table(caption, headers, rows, opts = {}) {
  return h('div', { class: 'table-wrap' },
    h('table', { class: opts.class },
      h('caption', { class: opts.captionVisible ? null : 'sr-only' }, caption),
      h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows.length
        ? rows
        : h('tr', {}, h('td', { colspan: headers.length, class: 'empty' }, opts.empty || 'Nothing here.')))));
}

export function clientName(c) {
  if (!c) return '';
  const first = c.preferred_name ? `${c.first_name} “${c.preferred_name}”` : c.first_name;
  return `${first} ${c.last_name}`;
}

export function humanize(s) {
  return s ? String(s).replace(/_/g, ' ') : '';
}
