// apps.js: the applications of a project, newest first, 100 a page (?offset=, ?limit=),
// filtered by partition key (?partition=) and optionally without the ones that have no steps
// yet (?hide_empty=1). Sub-applications are listed under the application that spawned (or
// forked) them when both are on the page, and link to it.
import { h, clear } from '../dom.js';
import * as api from '../api.js';
import { navigate, setQuery } from '../router.js';
import { when, count, plural } from '../format.js';
import { appUrl, appsUrl, annotationsUrl, pkFromUrl, NONE } from '../model.js';
import { pageHead, pager, projectName } from '../components/ui.js';
import { emptyState } from '../components/states.js';

const key = (appId, pk) => `${appId}\u0000${pk ?? ''}`;

// Finds the project or throws an explained "unknown project" state (as an element).
export async function requireProject(ctx, project) {
  const list = await api.projects({ maxAgeMs: 5000 });
  const found = list.find((p) => p.id === project);
  if (found) return found;
  clear(ctx.el, emptyState({
    icon: 'question', error: true, testid: 'unknown-project',
    title: `Unknown project “${project}”`,
    text: `spoor-server has indexed nothing for a project named ${project}. ` +
      'Check the name; a new project appears here after the next index run finds its data/<project>/ objects in the bucket.',
    children: list.length ? h('div', { class: 'row' }, h('span', { class: 'muted' }, 'Known projects:'),
      list.map((p) => h('a', { class: 'chip mono', href: appsUrl(p.id) }, p.name))) : null,
  }));
  return null;
}

// Parents first, each followed by the sub-applications on the page that point to it.
function grouped(apps) {
  const byKey = new Map(apps.map((a) => [key(a.app_id, a.partition_key), a]));
  const kids = new Map();
  const roots = [];
  for (const a of apps) {
    const p = a.spawning_parent_pointer || a.parent_pointer;
    const pk = p ? key(p.app_id, p.partition_key) : null;
    if (p && byKey.has(pk) && pk !== key(a.app_id, a.partition_key)) {
      if (!kids.has(pk)) kids.set(pk, []);
      kids.get(pk).push(a);
    } else roots.push(a);
  }
  const out = [];
  const seen = new Set();
  const walk = (a, depth) => {
    const k = key(a.app_id, a.partition_key);
    if (seen.has(k)) return;
    seen.add(k);
    out.push({ app: a, depth, children: (kids.get(k) || []).length });
    for (const c of kids.get(k) || []) walk(c, depth + 1);
  };
  roots.forEach((a) => walk(a, 0));
  apps.forEach((a) => walk(a, 0)); // anything left in a cycle
  return out;
}

function lineage(project, a) {
  const parts = [];
  const link = (label, p) => h('span', { class: 'small' }, `${label} `,
    h('a', { class: 'mono', href: appUrl(project, p.partition_key, p.app_id, { step: p.sequence_id ?? undefined }) }, p.app_id),
    p.sequence_id !== null && p.sequence_id !== undefined ? h('span', { class: 'faint' }, ` @ step ${p.sequence_id}`) : null);
  if (a.spawning_parent_pointer) parts.push(link('spawned by', a.spawning_parent_pointer));
  if (a.parent_pointer) parts.push(link('forked from', a.parent_pointer));
  return parts;
}

export async function appsPage(ctx) {
  const project = ctx.params.project;
  const partition = ctx.query.get('partition') || '';
  const offset = Math.max(0, parseInt(ctx.query.get('offset') || '0', 10) || 0);
  const limit = Math.min(1000, Math.max(1, parseInt(ctx.query.get('limit') || '100', 10) || 100));
  let hideEmpty = ctx.query.get('hide_empty') === '1';
  ctx.setTitle(project);
  ctx.setCrumbs([{ label: 'Projects', href: '/projects' }, { label: project, mono: true }]);
  ctx.setNav('apps', project);

  const proj = await requireProject(ctx, project);
  if (!proj) return;
  const page = await api.apps(project, partition || NONE, { limit, offset, signal: ctx.signal });
  const rows = grouped(page.applications);
  const hrefOf = (o) => appsUrl(project, { partition, offset: o, limit, hideEmpty });

  // partition filter
  const partitions = [...new Set(page.applications.map((a) => a.partition_key).filter((p) => p !== null))].sort();
  const pInput = h('input', {
    class: 'input mono', name: 'partition', list: 'partitions', placeholder: 'all partitions',
    value: partition, 'aria-label': 'Partition key', size: 18,
  });
  const filterForm = h('form', {
    class: 'row', role: 'search', 'data-testid': 'partition-filter',
    onsubmit: (e) => { e.preventDefault(); navigate(appsUrl(project, { partition: pInput.value.trim(), limit, hideEmpty })); },
  },
  h('label', { class: 'muted', for: 'partition-input' }, 'Partition'), pInput,
  h('datalist', { id: 'partitions' }, partitions.map((p) => h('option', { value: p }))),
  h('button', { class: 'btn', type: 'submit' }, 'Filter'),
  partition ? h('a', { class: 'btn ghost', href: appsUrl(project, { limit, hideEmpty }) }, 'Clear') : null);
  pInput.id = 'partition-input';

  const tbody = h('tbody');
  const hiddenNote = h('span', { class: 'muted small', 'data-testid': 'hidden-note' });
  const draw = () => {
    const visible = rows.filter((r) => !hideEmpty || r.app.num_steps > 0);
    const hidden = rows.length - visible.length;
    hiddenNote.textContent = hidden ? `${plural(hidden, 'application')} without steps hidden` : '';
    clear(tbody, visible.map(({ app: a, depth, children }) => h('tr', {
      class: depth ? 'child-row' : null, 'data-app': a.app_id, 'data-partition': a.partition_key ?? NONE,
    },
    h('td', { style: depth ? `padding-left:${12 + depth * 22}px` : null },
      depth ? h('span', { class: 'tree-mark', 'aria-hidden': 'true' }, '└') : null,
      h('a', { class: 'mono', href: appUrl(project, a.partition_key, a.app_id) }, a.app_id),
      children ? h('span', { class: 'faint small' }, ` · ${plural(children, 'sub-app')}`) : null),
    h('td', null, a.partition_key === null ? h('span', { class: 'faint' }, '—')
      : h('button', {
        class: 'chip mono', type: 'button', title: 'Show only this partition',
        onclick: () => navigate(appsUrl(project, { partition: a.partition_key, limit, hideEmpty })),
      }, a.partition_key)),
    h('td', { class: ['num', a.num_steps === 0 && 'faint'], 'data-col': 'steps' }, count(a.num_steps)),
    h('td', null, when(a.last_written)),
    h('td', null, when(a.first_written)),
    h('td', null, h('div', { class: 'stack', style: 'gap:2px' }, lineage(project, a))))));
    if (!visible.length) {
      tbody.append(h('tr', null, h('td', { colspan: 6, class: 'muted' },
        rows.length ? 'Every application on this page has no steps yet: untick “Hide apps without steps”.'
          : partition ? `No application has the partition key “${partition}”.` : 'This project has no applications on this page.')));
    }
  };
  draw();

  const hide = h('label', { class: 'check' }, h('input', {
    type: 'checkbox', name: 'hide_empty', checked: hideEmpty,
    onchange: (e) => { hideEmpty = e.target.checked; setQuery({ hide_empty: hideEmpty ? '1' : null }); draw(); },
  }), 'Hide apps without steps');

  const sub = `${plural(page.total, 'application')}${partition ? ` in partition ${partition}` : ''} · project last written `;
  clear(ctx.el,
    pageHead(projectName(project), {
      sub: [sub, when(proj.last_written, { stacked: false })],
      right: h('a', { class: 'btn', href: annotationsUrl(project) }, 'Annotations'),
    }),
    h('div', { class: 'card' },
      h('div', { class: 'card-head' }, h('div', { class: 'toolbar' }, filterForm, hide, hiddenNote)),
      h('div', { class: 'table-wrap' }, h('table', { class: 'data', 'data-testid': 'apps-table' },
        h('thead', null, h('tr', null,
          h('th', { scope: 'col' }, 'Application'), h('th', { scope: 'col' }, 'Partition'),
          h('th', { scope: 'col', class: 'num' }, 'Steps'), h('th', { scope: 'col' }, 'Last written'),
          h('th', { scope: 'col' }, 'First written'), h('th', { scope: 'col' }, 'Lineage'))),
        tbody)),
      page.total > limit || offset > 0 ? pager({ offset, limit, total: page.total, shown: page.applications.length, hrefOf }) : null));
}

// /project/:project/:partition (Burr's UI route): the same list filtered by that partition.
export function appsByPartitionPage(ctx) {
  const pk = pkFromUrl(ctx.params.partition);
  const url = appsUrl(ctx.params.project, { partition: pk || '' });
  history.replaceState(null, '', url);
  return appsPage({ ...ctx, query: new URL(url, location.href).searchParams });
}
