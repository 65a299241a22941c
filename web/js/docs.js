// The offline API reference: every operation of the OpenAPI document, grouped by tag, with its
// parameters, request body and responses (schemas by name, expandable).
import { h, put } from './dom.js';

function ref(schema) {
  if (!schema) return '';
  if (schema.$ref) return schema.$ref.split('/').pop();
  if (schema.type === 'array') return `${ref(schema.items)}[]`;
  if (schema.oneOf || schema.anyOf) return (schema.oneOf || schema.anyOf).map(ref).join(' | ');
  return Array.isArray(schema.type) ? schema.type.join(' | ') : (schema.type || 'object');
}

function bodyOf(content) {
  if (!content) return '';
  return Object.entries(content).map(([type, c]) => `${type}: ${ref(c.schema)}`).join(', ');
}

async function main() {
  const doc = await (await fetch('/api/v1/openapi.json')).json();
  const byTag = new Map();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const tag = (op.tags && op.tags[0]) || 'other';
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push({ path, method, op });
    }
  }
  const sections = [...byTag.entries()].sort().map(([tag, ops]) => h('section', {},
    h('h2', {}, tag),
    ops.map(({ path, method, op }) => h('details', { class: 'note' },
      h('summary', {}, h('code', {}, method.toUpperCase()), ' ', h('code', {}, path), ' ', op.summary || ''),
      h('div', { class: 'body' },
        op.description ? h('p', {}, op.description) : null,
        (op.parameters || []).length ? h('ul', {}, op.parameters.map((p) => h('li', {},
          h('code', {}, p.name), ` (${p.in}${p.required ? ', required' : ''}) ${ref(p.schema)} `, p.description || ''))) : null,
        op.requestBody ? h('p', {}, 'Body: ', h('code', {}, bodyOf(op.requestBody.content))) : null,
        h('ul', {}, Object.entries(op.responses || {}).map(([code, r]) => h('li', {},
          h('strong', {}, code), ' ', r.description || '', ' ', h('code', {}, bodyOf(r.content))))))))));
  const schemas = Object.entries((doc.components && doc.components.schemas) || {}).sort();
  put(document.getElementById('ops'), sections,
    h('section', {}, h('h2', {}, 'Schemas'), schemas.map(([name, s]) => h('details', { class: 'note', id: `schema-${name}` },
      h('summary', {}, h('code', {}, name)),
      h('div', { class: 'body' }, h('pre', {}, JSON.stringify(s, null, 2)))))));
}

main().catch((e) => put(document.getElementById('ops'), h('p', { class: 'alert' }, `Could not load the document: ${e.message}`)));
