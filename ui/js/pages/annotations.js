// annotations.js: every annotation of a project (/annotations/:project?app=ID), newest change
// first, each linking to its step; edit in place. New annotations are added from a step of
// the application view (its Annotations tab), where the step and its spans are at hand.
import { h, clear } from '../dom.js';
import * as api from '../api.js';
import { navigate } from '../router.js';
import { micros, plural } from '../format.js';
import { appsUrl, annotationsUrl } from '../model.js';
import { pageHead, projectName } from '../components/ui.js';
import { emptyState } from '../components/states.js';
import { annotationCard, annotationForm } from '../components/annotations.js';
import { requireProject } from './apps.js';

export async function annotationsPage(ctx) {
  const project = ctx.params.project;
  const appFilter = ctx.query.get('app') || '';
  ctx.setTitle(`Annotations · ${project}`);
  ctx.setCrumbs([{ label: 'Projects', href: '/projects' }, { label: project, href: appsUrl(project), mono: true }, { label: 'Annotations' }]);
  ctx.setNav('annotations', project);
  if (!(await requireProject(ctx, project))) return;

  let list = await api.annotations(project, { appId: appFilter || undefined, signal: ctx.signal });
  list = [...list].sort((a, b) => (micros(b.updated) ?? 0) - (micros(a.updated) ?? 0) || b.id - a.id);

  const box = h('div', { class: 'stack', 'data-testid': 'annotations-list' });
  const draw = () => {
    if (!list.length) {
      clear(box, emptyState({
        icon: 'pencil', testid: 'no-annotations',
        title: appFilter ? `No annotations on ${appFilter}` : 'No annotations yet',
        text: 'Annotate a step from its application view: open an application, pick a step, and use the Annotations tab. ' +
          'Annotations are kept in the index (and its snapshots).',
        children: h('a', { class: 'btn', href: appsUrl(project) }, 'Browse applications'),
      }));
      return;
    }
    clear(box, list.map((a) => {
      const card = annotationCard(a, {
        showStep: true,
        onEdit: () => card.replaceWith(annotationForm({
          project, existing: a,
          spans: a.span_id ? [{ id: a.span_id, name: '' }] : [],
          onSaved: (saved) => { list = [saved, ...list.filter((x) => x.id !== saved.id)]; draw(); },
          onCancel: draw,
        })),
      });
      return card;
    }));
  };
  draw();

  const appInput = h('input', { class: 'input mono', name: 'app', placeholder: 'application id', value: appFilter, 'aria-label': 'Application id', size: 22 });
  const filter = h('form', {
    class: 'row', role: 'search',
    onsubmit: (e) => { e.preventDefault(); navigate(annotationsUrl(project, { app: appInput.value.trim() })); },
  }, appInput, h('button', { class: 'btn', type: 'submit' }, 'Filter'),
  appFilter ? h('a', { class: 'btn ghost', href: annotationsUrl(project) }, 'Clear') : null);

  clear(ctx.el,
    pageHead('Annotations', {
      titleExtra: projectName(project),
      sub: `${plural(list.length, 'annotation')}${appFilter ? ` on ${appFilter}` : ''}`,
      right: filter,
    }),
    box);
}
