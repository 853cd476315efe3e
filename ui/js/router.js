// router.js: client-side routes on the History API. The server answers index.html for every
// path without a file extension, so each route is also a deep link that survives a reload.
//
// A route is a pattern of literal and ':name' segments; the first that matches wins. Clicks
// on same-origin links are taken over (except the API's and /metrics, which open as files),
// so the page is not reloaded.

const routes = [];
let onRoute = () => {};

export function route(pattern, handler) {
  const parts = pattern.split('/').filter(Boolean);
  routes.push({ parts, handler });
}

export function match(pathname) {
  let segs;
  try {
    segs = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return null;
  }
  for (const r of routes) {
    if (r.parts.length !== segs.length) continue;
    const params = {};
    let ok = true;
    for (let i = 0; i < segs.length && ok; i++) {
      if (r.parts[i].startsWith(':')) params[r.parts[i].slice(1)] = segs[i];
      else ok = r.parts[i] === segs[i];
    }
    if (ok) return { handler: r.handler, params };
  }
  return null;
}

function current() {
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

export function navigate(url, { replace = false } = {}) {
  const target = new URL(url, location.href);
  const next = target.pathname + target.search + target.hash;
  if (replace) history.replaceState(null, '', next);
  else if (next !== location.pathname + location.search + location.hash) history.pushState(null, '', next);
  onRoute(current());
  window.scrollTo(0, 0);
}

// Changes the query string without rendering the page again (selection, sort, tabs).
export function setQuery(changes, { push = false } = {}) {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === undefined || v === '' || v === false) q.delete(k);
    else q.set(k, String(v));
  }
  const t = q.toString();
  const url = location.pathname + (t ? `?${t}` : '');
  if (push) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}

const PASS_THROUGH = /^\/(api|metrics|ready)(\/|$)/;

function onClick(e) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || PASS_THROUGH.test(url.pathname)) return;
  e.preventDefault();
  navigate(url.pathname + url.search + url.hash);
}

export function start(handler) {
  onRoute = handler;
  document.addEventListener('click', onClick);
  window.addEventListener('popstate', () => onRoute(current()));
  onRoute(current());
}
