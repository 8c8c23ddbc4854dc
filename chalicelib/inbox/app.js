// Herald Inbox: sign in, conversations, a thread, a message's detail, and the actions.
// Live by polling every second with If-None-Match (api.js); see docs/inbox.md.

import {Api, ApiError, BASE, Feed, Window, forgetCredentials, saveCredentials, savedCredentials} from './api.js';
import {Services} from './services.js';
import {snippets} from './snippets.js';
import {badge, bubble, conversationItem, errorLine, eventsTable, h, historyTable, mediaPreviews, msOf, partyOf} from './view.js';

const $ = (id) => document.getElementById(id);
const SANDBOX = document.querySelector('meta[name="herald-sandbox"]').content === 'true';
const POLL_MS = 1000;
const HIDDEN_POLL_MS = 5000;
const PAGE_SIZE = 100;

const state = {
  api: null,
  shared: {encodings: {}, errors: {}, media: {}},
  list: null,
  filters: {},
  party: null,
  thread: [],
  sid: null,
  detail: null,
  detailData: null,
  numbers: null,
  timer: null,
  known: null,
};

function announce(text) {
  $('live').textContent = text;
}

function failed(error) {
  if (error instanceof ApiError && error.status === 401) {
    signOut('Your credentials were refused; sign in again.');
    return;
  }
  announce(error instanceof ApiError ? `Error ${error.code || error.status}: ${error.message}` : `Cannot reach Herald: ${error.message}`);
}

// --- sign in and out ----------------------------------------------------------------------

async function signIn(event) {
  event.preventDefault();
  const form = event.target;
  const accountSid = form.account.value.trim();
  const keySid = form.key.value.trim();
  const secret = form.secret.value;
  const problem = $('signin-error');
  if (!/^AC[0-9a-fA-F]{32}$/.test(accountSid)) {
    problem.textContent = 'The Account SID is AC followed by 32 hexadecimal digits.';
    return form.account.focus();
  }
  if (keySid && !/^SK[0-9a-fA-F]{32}$/.test(keySid)) {
    problem.textContent = 'An API key SID is SK followed by 32 hexadecimal digits.';
    return form.key.focus();
  }
  const credentials = {accountSid, keySid, secret};
  const api = new Api(credentials);
  try {
    await api.get(api.inbox('/Messages.json?PageSize=1'));
  } catch (error) {
    problem.textContent = error instanceof ApiError && error.status === 401
      ? 'Those credentials were refused (20003). Check the Account SID and its AuthToken, or the API key and its secret.'
      : `Cannot sign in: ${error.message}`;
    form.secret.value = '';
    return form.secret.focus();
  }
  problem.textContent = '';
  form.reset();
  saveCredentials(credentials);
  start(credentials);
}

function signOut(reason) {
  forgetCredentials();
  clearTimeout(state.timer);
  // A fresh page: nothing of this account stays in memory for the next one.
  if (reason) sessionStorage.setItem('herald-inbox-notice', reason);
  location.replace(location.pathname);
}

function start(credentials) {
  state.api = new Api(credentials);
  state.services = new Services(state.api, announce);
  $('signin').hidden = true;
  $('inbox').hidden = false;
  $('sign-out').hidden = false;
  $('help-button').hidden = false;
  const who = $('who');
  who.hidden = false;
  who.textContent = credentials.keySid
    ? `${credentials.accountSid} (API key ${credentials.keySid})`
    : credentials.accountSid;
  openList();
  route();
  tick();
}

// --- the list of conversations --------------------------------------------------------------

function listQuery() {
  const f = state.filters;
  const query = {PageSize: String(PAGE_SIZE)};
  if (f.To) query.To = f.To;
  if (f.From) query.From = f.From;
  if (f.after) query['DateSent>'] = f.after;
  if (f.before) query['DateSent<'] = f.before;
  return query;
}

function openList() {
  state.known = null;
  state.list = new Window(state.api, listQuery(), renderList, failed, state.shared);
  renderList();
}

function visible(message) {
  return !state.filters.status || message.status === state.filters.status;
}

function byNewest(a, b) {
  return msOf(b.date_created) - msOf(a.date_created) || (a._pos ?? 0) - (b._pos ?? 0);
}

function conversations() {
  const groups = new Map();
  const listed = [...state.list.items.values()].filter(visible).sort(byNewest);
  for (const message of listed) {
    const party = partyOf(message);
    if (!groups.has(party)) groups.set(party, {party, messages: []});
    groups.get(party).messages.push(message);
  }
  return [...groups.values()];
}

function renderList() {
  const groups = conversations();
  const list = $('conversations');
  const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.party : null;
  list.replaceChildren(...groups.map((group) => conversationItem(group, group.party === state.party)));
  if (focused) list.querySelector(`[data-party="${CSS.escape(focused)}"]`)?.focus();
  $('list-empty').hidden = groups.length > 0 || !state.list.feed.etag;
  $('more').hidden = !state.list.next;
  noticeNew();
}

function noticeNew() {
  const sids = new Set(state.list.items.keys());
  if (state.known === null) {
    if (state.list.feed.etag) state.known = sids;
    return;
  }
  const fresh = [...sids].filter((sid) => !state.known.has(sid));
  state.known = sids;
  if (fresh.length) {
    const first = state.list.items.get(fresh[0]);
    announce(`${fresh.length} new message${fresh.length === 1 ? '' : 's'}, latest ${first.direction === 'inbound' ? 'from' : 'to'} ${partyOf(first)}`);
  }
}

function applyFilters(event) {
  event.preventDefault();
  const form = $('filters');
  state.filters = Object.fromEntries([...new FormData(form)].map(([k, v]) => [k, String(v).trim()]));
  openList();
  state.list.feed.poll();
}

// --- one conversation ------------------------------------------------------------------------

function openThread(party) {
  if (state.party === party) return;
  state.party = party;
  const query = (filter) => ({[filter]: party, PageSize: '50'});
  state.thread = [
    new Window(state.api, query('To'), renderThread, failed, state.shared),
    new Window(state.api, query('From'), renderThread, failed, state.shared),
  ];
  $('thread-title').textContent = `Conversation with ${party}`;
  $('thread').replaceChildren();
  $('reply').hidden = true;
  $('register').hidden = true;
  state.thread.forEach((w) => w.feed.poll());
  if (SANDBOX) loadNumbers();
}

function closeThread() {
  state.party = null;
  state.thread = [];
}

function threadMessages() {
  const merged = new Map();
  for (const w of state.thread) for (const [sid, m] of w.items) merged.set(sid, m);
  // Oldest first; within one second a received text comes before what answers it.
  return [...merged.values()].sort((a, b) =>
    msOf(a.date_created) - msOf(b.date_created) ||
    (a.direction === 'inbound' ? 0 : 1) - (b.direction === 'inbound' ? 0 : 1) ||
    (b._pos ?? 0) - (a._pos ?? 0));
}

function renderThread() {
  const messages = threadMessages();
  const thread = $('thread');
  const atEnd = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 40;
  thread.replaceChildren(...messages.map((m) => bubble(m, state.party, state.shared)));
  if (atEnd) thread.scrollTop = thread.scrollHeight;
  $('older').hidden = !state.thread.some((w) => w.next);
  for (const m of messages) {
    if (Number(m.num_media) > 0 && !(m.sid in state.shared.media)) loadMedia(m.sid);
  }
  if (SANDBOX) renderReply(messages);
}

async function loadMedia(sid) {
  state.shared.media[sid] = [];
  try {
    const answer = await state.api.get(state.api.inbox(`/Messages/${sid}.json`));
    state.shared.media[sid] = answer.data.media_urls;
    renderThread();
  } catch {
    // a deleted message: nothing to preview
  }
}

// --- reply as the handset (the sandbox's simulated inbound text) ------------------------------

async function loadNumbers() {
  try {
    const answer = await state.api.get(state.api.twilio('/IncomingPhoneNumbers.json?PageSize=100'));
    state.numbers = answer.data.incoming_phone_numbers.map((n) => n.phone_number);
  } catch (error) {
    state.numbers = [];
    failed(error);
  }
  renderThread();
}

function ourNumber(messages) {
  const sent = [...messages].reverse().find((m) => m.direction !== 'inbound' && m.from && m.from.startsWith('+'));
  const received = [...messages].reverse().find((m) => m.direction === 'inbound');
  return (received && received.to) || (sent && sent.from) || '';
}

function renderReply(messages) {
  if (state.numbers === null) return;
  const ours = ourNumber(messages);
  if (!state.numbers.length) {
    $('reply').hidden = true;
    const register = $('register');
    register.hidden = false;
    const field = register.PhoneNumber;
    if (!field.value && ours && document.activeElement !== field) field.value = ours;
    return;
  }
  $('register').hidden = true;
  const select = $('reply-to');
  const current = select.value;
  const wanted = current && state.numbers.includes(current) ? current : state.numbers.includes(ours) ? ours : state.numbers[0];
  if (select.options.length !== state.numbers.length || [...select.options].some((o, i) => o.value !== state.numbers[i])) {
    select.replaceChildren(...state.numbers.map((n) => h('option', {value: n}, n)));
  }
  select.value = wanted;
  $('reply-title').textContent = `Reply as the handset ${state.party}`;
  $('reply').hidden = false;
}

async function sendReply(event) {
  event.preventDefault();
  const form = event.target;
  const problem = $('reply-error');
  const media = form.MediaUrl.value.trim();
  try {
    const answer = await state.api.post(state.api.twilio('/Sandbox/Inbound.json'), {
      From: state.party, To: form.To.value, Body: form.Body.value, MediaUrl: media || undefined,
    });
    problem.textContent = '';
    form.Body.value = '';
    form.MediaUrl.value = '';
    announce(`Texted ${answer.data.to} as ${answer.data.from}`);
    pollNow();
  } catch (error) {
    problem.textContent = `${error.code ? `Error ${error.code}: ` : ''}${error.message}`;
  }
}

async function registerNumber(event) {
  event.preventDefault();
  const form = event.target;
  const problem = $('register-error');
  const url = form.SmsUrl.value.trim();
  try {
    const answer = await state.api.post(state.api.twilio('/IncomingPhoneNumbers.json'), {
      PhoneNumber: form.PhoneNumber.value.trim(), SmsUrl: url || undefined,
    });
    problem.textContent = '';
    announce(`Registered ${answer.data.phone_number}`);
    await loadNumbers();
    $('reply-body').focus();
  } catch (error) {
    problem.textContent = `${error.code ? `Error ${error.code}: ` : ''}${error.message}`;
  }
}

// --- one message's detail ----------------------------------------------------------------

function openDetail(sid) {
  if (state.sid === sid) return;
  state.sid = sid;
  state.detailData = null;
  $('detail').replaceChildren(h('p', {class: 'empty'}, 'Loading…'));
  $('detail-title').textContent = `Message ${sid}`;
  state.detail = new Feed(state.api, state.api.inbox(`/Messages/${sid}.json`), renderDetail, (error) => {
    if (error instanceof ApiError && error.status === 404) {
      state.detailData = null;
      $('detail').replaceChildren(h('p', {class: 'empty'}, 'No such message in this account (it may have been deleted).'));
      return;
    }
    failed(error);
  });
  state.detail.poll();
}

function closeDetail() {
  state.sid = null;
  state.detail = null;
}

function actionButton(label, confirmLabel, action) {
  let armed = false;
  const button = h('button', {type: 'button'}, label);
  button.addEventListener('click', async () => {
    if (!armed) {
      armed = true;
      button.textContent = confirmLabel;
      button.classList.add('danger');
      return;
    }
    button.disabled = true;
    await action();
  });
  button.addEventListener('blur', () => {
    armed = false;
    button.textContent = label;
    button.classList.remove('danger');
  });
  return button;
}

async function act(describe, request) {
  try {
    await request();
    announce(describe);
  } catch (error) {
    announce(`${error.code ? `Error ${error.code}: ` : ''}${error.message}`);
  }
  pollNow();
}

function renderDetail(data) {
  state.detailData = data;
  Object.assign(state.shared.errors, data.errors);
  const m = data.message;
  const url = state.api.twilio(`/Messages/${m.sid}.json`);
  const actions = [];
  if (m.body) {
    actions.push(actionButton('Redact', 'Confirm redact', () =>
      act(`Redacted ${m.sid}`, () => state.api.post(url, {Body: ''}))));
  }
  if (m.status === 'scheduled') {
    actions.push(actionButton('Cancel', 'Confirm cancel', () =>
      act(`Canceled ${m.sid}`, () => state.api.post(url, {Status: 'canceled'}))));
  }
  actions.push(actionButton('Delete', 'Confirm delete', () =>
    act(`Deleted ${m.sid}`, async () => {
      await state.api.remove(url);
      state.list.forget(m.sid);
      state.thread.forEach((w) => w.forget(m.sid));
      location.hash = state.party ? `#/c/${encodeURIComponent(state.party)}` : '#/';
    })));
  const origin = location.origin + BASE;
  $('detail').replaceChildren(h('div', {},
    h('dl', {class: 'facts'},
      h('dt', {}, 'Status'), h('dd', {}, badge(m.status)),
      h('dt', {}, 'Direction'), h('dd', {}, m.direction),
      h('dt', {}, 'From'), h('dd', {}, m.from || m.messaging_service_sid || ''),
      h('dt', {}, 'To'), h('dd', {}, m.to),
      h('dt', {}, 'Segments'), h('dd', {}, `${m.num_segments} (${data.encoding})`),
      h('dt', {}, 'Body'), h('dd', {class: 'body'}, m.body || '(empty)')),
    errorLine(m.error_code, data.errors, m.error_message),
    mediaPreviews(data.media_urls),
    h('div', {class: 'actions', role: 'group', 'aria-label': 'Actions'}, actions),
    h('h3', {}, 'Status history'), historyTable(data.history, data.errors),
    h('h3', {}, 'Callbacks and webhooks'), eventsTable(data.events, data.errors),
    h('h3', {}, 'Copy a request'),
    snippets(origin, m).map((line) => h('div', {class: 'snippet-box'},
      h('div', {class: 'row'}, h('span', {}, line.label),
        h('button', {type: 'button', class: 'quiet', 'data-copy': line.text, 'aria-label': `Copy ${line.label}`}, 'Copy')),
      h('pre', {}, h('code', {}, line.text)))),
    h('details', {class: 'json'}, h('summary', {}, 'Message JSON'), h('pre', {}, h('code', {}, JSON.stringify(m, null, 2))))));
}

async function copy(event) {
  const button = event.target.closest('[data-copy]');
  if (!button) return;
  try {
    await navigator.clipboard.writeText(button.dataset.copy);
    announce('Copied to the clipboard');
  } catch {
    const range = document.createRange();
    range.selectNodeContents(button.closest('.snippet-box').querySelector('code'));
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    announce('Selected: press Ctrl+C (or Cmd+C) to copy');
  }
}

// --- navigation: #/ , #/c/<party> , #/c/<party>/<Sid> ------------------------------------------

// Where the address points. The keys read it rather than state, which follows the address
// only once its hashchange event has run: Escape pressed just after j acted on the old view.
function addressed() {
  const [, kind, party, sid] = location.hash.split('/');
  let number = null;
  try {
    number = kind === 'c' && party ? decodeURIComponent(party) : null;
  } catch {
    number = null;
  }
  return { party, number, sid };
}

function route() {
  if (!state.api) return;
  const { party, number, sid } = addressed();
  const inbox = $('inbox');
  if (number) {
    openThread(number);
    $('thread-pane').hidden = false;
    if (sid && /^(SM|MM)[0-9a-f]{32}$/.test(sid)) {
      openDetail(sid);
      $('detail-pane').hidden = false;
      $('close-detail').href = `#/c/${party}`;
      inbox.dataset.view = 'detail';
    } else {
      closeDetail();
      $('detail-pane').hidden = true;
      inbox.dataset.view = 'thread';
    }
  } else {
    closeThread();
    closeDetail();
    $('thread-pane').hidden = true;
    $('detail-pane').hidden = true;
    inbox.dataset.view = 'list';
  }
  renderList();
}

// --- polling -----------------------------------------------------------------------------------

function feeds() {
  const all = [state.list.feed, ...state.thread.map((w) => w.feed)];
  if (state.detail) all.push(state.detail);
  return all;
}

async function tick() {
  clearTimeout(state.timer);
  if (!state.api) return;
  await Promise.all(feeds().map((feed) => feed.poll()));
  state.timer = setTimeout(tick, document.hidden ? HIDDEN_POLL_MS : POLL_MS);
}

function pollNow() {
  clearTimeout(state.timer);
  state.timer = setTimeout(tick, 50);
}

// --- keyboard ----------------------------------------------------------------------------------

function toggleHelp() {
  const help = $('help');
  help.hidden = !help.hidden;
  $('help-button').setAttribute('aria-expanded', String(!help.hidden));
  if (!help.hidden) help.scrollIntoView();
}

function keys(event) {
  if (!state.api || event.ctrlKey || event.metaKey || event.altKey) return;
  const typing = event.target.closest('input, textarea, select, [contenteditable]');
  const here = addressed();
  if (event.key === 'Escape') {
    if (here.number && here.sid) location.hash = `#/c/${encodeURIComponent(here.number)}`;
    else if (here.number) location.hash = '#/';
    return;
  }
  if (typing) return;
  const parties = [...document.querySelectorAll('#conversations [data-party]')].map((a) => a.dataset.party);
  const at = parties.indexOf(here.number);
  if (event.key === 'j' || event.key === 'k') {
    const next = parties[Math.max(0, Math.min(parties.length - 1, at + (event.key === 'j' ? 1 : -1)))];
    if (next) {
      location.hash = `#/c/${encodeURIComponent(next)}`;
      document.querySelector(`#conversations [data-party="${CSS.escape(next)}"]`)?.focus();
    }
  } else if (event.key === '/') {
    event.preventDefault();
    $('filters-box').open = true;
    $('f-to').focus();
  } else if (event.key === 'r' && !$('reply').hidden) {
    event.preventDefault();
    $('reply-body').focus();
  } else if (event.key === '?') {
    toggleHelp();
  } else {
    return;
  }
}

// --- wiring ------------------------------------------------------------------------------------

$('signin-form').addEventListener('submit', signIn);
$('sign-out').addEventListener('click', () => signOut());
$('filters').addEventListener('submit', applyFilters);
$('filters').addEventListener('reset', () => setTimeout(() => applyFilters(new Event('submit')), 0));
$('more').addEventListener('click', () => state.list.loadOlder().catch(failed));
$('older').addEventListener('click', () => Promise.all(state.thread.map((w) => w.loadOlder())).catch(failed));
$('reply').addEventListener('submit', sendReply);
$('register').addEventListener('submit', registerNumber);
$('detail').addEventListener('click', copy);
$('help-button').addEventListener('click', toggleHelp);
$('services-box').addEventListener('toggle', () => {
  if ($('services-box').open && state.services) state.services.load();
});
$('service-create').addEventListener('submit', (event) => state.services.create(event));
$('service-add').addEventListener('submit', (event) => state.services.addNumber(event));
window.addEventListener('hashchange', route);
document.addEventListener('keydown', keys);
document.addEventListener('visibilitychange', () => {
  if (!document.hidden && state.api) pollNow();
});

const notice = sessionStorage.getItem('herald-inbox-notice');
sessionStorage.removeItem('herald-inbox-notice');
const saved = savedCredentials();
if (saved) {
  start(saved);
} else {
  $('signin').hidden = false;
  if (notice) $('signin-error').textContent = notice;
  $('account-sid').focus();
}
