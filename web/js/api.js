// The only door to the server: /api/v1 with the access token, which lives in this module's
// memory only (never in storage). The refresh token is kept in sessionStorage (this tab only,
// gone when it closes) so that a reload does not sign the user out; it is rotated on every
// use. A 401 triggers one refresh; a second 401, or a failed refresh, signs out.

const BASE = '/api/v1';
const REFRESH_KEY = 'groupwork.refresh';

let access = null;
let user = null;
let refreshTimer = null;
let refreshing = null;
const listeners = new Set();

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
    this.code = this.problem.code || null;
    this.errors = Array.isArray(this.problem.errors) ? this.problem.errors : [];
  }
}

export function currentUser() {
  return user;
}

/// `fn(user|null, reason)` is called on sign-in and sign-out.
export function onAuthChange(fn) {
  listeners.add(fn);
}

function notify(reason) {
  for (const fn of listeners) fn(user, reason);
}

function accept(tokens) {
  access = tokens.access_token;
  user = tokens.user;
  sessionStorage.setItem(REFRESH_KEY, tokens.refresh_token);
  clearTimeout(refreshTimer);
  const ms = Math.max(5, (tokens.expires_in || 900) - 60) * 1000;
  refreshTimer = setTimeout(() => { refresh().catch(() => {}); }, ms);
}

function forget() {
  access = null;
  user = null;
  clearTimeout(refreshTimer);
  sessionStorage.removeItem(REFRESH_KEY);
}

async function problemOf(res) {
  const type = res.headers.get('content-type') || '';
  if (type.includes('json')) {
    try { return await res.json(); } catch { return null; }
  }
  return null;
}

export async function login(email, password) {
  const res = await fetch(`${BASE}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (!res.ok) throw new ApiError(res.status, await problemOf(res));
  accept(await res.json());
  notify('signin');
  return user;
}

/// Exchanges the refresh token for new tokens (one at a time); false if that is impossible.
export function refresh() {
  if (refreshing) return refreshing;
  const token = sessionStorage.getItem(REFRESH_KEY);
  if (!token) return Promise.resolve(false);
  refreshing = (async () => {
    try {
      const res = await fetch(`${BASE}/auth/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: token }),
      });
      if (!res.ok) return false;
      accept(await res.json());
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/// On page load: resume the tab's sign-in if its refresh token is still good.
export async function resume() {
  if (await refresh()) {
    notify('resume');
    return true;
  }
  forget();
  return false;
}

export async function logout() {
  const token = sessionStorage.getItem(REFRESH_KEY);
  if (token && access) {
    try {
      await fetch(`${BASE}/auth/logout`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${access}` },
        body: JSON.stringify({ refresh_token: token }),
      });
    } catch { /* signed out locally all the same */ }
  }
  forget();
  notify('signout');
}

function signedOutByServer() {
  forget();
  notify('expired');
}

function url(path, query) {
  const u = new URL(BASE + path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '') u.searchParams.set(k, v);
  }
  return u.pathname + u.search;
}

/// One API call. Returns `{data, etag, res}`; throws ApiError for any non-2xx answer.
/// `opts.raw` leaves the body unread (downloads).
export async function call(method, path, opts = {}) {
  const send = () => {
    const headers = { accept: 'application/json', ...(opts.headers || {}) };
    if (access) headers.authorization = `Bearer ${access}`;
    let body;
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    if (opts.ifMatch) headers['if-match'] = opts.ifMatch;
    return fetch(url(path, opts.query), { method, headers, body });
  };
  let res = await send();
  if (res.status === 401 && access) {
    if (await refresh()) res = await send();
    if (res.status === 401) {
      signedOutByServer();
      throw new ApiError(401, await problemOf(res));
    }
  }
  if (!res.ok) throw new ApiError(res.status, await problemOf(res));
  if (opts.raw) return { res, etag: res.headers.get('etag') };
  const data = res.status === 204 ? null : await res.json();
  return { data, etag: res.headers.get('etag'), res };
}

export const get = async (path, query) => (await call('GET', path, { query })).data;
export const post = async (path, body) => (await call('POST', path, { body: body || {} })).data;
export const put = async (path, body, ifMatch) => (await call('PUT', path, { body, ifMatch })).data;
export const patch = async (path, body, ifMatch) => (await call('PATCH', path, { body, ifMatch })).data;

/// Every page of a list.
export async function all(path, query = {}) {
  const items = [];
  let cursor = null;
  do {
    const page = await get(path, { ...query, limit: 200, cursor });
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

/// Saves a response body as a file (report downloads).
export async function download(path, query, fallbackName, accept = 'text/csv') {
  const { res } = await call('GET', path, { query, raw: true, headers: { accept } });
  const blob = await res.blob();
  const cd = res.headers.get('content-disposition') || '';
  const m = /filename="?([^";]+)"?/.exec(cd);
  const name = m ? m[1] : fallbackName;
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10000);
  return name;
}
