// projects.js: every indexed project with its number of applications and when it was last
// written; sortable (?sort=name|apps|last_written|created&dir=asc|desc) and filterable (?q=).
import { h, clear } from '../dom.js';
import * as api from '../api.js';
import { setQuery } from '../router.js';
import { when, micros, count, plural } from '../format.js';
import { appsUrl, annotationsUrl, jobsUrl } from '../model.js';
import { pageHead, sortHeader, projectName } from '../components/ui.js';
import { emptyState } from '../components/states.js';

const SORTS = {
  name: (p) => p.name.toLowerCase(),
  apps: (p) => p.num_apps,
  last_written: (p) => micros(p.last_written) ?? 0,
  created: (p) => micros(p.created) ?? 0,
};

function sorted(list, { key, dir }) {
  const f = SORTS[key] || SORTS.last_written;
  const sign = dir === 'asc' ? 1 : -1;
  return [...list].sort((a, b) => {
    const x = f(a);
    const y = f(b);
    return (x < y ? -1 : x > y ? 1 : 0) * sign || a.name.localeCompare(b.name);
  });
}

// What an empty project list means: no index run yet, or runs that found nothing.
async function nothingIndexed(signal) {
  let jobs = [];
  try {
    jobs = await api.indexingJobs({ limit: 5, filterEmpty: false, signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
  }
  const ran = jobs.length > 0;
  return emptyState({
    icon: 'inbox', testid: 'nothing-indexed',
    title: 'Nothing indexed yet',
    text: ran
      ? `spoor-server has listed the bucket ${jobs.length === 5 ? 'several times' : plural(jobs.length, 'time')} and found no tracked data under data/<project>/. ` +
        'Point a tracker (libspoor, or Burr\'s S3 tracker) at the same bucket; its applications show here after the next index run.'
      : 'No project has been indexed. spoor-server lists the bucket every BURR_UPDATE_INTERVAL_MILLISECONDS and has found no ' +
        'data/<project>/ objects yet (or its first run has not ended). Projects appear here once their objects are indexed.',
    children: h('div', { class: 'stack' },
      h('p', null, 'To try the UI with sample data, seed the store and wait for the next run:'),
      h('pre', null, 'spoor demo --store "$BURR_SERVER_ROOT/objects"'),
      h('a', { href: jobsUrl() }, 'See the indexing jobs →')),
  });
}

export async function projectsPage(ctx) {
  ctx.setTitle('Projects');
  ctx.setCrumbs([{ label: 'Projects' }]);
  ctx.setNav('projects', null);
  const list = await api.projects();
  if (!list.length) {
    clear(ctx.el, pageHead('Projects'), await nothingIndexed(ctx.signal));
    return;
  }
  const sort = { key: ctx.query.get('sort') in SORTS ? ctx.query.get('sort') : 'last_written', dir: ctx.query.get('dir') === 'asc' ? 'asc' : 'desc' };
  let filter = ctx.query.get('q') || '';
  const totalApps = list.reduce((n, p) => n + (p.num_apps || 0), 0);

  const tbody = h('tbody');
  const thead = h('thead');
  const shownNote = h('span', { class: 'muted small' });
  const draw = () => {
    const onSort = (key, dir) => { sort.key = key; sort.dir = dir; setQuery({ sort: key, dir }); draw(); };
    clear(thead, h('tr', null,
      sortHeader('Project', 'name', sort, onSort),
      sortHeader('Applications', 'apps', sort, onSort, { num: true, firstDir: 'desc' }),
      sortHeader('Last written', 'last_written', sort, onSort, { firstDir: 'desc' }),
      sortHeader('Created', 'created', sort, onSort, { firstDir: 'desc' }),
      h('th', { scope: 'col' }, 'Location'),
      h('th', { scope: 'col' }, '')));
    const f = filter.toLowerCase();
    const rows = sorted(list, sort).filter((p) => !f || p.name.toLowerCase().includes(f));
    clear(tbody, rows.map((p) => h('tr', { 'data-project': p.id },
      h('td', null, h('a', { href: appsUrl(p.id), class: 'row', style: 'gap:6px' }, projectName(p.name))),
      h('td', { class: 'num', 'data-col': 'apps' }, count(p.num_apps)),
      h('td', null, when(p.last_written)),
      h('td', null, when(p.created)),
      h('td', { class: 'mono small muted' }, p.uri || '–'),
      h('td', { class: 'nowrap' }, h('a', { class: 'small', href: annotationsUrl(p.id) }, 'Annotations')))));
    shownNote.textContent = rows.length === list.length ? '' : `${rows.length} of ${list.length} shown`;
  };
  draw();

  const search = h('input', {
    class: 'input', type: 'search', placeholder: 'Filter projects', value: filter, 'aria-label': 'Filter projects',
    oninput: () => { filter = search.value; setQuery({ q: filter }); draw(); },
  });
  clear(ctx.el,
    pageHead('Projects', { sub: `${plural(list.length, 'project')} · ${plural(totalApps, 'application')}`, right: [shownNote, search] }),
    h('div', { class: 'card' }, h('div', { class: 'table-wrap' },
      h('table', { class: 'data', 'data-testid': 'projects-table' }, thead, tbody))));
}
