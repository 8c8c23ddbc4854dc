// Credentials, requests and the live feeds (polling with ETag / If-None-Match).
// The credentials live in this tab's sessionStorage only (gone when the tab closes, never
// sent by the browser on its own as a cookie would be) and in memory.

const STORE = 'herald-inbox-credentials';
export const BASE = document.querySelector('meta[name="herald-base"]').content;

export function savedCredentials() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORE) || 'null');
    return saved && saved.accountSid && saved.secret ? saved : null;
  } catch {
    return null;
  }
}

export function saveCredentials(credentials) {
  sessionStorage.setItem(STORE, JSON.stringify(credentials));
}

export function forgetCredentials() {
  sessionStorage.removeItem(STORE);
}

function basic(username, secret) {
  const bytes = new TextEncoder().encode(`${username}:${secret}`);
  return 'Basic ' + btoa(String.fromCharCode(...bytes));
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.code;
  }
}

export class Api {
  constructor(credentials) {
    this.accountSid = credentials.accountSid;
    this.username = credentials.keySid || credentials.accountSid;
    this.authorization = basic(this.username, credentials.secret);
  }

  twilio(rest) {
    return `${BASE}/2010-04-01/Accounts/${this.accountSid}${rest}`;
  }

  inbox(rest) {
    return `${BASE}/inbox/api/Accounts/${this.accountSid}${rest}`;
  }

  // {status, data, etag}; 304 gives data null. Errors (4xx/5xx) throw ApiError.
  async request(method, url, {form, etag} = {}) {
    const headers = {Authorization: this.authorization, Accept: 'application/json'};
    if (etag) headers['If-None-Match'] = etag;
    let body;
    if (form) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries(form)) {
        for (const one of [].concat(value)) if (one !== undefined && one !== null) params.append(name, one);
      }
      body = params.toString();
    }
    // credentials 'omit': no cookies, and a 401 never opens the browser's own login prompt.
    const response = await fetch(url, {method, headers, body, credentials: 'omit', cache: 'no-store'});
    if (response.status === 304) return {status: 304, data: null, etag};
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = {message: text.slice(0, 200)};
      }
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return {status: response.status, data, etag: response.headers.get('ETag')};
  }

  get(url, etag) {
    return this.request('GET', url, {etag});
  }

  post(url, form) {
    return this.request('POST', url, {form});
  }

  remove(url) {
    return this.request('DELETE', url);
  }
}

// One URL polled with If-None-Match: `onData(data)` runs only when the answer changed.
export class Feed {
  constructor(api, url, onData, onError) {
    this.api = api;
    this.url = url;
    this.onData = onData;
    this.onError = onError;
    this.etag = null;
  }

  async poll() {
    try {
      const answer = await this.api.get(this.url, this.etag);
      if (answer.status === 304) return false;
      this.etag = answer.etag;
      this.onData(answer.data);
      return true;
    } catch (error) {
      this.onError(error);
      return false;
    }
  }
}

// A list query's live first page plus any older pages loaded on request, kept as a map of
// Sid -> message. A message the first page no longer shows, but would, was deleted.
export class Window {
  constructor(api, query, onChange, onError, shared) {
    this.api = api;
    this.items = new Map();
    this.next = null;
    this.older = false;
    this.shared = shared;
    this.onChange = onChange;
    const params = new URLSearchParams(query);
    this.feed = new Feed(api, api.inbox('/Messages.json?' + params), (data) => this.update(data), onError);
  }

  absorb(data) {
    Object.assign(this.shared.encodings, data.encodings);
    Object.assign(this.shared.errors, data.errors);
  }

  update(data) {
    this.absorb(data);
    const page = data.page;
    const listed = page.messages;
    const seen = new Set(listed.map((m) => m.sid));
    const full = listed.length >= page.page_size;
    const oldest = listed.length ? Date.parse(listed[listed.length - 1].date_created) : -Infinity;
    for (const [sid, message] of this.items) {
      if (!seen.has(sid) && (!full || Date.parse(message.date_created) > oldest)) this.items.delete(sid);
    }
    listed.forEach((message, index) => {
      message._pos = index;
      this.items.set(message.sid, message);
    });
    if (!this.older) this.next = page.next_page_uri;
    this.onChange();
  }

  async loadOlder() {
    if (!this.next) return;
    const query = this.next.slice(this.next.indexOf('?'));
    const answer = await this.api.get(this.api.inbox('/Messages.json' + query));
    this.absorb(answer.data);
    const page = answer.data.page;
    let position = this.items.size;
    for (const message of page.messages) {
      if (!this.items.has(message.sid)) {
        message._pos = position++;
        this.items.set(message.sid, message);
      }
    }
    this.next = page.next_page_uri;
    this.older = true;
    this.onChange();
  }

  forget(sid) {
    this.items.delete(sid);
  }
}
