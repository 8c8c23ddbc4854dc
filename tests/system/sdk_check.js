// twilio-node (the official Node SDK, pinned in package.json) against a live Herald:
// every IncomingPhoneNumbers operation, every Messages operation, and a message's Media and
// Feedback, as an app would call them. Run by tests/system/test_sdk_numbers.py:
//
//   node tests/system/sdk_check.js BASE_URL ACCOUNT_SID AUTH_TOKEN NUMBER OTHER_NUMBER...
//
// NUMBER and the OTHER_NUMBERs are E.164 numbers no account has registered.
//
// Prints one JSON object (what each step saw) for the test to check; exits 1 with the error
// on stderr when a step throws.
"use strict";

const twilio = require("twilio");

const TO = "+14155550100";
const FROM = "+15005550006";
const FINAL = new Set(["delivered", "undelivered", "failed", "canceled"]);

function plain(resource) {
  // The instance's own fields, as the SDK read them (dates as ISO strings).
  const out = {};
  for (const [key, value] of Object.entries(resource.toJSON())) {
    out[key] = value instanceof Date ? value.toISOString() : value;
  }
  return out;
}

async function restError(promise) {
  try {
    await promise;
  } catch (error) {
    return { status: error.status, code: error.code, message: error.message };
  }
  return null;
}

async function settled(client, sid) {
  const deadline = Date.now() + 15000;
  for (;;) {
    const message = await client.messages(sid).fetch();
    if (FINAL.has(message.status) || Date.now() > deadline) return message;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function incomingPhoneNumbers(client, phoneNumber, others) {
  const seen = {};
  const created = await client.incomingPhoneNumbers.create({
    phoneNumber,
    smsUrl: "https://example.com/sms",
    friendlyName: "node",
  });
  seen.created = plain(created);
  seen.fetched = plain(await client.incomingPhoneNumbers(created.sid).fetch());
  seen.listed = (await client.incomingPhoneNumbers.list({ phoneNumber })).map((n) => n.sid);
  seen.byName = (await client.incomingPhoneNumbers.list({ friendlyName: "node" })).map(
    (n) => n.sid,
  );
  seen.duplicate = await restError(client.incomingPhoneNumbers.create({ phoneNumber }));
  seen.areaCode = await restError(client.incomingPhoneNumbers.create({ areaCode: "415" }));

  // More numbers, then the list one number a page: the SDK follows next_page_uri.
  const more = [];
  for (const other of others) {
    more.push((await client.incomingPhoneNumbers.create({ phoneNumber: other })).sid);
  }
  seen.more = more;
  seen.paged = (await client.incomingPhoneNumbers.list({ pageSize: 1 })).map((n) => n.sid);
  const page = await client.incomingPhoneNumbers.page({ pageSize: 2 });
  const next = await page.nextPage();
  seen.pages = [page.instances.map((n) => n.sid), next.instances.map((n) => n.sid)];

  seen.updated = plain(
    await client.incomingPhoneNumbers(created.sid).update({
      smsUrl: "https://example.com/sms2",
      smsMethod: "GET",
      statusCallback: "https://example.com/status",
    }),
  );
  seen.removed = await client.incomingPhoneNumbers(created.sid).remove();
  for (const sid of more) await client.incomingPhoneNumbers(sid).remove();
  seen.missing = await restError(client.incomingPhoneNumbers(created.sid).fetch());
  seen.afterRemove = (await client.incomingPhoneNumbers.list()).map((n) => n.sid);
  return seen;
}

async function messages(client) {
  const seen = {};
  const created = await client.messages.create({ to: TO, from: FROM, body: "Hello from node" });
  seen.created = plain(created);
  seen.settled = plain(await settled(client, created.sid));
  seen.listed = (await client.messages.list({ to: TO, pageSize: 1 })).map((m) => m.sid);
  seen.redacted = plain(await client.messages(created.sid).update({ body: "" }));
  seen.removed = await client.messages(created.sid).remove();
  seen.missing = await restError(client.messages(created.sid).fetch());
  seen.invalid = await restError(client.messages.create({ to: "nonsense", from: FROM, body: "x" }));
  return seen;
}

// A burst of creates listed at once, while the pipeline delivers them: every message once,
// newest first, through list() and each() with small pages.
async function burst(client) {
  const to = "+14155550170";
  const made = [];
  for (let i = 0; i < 5; i += 1) {
    made.push((await client.messages.create({ to, from: FROM, body: `burst ${i}` })).sid);
  }
  const listed = (await client.messages.list({ to, pageSize: 2 })).map((m) => m.sid);
  const each = [];
  await new Promise((resolve, reject) => {
    client.messages.each({ to, pageSize: 2, done: (error) => (error ? reject(error) : resolve()) }, (m) => {
      each.push(m.sid);
    });
  });
  const fromSender = (await client.messages.list({ to, from: FROM, pageSize: 1 })).map((m) => m.sid);
  return { made, listed, each, fromSender };
}

async function mediaAndFeedback(client) {
  const seen = {};
  const created = await client.messages.create({
    to: TO,
    from: FROM,
    body: "a picture",
    mediaUrl: ["https://example.com/a.png", "https://example.com/b.jpg"],
    provideFeedback: true,
  });
  seen.created = plain(created);
  const media = await client.messages(created.sid).media.list();
  seen.media = media.map(plain);
  seen.fetched = plain(await client.messages(created.sid).media(media[0].sid).fetch());
  seen.removed = await client.messages(created.sid).media(media[0].sid).remove();
  seen.after = (await client.messages(created.sid).media.list()).map((m) => m.sid);
  seen.feedback = plain(
    await client.messages(created.sid).feedback.create({ outcome: "unconfirmed" }),
  );
  return seen;
}

async function main() {
  const [baseUrl, accountSid, authToken, phoneNumber, ...others] = process.argv.slice(2);
  const client = twilio(accountSid, authToken);
  client.api.baseUrl = baseUrl;
  const report = {
    incomingPhoneNumbers: await incomingPhoneNumbers(client, phoneNumber, others),
    messages: await messages(client),
    burst: await burst(client),
    mediaAndFeedback: await mediaAndFeedback(client),
  };
  process.stdout.write(JSON.stringify(report) + "\n");
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
