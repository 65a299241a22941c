// A horizontal bar chart as inline SVG, built with DOM calls (no library, no inline style).
import { h } from './dom.js';

/// `bars`: [{label, value (0–1), note}]; returns a <figure> with an accessible table fallback.
export function rateChart(title, bars) {
  const rowH = 34;
  const labelW = 260;
  const width = 720;
  const plotW = width - labelW - 60;
  const height = bars.length * rowH + 30;
  const svg = h('svg:svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': 'chart-title' },
    h('svg:title', { id: 'chart-title' }, title),
    [0, 0.25, 0.5, 0.75, 1].map((t) => [
      h('svg:line', { class: 'axis', x1: labelW + t * plotW, x2: labelW + t * plotW, y1: 0, y2: height - 20, 'stroke-dasharray': t ? '2 3' : null }),
      h('svg:text', { x: labelW + t * plotW, y: height - 5, 'text-anchor': 'middle' }, `${Math.round(t * 100)}%`),
    ]),
    bars.map((b, i) => {
      const y = i * rowH + 6;
      const w = Math.max(0, Math.min(1, b.value ?? 0)) * plotW;
      return h('svg:g', {},
        h('svg:text', { x: labelW - 8, y: y + 16, 'text-anchor': 'end' }, b.label.length > 36 ? `${b.label.slice(0, 35)}…` : b.label),
        h('svg:rect', { class: 'bar', x: labelW, y, width: w, height: rowH - 12, rx: 3 }),
        h('svg:text', { x: labelW + w + 6, y: y + 16 }, b.value == null ? 'no sessions' : `${(b.value * 100).toFixed(1)}%`));
    }));
  return h('figure', { class: 'chart' }, svg,
    h('figcaption', {}, title),
    h('details', {}, h('summary', {}, 'As a table'), h('table', {},
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Group'), h('th', { scope: 'col' }, 'Attendance rate'), h('th', { scope: 'col' }, 'Attended / held'))),
      h('tbody', {}, bars.map((b) => h('tr', {}, h('td', {}, b.label), h('td', {}, b.value == null ? '—' : `${(b.value * 100).toFixed(1)}%`), h('td', {}, b.note || '')))))));
}
