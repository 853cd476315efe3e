// app.js: the application view, /project/:project/:partition/:app?step=N&tab=T.
//
// Left: the steps table (filter by action or status, j/k or arrow keys to move). Right: the
// state machine with the selected step's action highlighted, and the selected step in detail.
// Header: status, counts, timing, the parent (spawning or fork) and the sub-applications.
//
// Live refresh: while the toggle is on, the tab is visible, and the app is active (its last
// step is running, or it changed in the last minute), the app view is asked for again every
// 1.5 s with If-None-Match; a 304 costs nothing, a 200 redraws keeping the selection (or
// following the newest step when the newest was selected).
import { h, clear } from '../dom.js';
import * as api from '../api.js';
import { setQuery } from '../router.js';
import { duration, when, plural, count } from '../format.js';
import {
  appUrl, appsUrl, annotationsUrl, pkFromUrl, pkToApi, seqOf, actionOf, stepStatus, stepStartUs,
  stepEndUs, appStatus, lastActivityUs,
} from '../model.js';
import { statusBadge } from '../components/ui.js';
import { emptyState } from '../components/states.js';
import { stepsTable } from '../components/steps-table.js';
import { stepDetail, TABS } from '../components/step-detail.js';
import { stateGraph } from '../components/graph.js';
import { requireProject } from './apps.js';

const POLL_MS = 1500;
const ACTIVE_MS = 60_000;
const LIVE_KEY = 'spoor.live';

// Did something happen within ACTIVE_MS? Naive step times are the tracked process's local
// time read as UTC, so they may be off by the process's UTC offset (a multiple of 15 min).
function recent(us, nowMs) {
  if (us === null || !Number.isFinite(us)) return false;
  const diff = nowMs - us / 1000;
  if (Math.abs(diff) < ACTIVE_MS) return true;
  const q = 15 * 60_000;
  const off = ((diff % q) + q) % q;
  return Math.abs(diff) < 15 * 3600_000 && (off < ACTIVE_MS || q - off < ACTIVE_MS);
}

function liveSetting() {
  try {
    return localStorage.getItem(LIVE_KEY) !== '0';
  } catch {
    return true;
  }
}

function scrollIntoContainer(container, row) {
  const c = container.getBoundingClientRect();
  const r = row.getBoundingClientRect();
  const head = container.querySelector('thead')?.getBoundingClientRect().height || 0;
  if (r.top < c.top + head || r.bottom > c.bottom) {
    container.scrollTop += r.top - c.top - head - (c.height - head) / 2 + r.height / 2;
  }
}

function unknownApp(ctx, project, app, pk, err) {
  clear(ctx.el, emptyState({
    icon: 'question', error: true, testid: 'unknown-app',
    title: `No application “${app}”`,
    text: `${err.detail || err.message}. Project ${project}${pk === null ? '' : `, partition ${pk}`}: ` +
      'check the id, or wait for the next index run if the application was just started.',
    children: h('a', { class: 'btn', href: appsUrl(project) }, `All applications of ${project}`),
  }));
}

export async function appPage(ctx) {
  const { project, app } = ctx.params;
  const pk = pkFromUrl(ctx.params.partition);
  const apiPk = pkToApi(pk);
  ctx.setTitle(app);
  ctx.setCrumbs([
    { label: 'Projects', href: '/projects' },
    { label: project, href: appsUrl(project), mono: true },
    ...(pk !== null ? [{ label: pk, href: appsUrl(project, { partition: pk }), mono: true }] : []),
    { label: app, mono: true },
  ]);
  ctx.setNav('apps', project);
  if (!(await requireProject(ctx, project))) return;

  const path = api.appPath(project, app, apiPk);
  let first;
  try {
    first = await api.request('GET', path, { signal: ctx.signal });
  } catch (e) {
    if (e.kind === 'http' && e.status === 404) return unknownApp(ctx, project, app, pk, e);
    throw e;
  }
  let annotations = [];
  let annotationsError = '';
  try {
    annotations = await api.annotations(project, { appId: app, pk: apiPk, signal: ctx.signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    annotationsError = `Annotations could not be loaded: ${e.detail || e.message}`;
  }

  let data = first.data;
  let etag = first.etag;
  let steps = data.steps;
  const stepQuery = ctx.query.get('step');
  let selected = stepQuery !== null && steps.some((s) => String(seqOf(s)) === stepQuery) ? Number(stepQuery)
    : steps.length ? seqOf(steps[steps.length - 1]) : null;
  let follow = stepQuery === null;
  let tab = TABS.includes(ctx.query.get('tab')) ? ctx.query.get('tab') : 'overview';
  let filterText = '';
  let filterStatus = 'all';
  let live = liveSetting();
  let lastChangeMs = steps.length ? 0 : Date.now();
  let pollError = '';
  let timer = null;
  let table = null;

  // ---- layout ------------------------------------------------------------------------------
  const head = h('div', { class: 'app-head' });
  const liveState = h('span', { class: 'live-state', 'data-testid': 'live-state', 'aria-live': 'polite' });
  const liveBox = h('input', {
    type: 'checkbox', checked: live, 'data-testid': 'live-toggle',
    onchange: (e) => {
      live = e.target.checked;
      try { localStorage.setItem(LIVE_KEY, live ? '1' : '0'); } catch { /* not kept */ }
      if (live) lastChangeMs = Date.now(); // look again for a minute
      schedule(0);
    },
  });
  const controls = h('div', { class: 'toolbar' },
    h('label', { class: 'check live', title: 'Refresh while the application runs' }, liveBox, 'Live'), liveState,
    h('button', { class: 'btn small', type: 'button', onclick: () => poll(true) }, 'Refresh'),
    h('a', { class: 'btn small', href: annotationsUrl(project, { app }) }, 'Annotations'));
  const stepsBox = h('div', { class: 'steps-scroll', tabindex: 0, 'aria-label': 'Steps' });
  const shownNote = h('span', { class: 'muted small', 'data-testid': 'steps-count' });
  const filterInput = h('input', {
    class: 'input', type: 'search', placeholder: 'Filter steps', 'aria-label': 'Filter steps by action or sequence id', size: 12,
    oninput: () => { filterText = filterInput.value; applyFilter(); },
  });
  const statusSelect = h('select', {
    class: 'input', 'aria-label': 'Status', onchange: () => { filterStatus = statusSelect.value; applyFilter(); },
  }, ['all', 'succeeded', 'failed', 'running'].map((s) => h('option', { value: s }, s === 'all' ? 'any status' : s)));
  const graphBody = h('div', { class: 'graph-wrap' });
  const detailBox = h('div');
  const annotNote = annotationsError ? h('div', { class: 'notice error' }, annotationsError) : null;

  clear(ctx.el,
    head,
    annotNote,
    h('div', { class: 'app-grid' },
      h('div', { class: 'card' },
        h('div', { class: 'card-head' }, h('h2', null, 'Steps'), h('div', { class: 'toolbar' }, shownNote, filterInput, statusSelect)),
        stepsBox),
      h('div', { class: 'right' },
        h('div', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', null, 'State machine'),
          h('span', { class: 'faint small' }, 'click an action to step through its runs')), graphBody),
        detailBox)));
  if (!ctx.current) return undefined; // navigated away while loading
  ctx.topRight.append(controls);

  // ---- drawing -----------------------------------------------------------------------------
  const stepIndex = () => new Map(steps.map((s, i) => [seqOf(s), i]));
  let indexOf = stepIndex();

  function drawHead() {
    const status = appStatus(steps);
    const failed = steps.filter((s) => stepStatus(s) === 'failed').length;
    const firstUs = steps.length ? stepStartUs(steps[0]) : null;
    const last = steps[steps.length - 1];
    const lastUs = last ? stepEndUs(last) ?? stepStartUs(last) : null;
    const kids = [];
    const seen = new Set();
    for (const c of data.children || []) {
      const k = `${c.child.app_id}\u0000${c.child.partition_key}`;
      if (!seen.has(k)) { seen.add(k); kids.push(c); }
    }
    const ptr = (label, p, testid) => h('span', { class: 'row', style: 'gap:6px' }, h('span', { class: 'label' }, label),
      h('a', { class: 'mono', 'data-testid': testid, href: appUrl(project, p.partition_key, p.app_id, { step: p.sequence_id ?? undefined }) }, p.app_id),
      p.sequence_id !== null && p.sequence_id !== undefined ? h('span', { class: 'faint' }, `at step ${p.sequence_id}`) : null);
    clear(head,
      h('div', { class: 'title-row row', style: 'gap:10px' },
        h('h1', { class: 'app-title' }, app), statusBadge(status),
        pk !== null ? h('a', { class: 'chip mono', href: appsUrl(project, { partition: pk }), title: 'partition key' }, pk)
          : h('span', { class: 'chip', title: 'no partition key' }, 'no partition')),
      h('div', { class: 'stats' },
        h('span', null, h('b', { 'data-testid': 'step-count' }, count(steps.length)), ` step${steps.length === 1 ? '' : 's'}`),
        failed ? h('span', null, h('b', { style: 'color:var(--fail)' }, count(failed)), ' failed') : null,
        firstUs !== null && lastUs !== null ? h('span', null, 'took ', h('b', null, duration(lastUs - firstUs))) : null,
        steps.length ? h('span', null, 'started ', when(steps[0].step_start_log.start_time, { stacked: false })) : null,
        last ? h('span', null, 'last step ', when(last.step_start_log.start_time, { stacked: false })) : null,
        h('span', null, plural((data.application.actions || []).length, 'action'))),
      data.spawning_parent_pointer || data.parent_pointer || kids.length ? h('div', { class: 'lineage', 'data-testid': 'lineage' },
        data.spawning_parent_pointer ? ptr('Spawned by', data.spawning_parent_pointer, 'parent-link') : null,
        data.parent_pointer ? ptr('Forked from', data.parent_pointer, 'fork-parent-link') : null,
        kids.length ? h('span', { class: 'row', style: 'gap:6px', 'data-testid': 'children' }, h('span', { class: 'label' }, 'Sub-applications'),
          kids.map((c) => h('a', {
            class: 'chip mono', href: appUrl(project, c.child.partition_key, c.child.app_id),
            title: `${c.event_type === 'fork' ? 'forked' : 'spawned'}${c.sequence_id !== null ? ` at step ${c.sequence_id}` : ''}`,
          }, c.child.app_id))) : null) : null);
  }

  function drawTable() {
    const bySeq = new Map();
    for (const a of annotations) {
      if (!bySeq.has(a.step_sequence_id)) bySeq.set(a.step_sequence_id, []);
      bySeq.get(a.step_sequence_id).push(a);
    }
    if (!steps.length) {
      table = null;
      clear(stepsBox, h('div', { class: 'card-body' }, emptyState({
        icon: 'dots', testid: 'no-steps', title: 'No steps yet',
        text: 'The application was created (its graph is indexed) but has not logged a step. With Live on, steps appear here as they are indexed.',
      })));
      return;
    }
    const t0 = performance.now();
    table = stepsTable(steps, { project, children: data.children || [], annotationsBySeq: bySeq, onSelect: (s) => select(s, { user: true }) });
    clear(stepsBox, table.table);
    stepsBox.dataset.renderMs = String(Math.round(performance.now() - t0));
    applyFilter();
    if (selected !== null) table.select(selected);
  }

  function applyFilter() {
    if (!table) { shownNote.textContent = ''; return; }
    const n = table.filter(filterText, filterStatus);
    shownNote.textContent = n === steps.length ? plural(steps.length, 'step') : `${count(n)} of ${plural(steps.length, 'step')}`;
  }

  function drawGraph() {
    const i = selected !== null ? indexOf.get(selected) : undefined;
    const step = i !== undefined ? steps[i] : null;
    const visits = new Map();
    for (const s of steps) visits.set(actionOf(s), (visits.get(actionOf(s)) || 0) + 1);
    clear(graphBody, stateGraph(data.application, {
      current: step ? actionOf(step) : null,
      status: step ? stepStatus(step) : null,
      previous: i > 0 ? actionOf(steps[i - 1]) : null,
      visits,
      onSelect: (name) => {
        // the next run of that action after the selected step, wrapping around
        const from = i === undefined ? -1 : i;
        for (let k = 1; k <= steps.length; k++) {
          const s = steps[(from + k) % steps.length];
          if (actionOf(s) === name) return select(seqOf(s), { user: true, scroll: true });
        }
        return undefined;
      },
    }));
  }

  function drawDetail() {
    const i = selected !== null ? indexOf.get(selected) : undefined;
    if (i === undefined) {
      clear(detailBox);
      return;
    }
    const step = steps[i];
    let prev = null;
    for (let k = i - 1; k >= 0; k--) if (steps[k].step_end_log) { prev = steps[k]; break; }
    const visible = table ? table.visibleSeqs() : [];
    const vi = visible.indexOf(selected);
    clear(detailBox, stepDetail(step, prev, {
      project, appId: app, pk, application: data.application, children: data.children || [], annotations, tab,
      prevSeq: vi > 0 ? visible[vi - 1] : null,
      nextSeq: vi >= 0 && vi < visible.length - 1 ? visible[vi + 1] : null,
      onTab: (t) => { tab = t; setQuery({ tab: t === 'overview' ? null : t }); drawDetail(); },
      onStep: (s) => select(s, { user: true, scroll: true }),
      onAnnotationSaved: (saved) => {
        annotations = [...annotations.filter((a) => a.id !== saved.id), saved].sort((a, b) => a.id - b.id);
        drawTable();
        drawDetail();
      },
    }));
  }

  function select(seq, { user = false, scroll = false } = {}) {
    selected = seq;
    if (user) {
      follow = steps.length > 0 && seq === seqOf(steps[steps.length - 1]);
      setQuery({ step: follow ? null : seq });
    }
    const tr = table ? table.select(seq) : null;
    if (tr && scroll) scrollIntoContainer(stepsBox, tr);
    drawGraph();
    drawDetail();
  }

  function drawAll() {
    indexOf = stepIndex();
    drawHead();
    drawTable();
    drawGraph();
    drawDetail();
  }

  // ---- live refresh ------------------------------------------------------------------------
  function active() {
    const last = steps[steps.length - 1];
    const now = Date.now();
    return (last && stepStatus(last) === 'running') || now - lastChangeMs < ACTIVE_MS || recent(lastActivityUs(steps), now);
  }

  function drawLive() {
    let text;
    let on = false;
    if (!live) text = 'paused';
    else if (pollError) text = pollError;
    else if (document.hidden) text = 'paused while hidden';
    else if (active()) { text = `polling every ${POLL_MS / 1000} s`; on = true; } else text = 'idle: no change for a minute';
    liveState.textContent = text;
    liveState.className = `live-state${on ? ' on' : ''}`;
    liveState.dataset.state = on ? 'polling' : live ? 'idle' : 'off';
  }

  function schedule(ms = POLL_MS) {
    clearTimeout(timer);
    drawLive();
    timer = setTimeout(() => poll(false), ms);
  }

  async function poll(force) {
    if (ctx.signal.aborted) return;
    if (!force && (!live || document.hidden || !active())) return schedule();
    try {
      const r = await api.request('GET', path, { signal: ctx.signal, etag });
      pollError = '';
      if (r.status !== 304) {
        data = r.data;
        etag = r.etag;
        steps = data.steps;
        lastChangeMs = Date.now();
        const newLast = steps.length ? seqOf(steps[steps.length - 1]) : null;
        if (follow || selected === null) selected = newLast;
        if (selected !== null && !steps.some((s) => seqOf(s) === selected)) selected = newLast;
        const keepScroll = stepsBox.scrollTop;
        const atBottom = stepsBox.scrollTop + stepsBox.clientHeight >= stepsBox.scrollHeight - 4;
        drawAll();
        stepsBox.scrollTop = follow && atBottom ? stepsBox.scrollHeight : keepScroll;
      }
    } catch (e) {
      if (e.name === 'AbortError') return;
      pollError = e.kind === 'unreachable' ? 'server unreachable, retrying' : `refresh failed (${e.status || e.kind})`;
    }
    schedule();
  }

  const onKey = (e) => {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || !table) return;
    if (e.target.closest('input, textarea, select, [contenteditable]')) return;
    const arrows = e.target === stepsBox || stepsBox.contains(e.target);
    const dir = e.key === 'j' || (arrows && e.key === 'ArrowDown') ? 1 : e.key === 'k' || (arrows && e.key === 'ArrowUp') ? -1 : 0;
    if (!dir) return;
    const vis = table.visibleSeqs();
    const at = vis.indexOf(selected);
    const next = vis[Math.min(vis.length - 1, Math.max(0, at + dir))];
    if (next !== undefined) {
      e.preventDefault();
      select(next, { user: true, scroll: true });
    }
  };
  const onVisible = () => { if (!document.hidden) schedule(0); else drawLive(); };

  drawAll();
  if (selected !== null && table) {
    const tr = table.select(selected);
    if (tr && stepQuery !== null) scrollIntoContainer(stepsBox, tr);
    else if (follow) stepsBox.scrollTop = stepsBox.scrollHeight;
  }
  document.addEventListener('keydown', onKey);
  document.addEventListener('visibilitychange', onVisible);
  schedule();

  return () => {
    clearTimeout(timer);
    document.removeEventListener('keydown', onKey);
    document.removeEventListener('visibilitychange', onVisible);
  };
}
