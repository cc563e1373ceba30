// REST and WebSocket access to the gateway from the page: the API key (if any) lives in
// localStorage; REST sends it as `Authorization: Bearer`, the WebSocket as `?key=` (browsers
// cannot set headers on a WebSocket).

const KEY_STORAGE = 'lipsync.apiKey';

export function loadApiKey() {
  try {
    return localStorage.getItem(KEY_STORAGE) ?? '';
  } catch {
    return '';
  }
}

export function saveApiKey(key) {
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
  } catch {
    // private mode: the key lasts for this page only
  }
}

/** An API error with the gateway's stable code. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function authHeaders(key) {
  return key ? { Authorization: `Bearer ${key}` } : {};
}

async function failure(res) {
  let code = `HTTP_${res.status}`;
  let message = res.statusText || 'request failed';
  try {
    const body = await res.json();
    if (body && body.error) ({ code, message } = body.error);
  } catch {
    // not a JSON error body
  }
  return new ApiError(res.status, code, message);
}

export class GatewayClient {
  constructor(getKey) {
    this.getKey = getKey;
  }

  async request(method, path, body, signal) {
    const headers = authHeaders(this.getKey());
    let payload = body;
    if (body && !(body instanceof FormData)) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const res = await fetch(path, { method, headers, body: payload, signal });
    if (!res.ok) throw await failure(res);
    return res.status === 204 ? undefined : res.json();
  }

  listAvatars() {
    return this.request('GET', '/v1/avatars');
  }

  uploadAvatar(file) {
    const form = new FormData();
    form.append('file', file);
    return this.request('POST', '/v1/avatars', form);
  }

  createJob(fields, audioFile) {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== '') form.append(k, String(v));
    if (audioFile) form.append('audio', audioFile);
    return this.request('POST', '/v1/jobs', form);
  }

  getJob(id, signal) {
    return this.request('GET', `/v1/jobs/${encodeURIComponent(id)}`, undefined, signal);
  }

  /** The finished MP4 as a blob: a <video src> could not send the Authorization header. */
  async jobResult(id, signal) {
    const res = await fetch(`/v1/jobs/${encodeURIComponent(id)}/result`, { headers: authHeaders(this.getKey()), signal });
    if (!res.ok) throw await failure(res);
    return res.blob();
  }

  createSession(body) {
    return this.request('POST', '/v1/sessions', body);
  }

  deleteSession(id) {
    return this.request('DELETE', `/v1/sessions/${encodeURIComponent(id)}`);
  }

  readiness() {
    return fetch('/readyz').then((r) => r.json());
  }

  sessionSocketUrl(id) {
    const url = new URL(`/v1/sessions/${encodeURIComponent(id)}/ws`, location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const key = this.getKey();
    if (key) url.searchParams.set('key', key);
    return url.toString();
  }
}
