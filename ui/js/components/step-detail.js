// step-detail.js: everything about one step, in tabs:
//   overview     exception (full text), inputs, result, what changed in the state since the
//                previous step, sub-applications started here
//   state        the state after the step, changed paths marked
//   spans        the waterfall of spans with their attributes and the stream
//   annotations  this step's annotations, a form to add one, edit in place
//   action       the action's reads, writes, inputs and code from graph.json
import { h } from '../dom.js';
import { duration, absolute, when } from '../format.js';
import { appUrl, seqOf, actionOf, stepStatus, stepStartUs, stepDurationUs } from '../model.js';
import { statusBadge } from './ui.js';
import { jsonView } from './json-tree.js';
import { stateChanges, diffTable } from './diff.js';
import { waterfall } from './waterfall.js';
import { annotationCard, annotationForm } from './annotations.js';

export const TABS = ['overview', 'state', 'spans', 'annotations', 'action'];

function section(title, ...body) {
  return h('section', { class: 'section' }, h('h3', null, title), body);
}

function isEmpty(v) {
  return v === null || v === undefined || (typeof v === 'object' && Object.keys(v).length === 0);
}

function overview(step, prev, ctx) {
  const end = step.step_end_log;
  const out = [];
  const status = stepStatus(step);
  if (status === 'failed') {
    out.push(section('Exception', h('pre', { class: 'exception', 'data-testid': 'exception' }, end.exception)));
  }
  if (status === 'running') {
    out.push(h('div', { class: 'notice' }, 'This step is still running: its result and state are written when it ends.'));
  }
  const inputs = step.step_start_log.inputs;
  out.push(section('Inputs', isEmpty(inputs) ? h('div', { class: 'muted' }, 'No inputs.') : jsonView(inputs, { open: 2 })));
  if (end) {
    out.push(section('Result', end.result === null || end.result === undefined
      ? h('div', { class: 'muted' }, status === 'failed' ? 'No result: the step raised an exception.' : 'No result.')
      : isEmpty(end.result) ? h('div', { class: 'muted' }, 'Empty result ({}): the action only changed the state.')
        : jsonView(end.result, { open: 2 })));
    out.push(section(prev ? `State changes since step ${seqOf(prev)}` : 'State changes', changesView(step, prev)));
  }
  const kids = ctx.children.filter((c) => c.sequence_id === seqOf(step));
  if (kids.length) {
    out.push(section('Sub-applications started here', h('div', { class: 'row' }, kids.map((c) =>
      h('a', { class: 'chip mono', href: appUrl(ctx.project, c.child.partition_key, c.child.app_id) },
        `${c.event_type === 'fork' ? 'fork' : 'spawn'}: ${c.child.app_id}`)))));
  }
  return out;
}

function changesView(step, prev) {
  const after = step.step_end_log?.state;
  if (!prev) {
    return h('div', { class: 'muted' }, 'The first step: no earlier state to compare with. Its whole state is under “State”.');
  }
  const { changes, internal } = stateChanges(prev.step_end_log.state, after);
  const note = internal.length ? h('div', { class: 'faint small' },
    `Also changed: ${internal.map((c) => c.path).join(', ')} (Burr's bookkeeping).`) : null;
  if (!changes.length) return [h('div', { class: 'muted', 'data-testid': 'state-diff-empty' }, 'No change to the state.'), note];
  return [diffTable(changes), note];
}

function stateTab(step, prev) {
  const state = step.step_end_log?.state;
  if (!state) return h('div', { class: 'notice' }, 'No state yet: the step is still running.');
  const changed = prev ? new Set(stateChanges(prev.step_end_log.state, state).changes.map((c) => c.path)) : null;
  return section(`State after step ${seqOf(step)}`,
    changed && changed.size ? h('div', { class: 'faint small' }, 'Highlighted: changed by this step.') : null,
    jsonView(state, { open: 1, changed }));
}

function spansTab(step) {
  const none = !step.spans.length && !step.attributes.length && !step.streaming_events.length;
  return [
    none ? h('div', { class: 'muted' }, 'This step recorded no spans, attributes or stream.') : null,
    waterfall(step),
  ];
}

function annotationsTab(step, prev, ctx) {
  const list = h('div', { class: 'stack', 'data-testid': 'step-annotations' });
  const spans = step.spans.map((sp) => ({ id: sp.begin_entry.span_id, name: sp.begin_entry.span_name }));
  const draw = () => {
    const mine = ctx.annotations.filter((a) => a.step_sequence_id === seqOf(step));
    list.replaceChildren(...(mine.length ? mine.map((a) => {
      const card = annotationCard(a, {
        onEdit: () => card.replaceWith(annotationForm({
          project: ctx.project, spans, existing: a,
          onSaved: (saved) => { ctx.onAnnotationSaved(saved); },
          onCancel: draw,
        })),
      });
      return card;
    }) : [h('div', { class: 'muted' }, 'No annotations on this step yet.')]));
  };
  draw();
  return [
    section('Annotations', list),
    section('Add an annotation', annotationForm({
      project: ctx.project, appId: ctx.appId, pk: ctx.pk, seq: seqOf(step), stepName: actionOf(step), spans,
      onSaved: (saved) => ctx.onAnnotationSaved(saved),
    })),
  ];
}

function actionTab(step, prev, ctx) {
  const a = (ctx.application.actions || []).find((x) => x.name === actionOf(step));
  if (!a) return h('div', { class: 'muted' }, `The graph has no action named ${actionOf(step)}.`);
  const list = (xs) => (xs && xs.length ? h('span', { class: 'row' }, xs.map((x) => h('span', { class: 'chip mono' }, x))) : h('span', { class: 'faint' }, 'none'));
  return [
    h('dl', { class: 'kv' },
      h('dt', null, 'reads'), h('dd', null, list(a.reads)),
      h('dt', null, 'writes'), h('dd', null, list(a.writes)),
      h('dt', null, 'inputs'), h('dd', null, list(a.inputs)),
      h('dt', null, 'optional inputs'), h('dd', null, list(a.optional_inputs))),
    a.code ? section('Code', h('pre', { class: 'code' }, a.code)) : null,
  ];
}

// ctx: project, appId, pk, application, children, annotations, tab, onTab(tab), onStep(seq),
// onAnnotationSaved(annotation), prevSeq / nextSeq (neighbours to step to, or null).
export function stepDetail(step, prev, ctx) {
  const status = stepStatus(step);
  const seq = seqOf(step);
  const counts = {
    spans: step.spans.length,
    annotations: ctx.annotations.filter((a) => a.step_sequence_id === seq).length,
  };
  const tab = TABS.includes(ctx.tab) ? ctx.tab : 'overview';
  const panel = h('div', { class: 'card-body', role: 'tabpanel', 'data-tab': tab });
  const render = { overview, state: stateTab, spans: spansTab, annotations: annotationsTab, action: actionTab }[tab];
  panel.append(...[render(step, prev, ctx)].flat(2).filter(Boolean));

  const start = stepStartUs(step);
  return h('div', { class: 'card', 'data-testid': 'step-detail', 'data-seq': seq },
    h('div', { class: 'card-head' },
      h('div', { class: 'detail-head' },
        h('span', { class: 'mono faint' }, `#${seq}`),
        h('span', { class: 'name' }, actionOf(step)),
        statusBadge(status),
        h('span', { class: 'muted small' }, status === 'running' ? 'running' : duration(stepDurationUs(step))),
        start !== null ? h('span', { class: 'faint small', title: absolute(start, { fraction: true }) }, when(step.step_start_log.start_time, { stacked: false })) : null),
      h('div', { class: 'row' },
        h('button', { class: 'btn small', type: 'button', title: 'Previous step (k)', disabled: ctx.prevSeq === null, onclick: () => ctx.onStep(ctx.prevSeq) }, '↑'),
        h('button', { class: 'btn small', type: 'button', title: 'Next step (j)', disabled: ctx.nextSeq === null, onclick: () => ctx.onStep(ctx.nextSeq) }, '↓'))),
    h('div', { class: 'tabs', role: 'tablist' }, TABS.map((t) => h('button', {
      class: 'tab', role: 'tab', type: 'button', 'aria-selected': String(t === tab), 'data-tab': t,
      onclick: () => ctx.onTab(t),
    }, t[0].toUpperCase() + t.slice(1), t in counts ? h('span', { class: 'count' }, counts[t]) : null))),
    panel);
}
