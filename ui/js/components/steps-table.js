// steps-table.js: an application's steps, one row each (all rendered: a 1,000-step app is
// 1,000 rows, built once per change of the data; selecting a step only moves a class).
// Columns: sequence id, action, status, start (offset from the first step), duration with a
// bar scaled to the longest step, spans, and badges (stream, attributes, sub-app,
// annotations).
import { h } from '../dom.js';
import { duration, absolute, count } from '../format.js';
import { appUrl, seqOf, actionOf, stepStatus, stepStartUs, stepDurationUs, streamSummary } from '../model.js';
import { statusBadge } from './ui.js';
import { icon } from './icons.js';

export function stepsTable(steps, { project, children = [], annotationsBySeq = new Map(), onSelect }) {
  const t0 = steps.length ? stepStartUs(steps[0]) : null;
  const durations = steps.map(stepDurationUs);
  const maxDur = Math.max(1, ...durations.filter((d) => d !== null));
  const childrenBySeq = new Map();
  for (const c of children) {
    if (c.sequence_id === null || c.sequence_id === undefined) continue;
    if (!childrenBySeq.has(c.sequence_id)) childrenBySeq.set(c.sequence_id, []);
    childrenBySeq.get(c.sequence_id).push(c);
  }

  const rowBySeq = new Map();
  const tbody = h('tbody');
  const frag = document.createDocumentFragment();
  steps.forEach((step, i) => {
    const seq = seqOf(step);
    const status = stepStatus(step);
    const start = stepStartUs(step);
    const d = durations[i];
    const st = streamSummary(step);
    const kids = childrenBySeq.get(seq) || [];
    const notes = annotationsBySeq.get(seq) || [];
    const nAttrs = (step.attributes || []).length;
    const tr = h('tr', {
      class: status === 'failed' ? 'failed' : null, 'data-seq': seq, 'data-status': status, 'data-action': actionOf(step),
    },
    h('td', { class: 'seq' }, seq),
    h('td', { class: 'action' }, actionOf(step)),
    h('td', null, statusBadge(status)),
    h('td', { class: 'num mono small muted', title: start !== null ? absolute(start, { fraction: true }) : '' },
      start !== null && t0 !== null ? `+${duration(start - t0)}` : '–'),
    h('td', { class: 'num' }, h('div', { class: 'dur' },
      h('span', { class: status === 'running' ? 'muted' : null }, status === 'running' ? 'running' : duration(d)),
      h('span', { class: 'dur-bar', 'aria-hidden': 'true' }, h('i', { style: `width:${d === null ? 0 : Math.max(2, (d / maxDur) * 100)}%` })))),
    h('td', { class: ['num', !step.spans.length && 'faint'], 'data-col': 'spans' }, count(step.spans.length)),
    h('td', null, h('div', { class: 'badges' },
      st ? h('span', { class: 'badge info', 'data-badge': 'stream', title: 'streamed result' }, st.items !== null ? `stream · ${st.items}` : 'streaming') : null,
      nAttrs ? h('span', { class: 'badge', title: 'attributes' }, `${nAttrs} attr${nAttrs === 1 ? '' : 's'}`) : null,
      kids.map((c) => h('a', {
        class: 'badge accent', href: appUrl(project, c.child.partition_key, c.child.app_id),
        title: `${c.event_type === 'fork' ? 'forked' : 'spawned'} ${c.child.app_id}`,
      }, `↳ ${c.child.app_id}`)),
      notes.length ? h('span', { class: 'badge outline', title: 'annotations', 'data-badge': 'annotations' }, icon('pencil', { size: 12 }), notes.length) : null)));
    rowBySeq.set(seq, tr);
    frag.append(tr);
  });
  tbody.append(frag);
  tbody.addEventListener('click', (e) => {
    const tr = e.target.closest('tr[data-seq]');
    if (tr && !e.target.closest('a')) onSelect(Number(tr.dataset.seq));
  });

  const table = h('table', { class: 'data steps', 'data-testid': 'steps-table' },
    h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, '#'), h('th', { scope: 'col' }, 'Action'), h('th', { scope: 'col' }, 'Status'),
      h('th', { scope: 'col', class: 'num' }, 'Start'), h('th', { scope: 'col', class: 'num' }, 'Duration'),
      h('th', { scope: 'col', class: 'num' }, 'Spans'), h('th', { scope: 'col' }, ''))),
    tbody);

  let selected = null;
  return {
    table,
    select(seq) {
      if (selected !== null) rowBySeq.get(selected)?.classList.remove('selected');
      rowBySeq.get(selected)?.removeAttribute('aria-selected');
      selected = seq;
      const tr = rowBySeq.get(seq);
      tr?.classList.add('selected');
      tr?.setAttribute('aria-selected', 'true');
      return tr || null;
    },
    // Shows only rows whose action contains text and whose status is status ('all' = any);
    // returns how many are shown.
    filter(text, status) {
      let n = 0;
      const t = text.trim().toLowerCase();
      for (const tr of rowBySeq.values()) {
        const show = (!t || tr.dataset.action.toLowerCase().includes(t) || tr.dataset.seq === t) &&
          (status === 'all' || tr.dataset.status === status);
        tr.hidden = !show;
        if (show) n++;
      }
      return n;
    },
    visibleSeqs() {
      return [...rowBySeq.entries()].filter(([, tr]) => !tr.hidden).map(([seq]) => seq);
    },
  };
}
