// twilio-node (pinned in package.json) against a live Herald's Messaging Services, as an app
// provisions and sends: create a service (its StatusCallback given), add two numbers, send
// with only messagingServiceSid, see the From Herald chose, send again (sticky), page the
// services. Run by tests/services/test_services_sdk.py:
//
//   node tests/system/services_check.js BASE_URL ACCOUNT_SID AUTH_TOKEN CALLBACK_URL NUMBER NUMBER
//
// The messaging domain's base URL is the host's /messaging prefix: `client.messaging.baseUrl`.
// Prints one JSON object (what each step saw); exits 1 with the error on stderr.
"use strict";

const twilio = require("twilio");

const TO = "+14155550100";
const FINAL = new Set(["delivered", "undelivered", "failed", "canceled"]);

async function settled(client, sid) {
  const deadline = Date.now() + 15000;
  for (;;) {
    const message = await client.messages(sid).fetch();
    if (FINAL.has(message.status) || Date.now() > deadline) return message;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function main() {
  const [baseUrl, accountSid, authToken, callbackUrl, ...numbers] = process.argv.slice(2);
  const client = twilio(accountSid, authToken);
  client.api.baseUrl = baseUrl;
  client.messaging.baseUrl = baseUrl + "/messaging";
  const seen = {};
  const service = await client.messaging.v1.services.create({
    friendlyName: "node",
    statusCallback: callbackUrl,
  });
  seen.service = { sid: service.sid, stickySender: service.stickySender, url: service.url };
  seen.added = [];
  for (const phoneNumber of numbers) {
    const number = await client.incomingPhoneNumbers.create({ phoneNumber });
    const added = await client.messaging.v1.services(service.sid).phoneNumbers.create({
      phoneNumberSid: number.sid,
    });
    seen.added.push({ sid: added.sid, phoneNumber: added.phoneNumber, countryCode: added.countryCode });
  }
  seen.listed = (await client.messaging.v1.services(service.sid).phoneNumbers.list()).map(
    (n) => n.sid,
  );
  seen.sends = [];
  for (let i = 0; i < 3; i += 1) {
    const created = await client.messages.create({
      to: TO,
      body: `via a service ${i}`,
      messagingServiceSid: service.sid,
    });
    const done = await settled(client, created.sid);
    seen.sends.push({
      sid: created.sid,
      createdStatus: created.status,
      createdFrom: created.from,
      status: done.status,
      from: done.from,
    });
  }
  for (let i = 0; i < 2; i += 1) {
    await client.messaging.v1.services.create({ friendlyName: `more ${i}` });
  }
  seen.paged = (await client.messaging.v1.services.list({ pageSize: 1 })).map((s) => s.sid);
  seen.updated = (await client.messaging.v1.services(service.sid).update({ stickySender: false }))
    .stickySender;
  try {
    await client.messaging.v1.services("MG" + "0".repeat(32)).fetch();
    seen.missing = null;
  } catch (error) {
    seen.missing = { status: error.status, code: error.code };
  }
  seen.removed = await client.messaging.v1.services(service.sid).remove();
  process.stdout.write(JSON.stringify(seen) + "\n");
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
