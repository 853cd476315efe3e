// diff.js: what a step changed in the state, as paths (chat_history[1], counter) with their old
// and new values. Objects are compared key by key and arrays index by index, so appending to a
// list shows as one added item, not as the whole list replaced.
import { h } from '../dom.js';
import { joinPath, jsonTree } from './json-tree.js';
import { preview } from '../format.js';

const MAX_CHANGES = 500;
const INTERNAL = /^__/; // Burr's __SEQUENCE_ID and __PRIOR_STEP change on every step

const kindOf = (v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

// -> [{path, kind: 'added'|'removed'|'changed', before, after}], at most MAX_CHANGES.
export function diffValues(a, b, path = '', out = []) {
  if (out.length >= MAX_CHANGES) return out;
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka === 'object' && kb === 'object') {
    for (const k of Object.keys(a)) {
      const p = joinPath(path, k, false);
      if (!(k in b)) out.push({ path: p, kind: 'removed', before: a[k] });
      else diffValues(a[k], b[k], p, out);
    }
    for (const k of Object.keys(b)) {
      if (!(k in a)) out.push({ path: joinPath(path, k, false), kind: 'added', after: b[k] });
    }
  } else if (ka === 'array' && kb === 'array') {
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n && out.length < MAX_CHANGES; i++) {
      const p = joinPath(path, String(i), true);
      if (i >= a.length) out.push({ path: p, kind: 'added', after: b[i] });
      else if (i >= b.length) out.push({ path: p, kind: 'removed', before: a[i] });
      else diffValues(a[i], b[i], p, out);
    }
  } else if (ka !== kb || a !== b) {
    out.push({ path, kind: 'changed', before: a, after: b });
  }
  return out;
}

export function stateChanges(before, after) {
  const all = diffValues(before || {}, after || {});
  const top = (p) => p.split(/[.[]/)[0];
  return {
    changes: all.filter((c) => !INTERNAL.test(top(c.path))),
    internal: all.filter((c) => INTERNAL.test(top(c.path))),
  };
}

function value(v, cls) {
  if (v !== null && typeof v === 'object' && JSON.stringify(v).length > 90) {
    return h('div', { class: cls }, jsonTree(v, { open: 0 }));
  }
  return h('div', { class: ['diff-val', cls] }, preview(v, 2000));
}

const SIGN = { added: '+', removed: '−', changed: '~' };
const BADGE = { added: 'ok', removed: 'fail', changed: 'run' };

export function diffTable(changes) {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data diff', 'data-testid': 'state-diff' },
    h('tbody', null, changes.map((c) => h('tr', { 'data-kind': c.kind, 'data-path': c.path },
      h('td', { class: 'k' }, h('span', { class: ['badge', BADGE[c.kind]], title: c.kind }, `${SIGN[c.kind]} ${c.kind}`)),
      h('td', { class: 'nowrap' }, c.path),
      h('td', null,
        c.kind !== 'added' ? value(c.before, 'diff-old') : null,
        c.kind !== 'removed' ? value(c.after, 'diff-new') : null))))));
}
