// ui.js: small shared pieces: status badges, page headers, sortable table headers, pagers.
import { h } from '../dom.js';
import { STATUS_CLASS, STATUS_LABEL } from '../model.js';
import { count } from '../format.js';

export function statusBadge(status) {
  return h('span', { class: ['badge', 'dot', STATUS_CLASS[status]], 'data-status': status },
    STATUS_LABEL[status] || status);
}

export function pageHead(title, { sub, right, titleExtra } = {}) {
  return h('div', { class: 'page-head' },
    h('div', null,
      h('div', { class: 'title-row' }, h('h1', null, title), titleExtra),
      sub ? h('div', { class: 'sub' }, sub) : null),
    right ? h('div', { class: 'toolbar' }, right) : null);
}

// A <th> whose button sorts by key: the current sort is {key, dir: 'asc'|'desc'}.
export function sortHeader(label, key, sort, onSort, { num = false, firstDir = 'asc' } = {}) {
  const active = sort.key === key;
  return h('th', {
    class: num ? 'num' : null, scope: 'col',
    'aria-sort': active ? (sort.dir === 'asc' ? 'ascending' : 'descending') : null,
  }, h('button', {
    class: 'sort', type: 'button', 'data-sort': key,
    onclick: () => onSort(key, active ? (sort.dir === 'asc' ? 'desc' : 'asc') : firstDir),
  }, label, h('span', { class: 'sort-arrow', 'aria-hidden': 'true' }, active ? (sort.dir === 'asc' ? '▲' : '▼') : '↕')));
}

// "Showing 1-100 of 240" with previous and next links (hrefOf(offset) -> URL).
export function pager({ offset, limit, total, shown, hrefOf }) {
  const from = total ? offset + 1 : 0;
  const to = offset + shown;
  const prev = offset > 0 ? Math.max(0, offset - limit) : null;
  const next = offset + limit < total ? offset + limit : null;
  return h('div', { class: 'pager', 'data-testid': 'pager' },
    h('span', null, `Showing ${count(from)}–${count(to)} of ${count(total)}`),
    h('div', { class: 'row' },
      prev !== null ? h('a', { class: 'btn small', href: hrefOf(prev), rel: 'prev' }, '← Previous')
        : h('button', { class: 'btn small', disabled: true }, '← Previous'),
      next !== null ? h('a', { class: 'btn small', href: hrefOf(next), rel: 'next' }, 'Next →')
        : h('button', { class: 'btn small', disabled: true }, 'Next →')));
}

// A project's display: demo_/test_ prefixes become a chip, as in Burr's UI.
export function projectName(name) {
  const m = /^(demo|test)[_:](.+)$/.exec(name);
  if (!m) return h('span', { class: 'mono' }, name);
  return h('span', { class: 'row', style: 'gap:6px' }, h('span', { class: 'mono' }, name),
    h('span', { class: 'badge accent' }, m[1]));
}
