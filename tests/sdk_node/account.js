// Drives node-bandwidth's Application and PhoneNumber APIs, unchanged, against the server named in the
// environment and prints one JSON object with what it saw; tests/test_sdk_node_account.py asserts.
"use strict";
const Bandwidth = require("node-bandwidth");

const client = new Bandwidth({
  userId: process.env.USER_ID,
  apiToken: process.env.API_TOKEN,
  apiSecret: process.env.API_SECRET,
  baseUrl: process.env.BASE_URL,
});

async function failure(promise) {
  try {
    await promise;
    return null;
  } catch (err) {
    return { statusCode: err.statusCode, message: err.message };
  }
}

async function main() {
  const out = {};
  const app = await client.Application.create({
    name: "node app",
    incomingCallUrl: "http://127.0.0.1:9/calls",
    callbackHttpMethod: "get",
    autoAnswer: "false",
  });
  out.appId = app.id;
  out.app = await client.Application.get(app.id);
  await client.Application.update(app.id, { name: "node app renamed" });
  out.appAfterUpdate = await client.Application.get(app.id);
  const second = await client.Application.create({ name: "second", incomingMessageUrl: "http://127.0.0.1:9/m" });
  const firstPage = await client.Application.list({ size: 1 });
  const secondPage = await firstPage.getNextPage();
  out.appPages = [firstPage.applications.map((a) => a.id), secondPage.applications.map((a) => a.id)];
  out.appHasThirdPage = secondPage.hasNextPage;

  const created = await client.PhoneNumber.create({ number: process.env.NUMBER, name: "node", applicationId: app.id });
  out.numberId = created.id;
  out.numberById = await client.PhoneNumber.get(created.id);
  out.numberByNumber = await client.PhoneNumber.get(process.env.NUMBER); // encodeURIComponent: %2B…
  await client.PhoneNumber.update(created.id, { applicationId: second.id, fallbackNumber: "+19195550000" });
  out.numberAfterUpdate = await client.PhoneNumber.get(created.id);
  out.numberList = (await client.PhoneNumber.list({ applicationId: second.id })).phoneNumbers.map((n) => n.id);
  out.duplicate = await failure(client.PhoneNumber.create({ number: process.env.NUMBER }));

  await client.Application.delete(second.id);
  out.numberAfterAppDelete = await client.PhoneNumber.get(created.id);
  await client.PhoneNumber.delete(created.id);
  out.numberGone = await failure(client.PhoneNumber.get(created.id));
  out.appGone = await failure(client.Application.get(second.id));
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err));
  process.exit(1);
});
