// annotations.js: one annotation as a card, and the form that creates or edits one
// (burr-compat.md 2.3: AnnotationCreate / AnnotationUpdate / AnnotationOut).
//
// The form edits what a person writes by hand: tags, a thumbs up or down, a note (kept as
// observations[0].data_fields.note) and the span it is about. Other observations and data
// fields written by programs are kept as they are on edit.
import { h } from '../dom.js';
import { createAnnotation, updateAnnotation } from '../api.js';
import { when } from '../format.js';
import { appUrl } from '../model.js';
import { jsonView } from './json-tree.js';
import { icon } from './icons.js';

const RATING = { true: ['ok', 'up', 'good'], false: ['fail', 'down', 'bad'] };
const thumbs = (v) => {
  const r = RATING[v];
  return r ? h('span', { class: `badge ${r[0]}`, 'data-rating': r[2] }, icon(r[1], { size: 12 }), r[2]) : null;
};

export function annotationCard(a, { onEdit, showStep = false } = {}) {
  const obs = a.observations || [];
  const body = [];
  for (const o of obs) {
    const fields = { ...(o.data_fields || {}) };
    if (typeof fields.note === 'string') {
      body.push(h('div', { class: 'annot-note', style: 'white-space:pre-wrap' }, fields.note));
      delete fields.note;
    }
    if (Object.keys(fields).length) body.push(jsonView(fields, { open: 1 }));
    if (o.data_pointers && o.data_pointers.length) {
      body.push(h('div', { class: 'row small muted' }, 'about:',
        o.data_pointers.map((p) => h('span', { class: 'chip mono' }, `${p.type}:${p.field_name}${p.span_id ? `@${p.span_id}` : ''}`))));
    }
  }
  const rating = obs.map((o) => thumbs(o.thumbs_up_thumbs_down)).filter(Boolean);
  return h('article', { class: 'annot', 'data-annotation': a.id },
    h('div', { class: 'row' },
      h('span', { class: 'mono faint' }, `#${a.id}`),
      rating,
      showStep ? h('a', { class: 'mono', href: appUrl(a.project_id, a.partition_key, a.app_id, { step: a.step_sequence_id, tab: 'annotations' }) },
        `${a.app_id} · step ${a.step_sequence_id}`) : null,
      h('span', { class: 'mono small muted' }, a.step_name),
      a.span_id ? h('span', { class: 'chip mono' }, `span ${a.span_id}`) : null,
      (a.tags || []).map((t) => h('span', { class: 'badge accent' }, t)),
      h('span', { class: 'grow', style: 'flex:1' }),
      h('span', { class: 'small faint' }, 'updated ', when(a.updated, { stacked: false })),
      onEdit ? h('button', { class: 'btn small', type: 'button', onclick: () => onEdit(a) }, 'Edit') : null),
    body);
}

// opts: project, appId, pk (null = none), seq, stepName, spans ([{id, name}]), existing
// (an AnnotationOut to edit), onSaved(annotation), onCancel().
export function annotationForm(opts) {
  const ex = opts.existing;
  const first = ex?.observations?.[0] || {};
  const note = h('textarea', { class: 'input', name: 'note', rows: 3, placeholder: 'What is right or wrong with this step?' },
    typeof first.data_fields?.note === 'string' ? first.data_fields.note : '');
  const tags = h('input', { class: 'input', name: 'tags', placeholder: 'comma, separated', value: (ex?.tags || []).join(', ') });
  const rating = (value, label) => h('label', { class: 'check' },
    h('input', { type: 'radio', name: 'rating', value, checked: String(first.thumbs_up_thumbs_down ?? '') === value }), label);
  const span = h('select', { class: 'input', name: 'span' },
    h('option', { value: '' }, 'the whole step'),
    (opts.spans || []).map((sp) => h('option', { value: sp.id, selected: ex?.span_id === sp.id }, `${sp.id} ${sp.name}`)));
  const error = h('div', { class: 'notice error full', hidden: true, role: 'alert' });
  const submit = h('button', { class: 'btn primary', type: 'submit' }, ex ? 'Save changes' : 'Add annotation');

  const form = h('form', {
    class: 'annot-form', 'data-testid': ex ? 'annotation-edit' : 'annotation-create',
    onsubmit: async (e) => {
      e.preventDefault();
      const r = form.querySelector('input[name=rating]:checked')?.value ?? '';
      const fields = { ...(first.data_fields || {}) };
      if (note.value.trim()) fields.note = note.value.trim();
      else delete fields.note;
      const observation = {
        data_fields: fields,
        thumbs_up_thumbs_down: r === 'true' ? true : r === 'false' ? false : null,
        data_pointers: first.data_pointers || [],
      };
      const body = {
        span_id: span.value || null,
        step_name: ex ? ex.step_name : opts.stepName,
        tags: tags.value.split(',').map((t) => t.trim()).filter(Boolean),
        observations: [observation, ...(ex?.observations || []).slice(1)],
      };
      submit.disabled = true;
      error.hidden = true;
      try {
        const saved = ex ? await updateAnnotation(opts.project, ex.id, body)
          : await createAnnotation(opts.project, opts.appId, opts.pk ?? '__none__', opts.seq, body);
        opts.onSaved?.(saved);
      } catch (err) {
        error.textContent = `Not saved: ${err.detail || err.message}`;
        error.hidden = false;
        submit.disabled = false;
      }
    },
  },
  h('label', { class: 'field full' }, h('span', null, 'Note'), note),
  h('label', { class: 'field' }, h('span', null, 'Tags'), tags),
  h('label', { class: 'field' }, h('span', null, 'About'), span),
  h('div', { class: 'field full' }, h('span', null, 'Rating'),
    h('div', { class: 'thumbs' }, rating('', 'none'), rating('true', [icon('up', { size: 14 }), 'good']), rating('false', [icon('down', { size: 14 }), 'bad']))),
  error,
  h('div', { class: 'row full' }, submit,
    opts.onCancel ? h('button', { class: 'btn ghost', type: 'button', onclick: () => opts.onCancel() }, 'Cancel') : null));
  return form;
}
