// DOM building (text is always set as text, never parsed as HTML) and the renderers.

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === 'class') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const SVG = 'http://www.w3.org/2000/svg';
const ICONS = {
  out: 'M4 12h12M12 6l6 6-6 6',
  in: 'M20 12H8M12 6l-6 6 6 6',
  clip: 'M8 12l6-6a3 3 0 0 1 4 4l-8 8a5 5 0 0 1-7-7l7-7',
};

export function icon(name) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', 'icon');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', ICONS[name]);
  svg.append(path);
  return svg;
}

const FINE = {hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3};
const SHORT = {month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit'};

export function timeOf(ms, fine = false) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '';
  const date = new Date(ms);
  const text = fine ? date.toLocaleTimeString([], FINE) : date.toLocaleString([], SHORT);
  return h('time', {datetime: date.toISOString(), title: date.toString()}, text);
}

export const msOf = (rfc) => (rfc ? Date.parse(rfc) : null);

export function badge(status) {
  return h('span', {class: `badge st-${status}`}, status);
}

export function errorLine(code, meanings, fallback) {
  if (!code) return null;
  const meaning = meanings[String(code)] || fallback || '';
  return h('p', {class: 'error-code'}, h('strong', {}, `Error ${code}`), meaning ? ` ${meaning}` : '');
}

export const partyOf = (m) => (m.direction === 'inbound' ? m.from : m.to);

export function preview(m) {
  if (m.body) return m.body;
  if (Number(m.num_media) > 0) return `(${m.num_media} media)`;
  return '(no text: redacted)';
}

export function conversationItem(group, selected) {
  const last = group.messages[0];
  const inbound = last.direction === 'inbound';
  const href = `#/c/${encodeURIComponent(group.party)}`;
  return h('li', {},
    h('a', {href, class: 'conversation', 'aria-current': selected ? 'true' : false, 'data-party': group.party},
      h('span', {class: 'party'}, group.party),
      h('span', {class: 'when'}, timeOf(msOf(last.date_created))),
      h('span', {class: 'snippet'}, icon(inbound ? 'in' : 'out'),
        h('span', {class: 'sr'}, inbound ? 'Received: ' : 'Sent: '), preview(last)),
      h('span', {class: 'meta'}, badge(last.status),
        h('span', {class: 'count'}, `${group.messages.length} message${group.messages.length === 1 ? '' : 's'}`))));
}

export function mediaPreviews(urls) {
  if (!urls || !urls.length) return null;
  return h('ul', {class: 'media', 'aria-label': 'Media'}, urls.map((url, index) => {
    // Only http(s) becomes a link or an image: Herald refuses anything else when a message is
    // made, and a message stored before that rule is shown as text, never followed.
    if (!/^https?:\/\//i.test(url)) return h('li', {}, icon('clip'), h('span', {class: 'media-url'}, url));
    const image = h('img', {src: url, alt: `Media ${index + 1}`, loading: 'lazy', referrerpolicy: 'no-referrer'});
    image.addEventListener('error', () => image.replaceWith(icon('clip')));
    return h('li', {}, h('a', {href: url, rel: 'noreferrer noopener', target: '_blank'}, image,
      h('span', {class: 'media-url'}, url)));
  }));
}

export function bubble(m, party, shared) {
  const inbound = m.direction === 'inbound';
  const segments = `${m.num_segments} segment${m.num_segments === '1' ? '' : 's'}`;
  const encoding = shared.encodings[m.sid];
  const detail = `#/c/${encodeURIComponent(party)}/${m.sid}`;
  return h('li', {class: `msg ${inbound ? 'in' : 'out'}`, 'data-sid': m.sid},
    h('p', {class: 'who-line'}, icon(inbound ? 'in' : 'out'),
      inbound ? `From ${m.from} to ${m.to}` : `From ${m.from || m.messaging_service_sid} to ${m.to}`),
    h('p', {class: m.body ? 'body' : 'body redacted'}, m.body || (Number(m.num_media) ? '' : '(no text: redacted)')),
    mediaPreviews(shared.media[m.sid]),
    errorLine(m.error_code, shared.errors, m.error_message),
    h('p', {class: 'meta'}, badge(m.status), ` ${segments}`, encoding ? ` · ${encoding}` : '',
      Number(m.num_media) ? ` · ${m.num_media} media` : '', ' · ', timeOf(msOf(m.date_created)), ' · ',
      h('a', {href: detail, 'aria-label': `Details of ${m.sid}`}, 'Details')));
}

function table(caption, headings, rows) {
  return h('table', {},
    h('caption', {class: 'sr'}, caption),
    h('thead', {}, h('tr', {}, headings.map((text) => h('th', {scope: 'col'}, text)))),
    h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((cell) => h('td', {}, cell))))));
}

export function historyTable(history, meanings) {
  if (!history.length) return h('p', {class: 'empty'}, 'No status changes recorded.');
  return table('Status history', ['Status', 'At', 'Error'], history.map((entry) => [
    badge(entry.status), timeOf(entry.at_ms, true),
    entry.error_code ? `${entry.error_code} ${meanings[String(entry.error_code)] || ''}` : '',
  ]));
}

export function eventsTable(events, meanings) {
  if (!events.length) return h('p', {class: 'empty'}, 'No status callback or webhook attempts yet.');
  return table('Callback and webhook attempts', ['Attempt', 'Answer', 'Latency', 'Signature', 'At'],
    events.map((event) => [
      [h('span', {class: 'kind'},
        [event.kind, event.status ? ` (${event.status})` : '', event.attempt ? ` #${event.attempt}` : ''].join('')),
      event.url ? h('code', {class: 'url'}, event.url) : ''],
      event.answer
        ? h('span', {class: event.answer < 300 ? 'ok' : 'bad'}, String(event.answer))
        : h('span', {class: 'bad'}, event.error || (event.error_code
          ? `${event.error_code} ${meanings[String(event.error_code)] || ''}` : 'no answer')),
      event.latency_ms !== undefined ? `${event.latency_ms} ms` : '',
      event.signed === undefined ? '' : event.signed ? 'X-Twilio-Signature sent' : 'unsigned',
      timeOf(event.at_ms, true),
    ]));
}
