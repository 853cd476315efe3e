// json-tree.js: a collapsible JSON viewer for inputs, results, states and attribute values.
//
// Large values stay readable and cheap: children are built only when their node is first
// opened, arrays and objects show 100 entries at a time, and long strings are cut with a
// "show all" button. Paths (a.b[2]["odd key"]) name nodes, so a diff can mark what changed.
import { h } from '../dom.js';

const CHUNK = 100;
const LONG_STRING = 280;
const IDENT = /^[A-Za-z_$][\w$]*$/;

export function joinPath(parent, key, isIndex) {
  if (isIndex) return `${parent}[${key}]`;
  if (IDENT.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}

function isContainer(v) {
  return v !== null && typeof v === 'object';
}

function summary(v) {
  if (Array.isArray(v)) return v.length === 1 ? '[1 item]' : `[${v.length} items]`;
  const n = Object.keys(v).length;
  return n === 1 ? '{1 key}' : `{${n} keys}`;
}

function stringLeaf(str) {
  const text = JSON.stringify(str);
  if (text.length <= LONG_STRING) return h('span', { class: 'jt-str' }, text);
  const span = h('span', { class: 'jt-str' }, text.slice(0, LONG_STRING) + '…');
  const more = h('button', {
    class: 'jt-more', type: 'button',
    onclick: () => {
      // Multi-line strings read better with their line breaks than as "\n" escapes.
      span.textContent = str.includes('\n') ? `"${str}"` : text;
      more.remove();
    },
  }, `show all ${str.length.toLocaleString('en-US')} chars`);
  return [span, ' ', more];
}

function primitive(v) {
  if (v === null) return h('span', { class: 'jt-null' }, 'null');
  switch (typeof v) {
    case 'string': return stringLeaf(v);
    case 'number': return h('span', { class: 'jt-num' }, String(v));
    case 'boolean': return h('span', { class: 'jt-bool' }, String(v));
    default: return h('span', null, String(v));
  }
}

function keyLabel(key, isIndex) {
  if (key === undefined) return null;
  return [h('span', { class: isIndex ? 'jt-sum' : 'jt-key' }, isIndex ? String(key) : key), ': '];
}

function node(key, isIndex, value, path, depth, opts) {
  const changed = opts.changed && opts.changed.has(path);
  if (!isContainer(value) || Object.keys(value).length === 0) {
    const shown = isContainer(value) ? h('span', { class: 'jt-sum' }, Array.isArray(value) ? '[]' : '{}') : primitive(value);
    return h('div', { class: ['jt-leaf', changed && 'jt-changed'], 'data-path': path }, keyLabel(key, isIndex), shown);
  }
  const details = h('details', { class: ['jt', changed && 'jt-changed'], 'data-path': path },
    h('summary', null, keyLabel(key, isIndex), h('span', { class: 'jt-sum' }, summary(value))));
  details._fill = () => {
    if (details._filled) return;
    details._filled = true;
    details.append(children(value, path, depth + 1, opts));
  };
  if (depth < opts.open || (opts.changed && [...opts.changed].some((p) => p !== path && p.startsWith(path)))) {
    details._fill();
    details.open = true;
  }
  details.addEventListener('toggle', () => { if (details.open) details._fill(); });
  return details;
}

function children(value, path, depth, opts) {
  const box = h('div', { class: 'jt-children' });
  const isArr = Array.isArray(value);
  const keys = isArr ? value.map((_, i) => i) : Object.keys(value);
  let shown = 0;
  const more = h('button', { class: 'jt-more', type: 'button' });
  const showMore = () => {
    const end = Math.min(keys.length, shown + CHUNK);
    const frag = document.createDocumentFragment();
    for (; shown < end; shown++) {
      const k = keys[shown];
      frag.append(node(k, isArr, value[k], joinPath(path, String(k), isArr), depth, opts));
    }
    more.before(frag);
    if (shown >= keys.length) more.remove();
    else more.textContent = `show ${Math.min(CHUNK, keys.length - shown)} more of ${keys.length - shown}`;
  };
  more.addEventListener('click', showMore);
  box.append(more);
  showMore();
  return box;
}

// The tree alone. opts: open (levels open at first, default 1), changed (Set of paths to mark).
export function jsonTree(value, { open = 1, changed = null } = {}) {
  const root = h('div', { class: 'json' });
  const opts = { open, changed };
  if (isContainer(value) && Object.keys(value).length) root.append(children(value, '', 0, opts));
  else root.append(h('div', { class: 'jt-leaf' }, isContainer(value) ? h('span', { class: 'jt-sum' }, Array.isArray(value) ? '[] (empty)' : '{} (empty)') : primitive(value)));
  return root;
}

function openAll(el, depthLeft) {
  if (depthLeft <= 0) return;
  for (const d of el.querySelectorAll(':scope > .jt-children > details')) {
    d._fill();
    d.open = true;
    openAll(d, depthLeft - 1);
  }
}

// The tree with "expand all", "collapse all" and "copy" buttons.
export function jsonView(value, opts = {}) {
  const tree = jsonTree(value, opts);
  const copy = h('button', {
    class: 'btn small ghost', type: 'button',
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(JSON.stringify(value, null, 2));
        copy.textContent = 'Copied';
      } catch {
        copy.textContent = 'Copy needs HTTPS or localhost';
      }
      setTimeout(() => { copy.textContent = 'Copy'; }, 1500);
    },
  }, 'Copy');
  const tools = isContainer(value) && Object.keys(value).length ? h('div', { class: 'json-tools' },
    h('button', { class: 'btn small ghost', type: 'button', onclick: () => openAll(tree, 8) }, 'Expand all'),
    h('button', {
      class: 'btn small ghost', type: 'button',
      onclick: () => tree.querySelectorAll('details').forEach((d) => { d.open = false; }),
    }, 'Collapse all'),
    copy) : null;
  return h('div', { class: 'json-view' }, tools, tree);
}
