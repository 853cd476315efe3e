// waterfall.js: a step's spans as a nested timeline. One row for the step, one per span
// (indented under its parent), the span's attributes under it, and a row for the stream
// (start, first item, end, items). Bars are placed on the step's own time axis.
//
// Span and step times are naive (the tracked process's local time); stream times are UTC.
// When the two disagree by more than the step's length (a process not running in UTC), the
// stream is described without a bar rather than drawn hours away.
import { h } from '../dom.js';
import { duration, micros, preview, absolute } from '../format.js';
import { stepStartUs, stepEndUs, streamSummary } from '../model.js';
import { jsonView } from './json-tree.js';

function spanTree(spans) {
  const items = spans.map((sp) => ({
    id: sp.begin_entry.span_id,
    name: sp.begin_entry.span_name,
    parent: sp.begin_entry.parent_span_id,
    start: micros(sp.begin_entry.start_time),
    end: sp.end_entry ? micros(sp.end_entry.end_time) : null,
    children: [],
  }));
  const byId = new Map(items.map((i) => [i.id, i]));
  const roots = [];
  for (const i of items) {
    const p = i.parent !== null && i.parent !== undefined ? byId.get(i.parent) : null;
    (p && p !== i ? p.children : roots).push(i);
  }
  const order = (list) => list.sort((a, b) => (a.start ?? 0) - (b.start ?? 0) || String(a.id).localeCompare(String(b.id)));
  const flat = [];
  const walk = (list, depth) => {
    for (const i of order(list)) {
      flat.push({ ...i, depth });
      walk(i.children, depth + 1);
    }
  };
  walk(roots, 0);
  return flat;
}

function attrChips(attrs) {
  if (!attrs || !attrs.length) return null;
  const box = h('div', { class: 'wf-attrs' });
  const detail = h('div', { class: 'wf-attrs', hidden: true });
  for (const a of attrs) {
    box.append(h('button', {
      class: 'attr', type: 'button', title: `${a.key} = ${preview(a.value, 400)}`, 'data-attr': a.key,
      onclick: () => {
        const same = !detail.hidden && detail.dataset.key === a.key;
        detail.hidden = same;
        detail.dataset.key = a.key;
        if (!same) detail.replaceChildren(h('div', { style: 'width:100%' }, h('b', { class: 'mono small' }, a.key), jsonView(a.value, { open: 2 })));
      },
    }, h('b', null, a.key), ' = ', preview(a.value, 60)));
  }
  return [box, detail];
}

export function waterfall(step) {
  const spans = spanTree(step.spans || []);
  const t0 = stepStartUs(step);
  const known = [stepEndUs(step), ...spans.map((x) => x.end), ...spans.map((x) => x.start)].filter((t) => t !== null);
  const t1 = Math.max(t0 ?? 0, ...known);
  const range = Math.max(1, t1 - (t0 ?? t1));
  const pct = (t) => (t === null || t0 === null ? 0 : Math.min(100, Math.max(0, ((t - t0) / range) * 100)));
  const running = !step.step_end_log;

  const attrsBySpan = new Map();
  for (const a of step.attributes || []) {
    const k = a.span_id ?? null;
    if (!attrsBySpan.has(k)) attrsBySpan.set(k, []);
    attrsBySpan.get(k).push(a);
  }

  const bar = (start, end, cls) => {
    const left = pct(start);
    const width = end === null ? 100 - left : Math.max(0, pct(end) - left);
    return h('div', { class: ['wf-bar', cls, end === null && 'running'], style: `left:${left}%;width:${width}%` });
  };

  const rows = [];
  rows.push(h('div', { class: 'wf-row', 'data-row': 'step' },
    h('div', { class: 'wf-name' }, h('span', { class: 'nm', style: 'font-weight:600' }, step.step_start_log.action),
      h('span', { class: 'sid' }, `step ${step.step_start_log.sequence_id}`)),
    h('div', { class: 'wf-track' }, bar(t0, running ? null : stepEndUs(step), 'step')),
    h('div', { class: 'wf-dur' }, running ? 'running' : duration(stepEndUs(step) - t0))));
  rows.push(attrChips(attrsBySpan.get(null)));

  for (const sp of spans) {
    rows.push(h('div', { class: 'wf-row', 'data-span': sp.id, 'data-depth': sp.depth },
      h('div', { class: 'wf-name', style: `padding-left:${sp.depth * 16 + 8}px` },
        sp.depth ? h('span', { class: 'tree-mark', 'aria-hidden': 'true' }, '└') : null,
        h('span', { class: 'nm', title: sp.name }, sp.name), h('span', { class: 'sid' }, sp.id)),
      h('div', { class: 'wf-track', title: `${sp.name}: ${sp.end === null ? 'not ended' : duration(sp.end - sp.start)}` },
        bar(sp.start, sp.end, 'span')),
      h('div', { class: 'wf-dur' }, sp.end === null ? 'open' : duration(sp.end - sp.start))));
    rows.push(attrChips(attrsBySpan.get(sp.id)));
  }

  // Attributes naming a span that is not there still show, under the step.
  for (const [k, list] of attrsBySpan) {
    if (k !== null && !spans.some((sp) => sp.id === k)) rows.push(attrChips(list));
  }

  const st = streamSummary(step);
  if (st) {
    const ref = st.beginUs ?? st.firstUs;
    const consistent = ref !== null && t0 !== null && ref >= t0 - range && ref <= t1 + range;
    const ttfi = st.firstUs !== null && st.beginUs !== null ? st.firstUs - st.beginUs : null;
    const text = [
      st.items !== null ? `${st.items} items` : 'streaming…',
      ttfi !== null ? `first item after ${duration(ttfi)}` : null,
      st.endUs !== null && st.beginUs !== null ? `${duration(st.endUs - st.beginUs)} in all` : null,
    ].filter(Boolean).join(' · ');
    rows.push(h('div', { class: 'wf-row', 'data-row': 'stream' },
      h('div', { class: 'wf-name', style: 'padding-left:8px' }, h('span', { class: 'badge info' }, 'stream'),
        h('span', { class: 'sid' }, text)),
      h('div', { class: 'wf-track', title: consistent ? text : `${text} (stream times are UTC; this step's times are in another zone)` },
        consistent ? [bar(st.beginUs, st.endUs, 'stream'),
          st.firstUs !== null ? h('div', { class: 'wf-mark', style: `left:${pct(st.firstUs)}%`, title: `first item ${absolute(st.firstUs, { fraction: true })}` }) : null]
          : null),
      h('div', { class: 'wf-dur' }, st.items !== null ? `${st.items} items` : '')));
  }

  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => h('span', null, duration(range * f)));
  return h('div', { class: 'wf', 'data-testid': 'waterfall' },
    h('div', { class: 'wf-axis' }, h('span', null, 'span'), h('div', { class: 'ticks' }, ticks), h('span', { style: 'text-align:right' }, 'duration')),
    rows);
}
