// main.js: the shell (sidebar, breadcrumbs, title) and the page lifecycle.
//
// Each navigation aborts the previous page's requests, runs its cleanup (timers), and renders
// the matched page into a fresh container. A page is `async (ctx) => cleanup | undefined`;
// whatever it throws is shown as an explained error state with a retry.
import { h, clear, loading } from './dom.js';
import { route, match, start } from './router.js';
import { getToken, setToken, onTokenChange, version } from './api.js';
import { errorState } from './components/states.js';
import { projectsPage } from './pages/projects.js';
import { appsPage, appsByPartitionPage } from './pages/apps.js';
import { appPage } from './pages/app.js';
import { annotationsPage } from './pages/annotations.js';
import { jobsPage } from './pages/jobs.js';
import { notFoundPage } from './pages/notfound.js';

route('/', projectsPage);
route('/projects', projectsPage);
route('/project/:project', appsPage);
route('/project/:project/:partition', appsByPartitionPage); // Burr's UI route
route('/project/:project/:partition/:app', appPage);
route('/annotations/:project', annotationsPage);
route('/jobs', jobsPage);
route('/admin', jobsPage); // Burr's UI name for it

const main = document.getElementById('main');
const crumbs = document.getElementById('crumbs');
const topRight = document.getElementById('topbar-right');
const navProject = document.getElementById('nav-project');

let active = null; // {controller, cleanup}

function setCrumbs(items) {
  clear(crumbs);
  items.forEach((c, i) => {
    if (i) crumbs.append(h('span', { class: 'sep', 'aria-hidden': 'true' }, '/'));
    const last = i === items.length - 1;
    crumbs.append(c.href && !last ? h('a', { href: c.href, class: c.mono ? 'mono' : null }, c.label)
      : h('span', { class: ['current', c.mono && 'mono'], 'aria-current': last ? 'page' : null }, c.label));
  });
}

function setNav(key, project) {
  navProject.hidden = !project;
  if (project) {
    document.getElementById('nav-project-name').textContent = project;
    document.getElementById('nav-apps').href = `/project/${encodeURIComponent(project)}`;
    document.getElementById('nav-annotations').href = `/annotations/${encodeURIComponent(project)}`;
  }
  for (const a of document.querySelectorAll('.nav-link')) a.classList.toggle('active', a.dataset.nav === key);
}

async function render(loc) {
  if (active) {
    active.controller.abort();
    try { active.cleanup?.(); } catch { /* a page's cleanup must not stop navigation */ }
  }
  const controller = new AbortController();
  const me = { controller, cleanup: null };
  active = me;
  const el = h('div', { class: 'page' }, loading());
  clear(main, el);
  clear(topRight);
  const m = match(loc.path) || { handler: notFoundPage, params: {} };
  const ctx = {
    params: m.params,
    query: loc.query,
    signal: controller.signal,
    el,
    setTitle: (t) => { document.title = t ? `${t} · spoor` : 'spoor'; },
    setCrumbs,
    setNav,
    topRight,
    retry: () => render(loc),
    get current() { return active === me; },
  };
  try {
    const cleanup = await m.handler(ctx);
    if (active === me) me.cleanup = cleanup || null;
    else cleanup?.();
  } catch (err) {
    if (err?.name === 'AbortError' || active !== me) return;
    clear(el, errorState(err, { retry: ctx.retry }));
  }
}

function renderFoot() {
  const foot = document.getElementById('sidebar-foot');
  clear(foot);
  const ver = h('span', { 'data-testid': 'version' });
  foot.append(ver);
  version().then((v) => { ver.textContent = `spoor ${v.version}`; }).catch(() => { ver.textContent = ''; });
  if (getToken()) {
    foot.append(h('button', {
      type: 'button', title: 'Remove the API token kept in this browser',
      onclick: () => { setToken(''); location.reload(); },
    }, 'Forget API token'));
  }
}

onTokenChange(renderFoot);
start(render);
renderFoot();
