// api.js: the one way the UI talks to spoor-server's JSON API (same origin, /api/v0/...).
//
// Every failure becomes an ApiError with a kind the pages can explain:
//   unreachable  no HTTP answer at all (server stopped, network down)
//   auth         401: the server wants "Authorization: Bearer <token>" (SPOOR_AUTH_TOKEN)
//   starting     503: the index is still opening
//   http         any other non-2xx; status and the server's {"detail": ...} are kept
//   bad-response a 2xx that is not JSON (a proxy page, say)
// The token lives in localStorage and goes with every request.

const TOKEN_KEY = 'spoor.token';

export class ApiError extends Error {
  constructor(kind, message, { status = 0, detail = '', path = '' } = {}) {
    super(message);
    this.name = 'ApiError';
    this.kind = kind;
    this.status = status;
    this.detail = detail;
    this.path = path;
  }
}

export function getToken() {
  try {
    return localStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

export function setToken(token) {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    /* private mode: the token lasts until the page is closed */
  }
  for (const fn of tokenListeners) fn(Boolean(token));
}

const tokenListeners = new Set();
export function onTokenChange(fn) {
  tokenListeners.add(fn);
}

// One path segment, percent-encoded (ids may hold ':'; '/' is never valid in them).
export const seg = (s) => encodeURIComponent(String(s));

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const t = q.toString();
  return t ? `?${t}` : '';
}

// request(method, path, {body, signal, etag}) -> {status, data, etag}. status 304 has no data.
export async function request(method, path, { body, signal, etag } = {}) {
  const headers = { Accept: 'application/json' };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (etag) headers['If-None-Match'] = etag;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    // no-store: the browser's cache must not answer a conditional request for us, so that a
    // 304 reaches this code and an unconditional one always gets the current data.
    res = await fetch(path, {
      method, headers, signal, cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError('unreachable', `spoor-server did not answer ${path}`, { path });
  }
  if (res.status === 304) return { status: 304, data: null, etag: etag };
  let text = '';
  try {
    text = await res.text();
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError('unreachable', `the answer to ${path} was cut off`, { path });
  }
  let data;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    const detail = data && typeof data.detail === 'string' ? data.detail :
      data && data.detail ? JSON.stringify(data.detail) : text.slice(0, 300);
    const kind = res.status === 401 ? 'auth' : res.status === 503 ? 'starting' : 'http';
    throw new ApiError(kind, `${res.status} ${res.statusText || ''} from ${path}`.trim(),
      { status: res.status, detail, path });
  }
  if (data === undefined) {
    throw new ApiError('bad-response', `the answer to ${path} is not JSON`,
      { status: res.status, detail: text.slice(0, 300), path });
  }
  return { status: res.status, data, etag: res.headers.get('ETag') || '' };
}

export async function get(path, opts) {
  return (await request('GET', path, opts)).data;
}

// ---- the endpoints (burr-compat.md section 5) ------------------------------------------------

let projectsCache = null; // {at, promise}: pages of one project ask for the list in a row

// The list is shared between pages, so its request is not tied to one page's abort signal.
export function projects({ maxAgeMs = 0 } = {}) {
  const now = Date.now();
  if (maxAgeMs && projectsCache && now - projectsCache.at < maxAgeMs) return projectsCache.promise;
  const promise = get('/api/v0/projects');
  projectsCache = { at: now, promise };
  promise.catch(() => { if (projectsCache?.promise === promise) projectsCache = null; });
  return promise;
}

export const apps = (project, pk, { limit = 100, offset = 0, signal } = {}) =>
  get(`/api/v0/${seg(project)}/${seg(pk)}/apps${query({ limit, offset })}`, { signal });

export const appPath = (project, app, pk) =>
  `/api/v0/${seg(project)}/${seg(app)}/${seg(pk)}/apps`;

export const annotations = (project, { appId, pk, seq, signal } = {}) =>
  get(`/api/v0/${seg(project)}/annotations${query({ app_id: appId, partition_key: pk, step_sequence_id: seq })}`,
    { signal });

export const createAnnotation = (project, app, pk, seq, body) =>
  request('POST', `/api/v0/${seg(project)}/${seg(app)}/${seg(pk)}/${seg(seq)}/annotations`, { body })
    .then((r) => r.data);

export const updateAnnotation = (project, id, body) =>
  request('PUT', `/api/v0/${seg(project)}/${seg(id)}/update_annotations`, { body }).then((r) => r.data);

export const indexingJobs = ({ offset = 0, limit = 100, filterEmpty = true, signal } = {}) =>
  get(`/api/v0/indexing_jobs${query({ offset, limit, filter_empty: filterEmpty })}`, { signal });

export const version = (opts) => get('/api/v0/version', opts);
export const appSpec = (opts) => get('/api/v0/metadata/app_spec', opts);
