// jobs.js: the indexing jobs (/jobs?offset=&all=1), newest first: which project each run
// indexed, its status, how long it took, how many records it indexed and the high watermark
// it reached. Runs that found nothing are left out unless ?all=1.
import { h, clear } from '../dom.js';
import * as api from '../api.js';
import { navigate } from '../router.js';
import { when, micros, duration, count } from '../format.js';
import { appsUrl } from '../model.js';
import { pageHead } from '../components/ui.js';
import { emptyState } from '../components/states.js';

const LIMIT = 100;

// Long keys keep their start (the project) and their end (app and file), the parts that tell
// runs apart.
const middle = (s) => (s.length > 72 ? `${s.slice(0, 30)}…${s.slice(-41)}` : s);
const STATUS = { success: 'ok', failure: 'fail', running: 'run' };

export async function jobsPage(ctx) {
  const offset = Math.max(0, parseInt(ctx.query.get('offset') || '0', 10) || 0);
  const all = ctx.query.get('all') === '1';
  ctx.setTitle('Indexing jobs');
  ctx.setCrumbs([{ label: 'Indexing jobs' }]);
  ctx.setNav('jobs', null);
  const jobs = await api.indexingJobs({ offset, limit: LIMIT, filterEmpty: !all, signal: ctx.signal });

  const allBox = h('label', { class: 'check' }, h('input', {
    type: 'checkbox', checked: all, name: 'all',
    onchange: (e) => navigate(`/jobs${e.target.checked ? '?all=1' : ''}`),
  }), 'Include runs that found nothing');
  const refresh = h('button', { class: 'btn', type: 'button', onclick: () => ctx.retry() }, 'Refresh');

  const body = jobs.length ? h('div', { class: 'card' },
    h('div', { class: 'table-wrap' }, h('table', { class: 'data', 'data-testid': 'jobs-table' },
      h('thead', null, h('tr', null,
        h('th', { scope: 'col' }, 'Job'), h('th', { scope: 'col' }, 'Project'), h('th', { scope: 'col' }, 'Status'),
        h('th', { scope: 'col' }, 'Started'), h('th', { scope: 'col', class: 'num' }, 'Duration'),
        h('th', { scope: 'col', class: 'num' }, 'Records'), h('th', { scope: 'col' }, 'High watermark'))),
      h('tbody', null, jobs.map((j) => {
        const status = String(j.status || '').toLowerCase();
        const project = j.metadata?.project;
        const a = micros(j.start_time);
        const b = micros(j.end_time);
        return h('tr', { 'data-job': j.id },
          h('td', { class: 'mono' }, `#${j.id}`),
          h('td', null, project && project !== 'unknown' ? h('a', { class: 'mono', href: appsUrl(project) }, project) : h('span', { class: 'faint' }, 'unknown')),
          h('td', null, h('span', { class: ['badge', 'dot', STATUS[status]] }, status || 'unknown')),
          h('td', null, when(j.start_time)),
          h('td', { class: 'num' }, b === null ? (status === 'running' ? 'running' : '–') : duration(b - a)),
          h('td', { class: 'num', 'data-col': 'records' }, count(j.records_processed)),
          h('td', { class: 'mono small muted nowrap', title: j.metadata?.s3_highwatermark || '' }, middle(j.metadata?.s3_highwatermark || '–')));
      })))),
    h('div', { class: 'pager' },
      h('span', null, `Jobs ${count(offset + 1)}–${count(offset + jobs.length)}`),
      h('div', { class: 'row' },
        offset > 0 ? h('a', { class: 'btn small', href: `/jobs?offset=${Math.max(0, offset - LIMIT)}${all ? '&all=1' : ''}` }, '← Newer') : null,
        jobs.length === LIMIT ? h('a', { class: 'btn small', href: `/jobs?offset=${offset + LIMIT}${all ? '&all=1' : ''}` }, 'Older →') : null)))
    : emptyState({
      icon: 'inbox', testid: 'no-jobs',
      title: all ? 'No indexing runs yet' : 'No indexing run has found anything yet',
      text: all ? 'spoor-server runs the indexer every BURR_UPDATE_INTERVAL_MILLISECONDS; the first run shows here when it ends.'
        : 'Runs that found no new objects are hidden. Tick “Include runs that found nothing” to see them.',
    });

  clear(ctx.el,
    pageHead('Indexing jobs', { sub: 'spoor-server lists each project in the bucket past its high watermark and indexes what is new.', right: [allBox, refresh] }),
    body);
}
