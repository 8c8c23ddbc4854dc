// Ready-to-paste lines for a message: curl and the official SDKs. Credentials are never
// written into them: they read TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN from the shell.

const shell = (text) => "'" + String(text).replace(/'/g, "'\\''") + "'";
const literal = (text) => JSON.stringify(String(text ?? ''));

export function snippets(origin, message) {
  const account = `${origin}/2010-04-01/Accounts/${message.account_sid}`;
  const auth = '-u "$TWILIO_ACCOUNT_SID:$TWILIO_AUTH_TOKEN"';
  const inbound = message.direction === 'inbound';
  const form = (pairs) => pairs.map(([k, v]) => `--data-urlencode ${shell(`${k}=${v}`)}`).join(' ');
  const lines = [
    {label: 'curl: fetch', text: `curl ${auth} ${account}/Messages/${message.sid}.json`},
  ];
  if (inbound) {
    lines.push({
      label: 'curl: text it again from the handset',
      text: `curl -X POST ${account}/Sandbox/Inbound.json ${auth} ` +
        form([['From', message.from], ['To', message.to], ['Body', message.body]]),
    });
  } else {
    const sender = message.messaging_service_sid ? ['MessagingServiceSid', message.messaging_service_sid] : ['From', message.from];
    lines.push({
      label: 'curl: send it again',
      text: `curl -X POST ${account}/Messages.json ${auth} ` +
        form([['To', message.to], sender, ['Body', message.body]]),
    });
  }
  lines.push({
    label: 'Python (twilio)',
    text: 'import os; from twilio.rest import Client\n' +
      'client = Client(os.environ["TWILIO_ACCOUNT_SID"], os.environ["TWILIO_AUTH_TOKEN"])\n' +
      `client.api.base_url = ${literal(origin)}\n` +
      `print(client.messages(${literal(message.sid)}).fetch().status)`,
  });
  lines.push({
    label: 'Node.js (twilio)',
    text: "const client = require('twilio')(process.env.TWILIO_ACCOUNT_SID, process.env.TWILIO_AUTH_TOKEN);\n" +
      `client.api.baseUrl = ${literal(origin)};\n` +
      `client.messages(${literal(message.sid)}).fetch().then((m) => console.log(m.status));`,
  });
  return lines;
}
