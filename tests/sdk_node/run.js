// Drives the unchanged node-bandwidth SDK against the server named in the environment and prints
// one JSON object with what it saw; tests/test_sdk_node.py makes the assertions.
"use strict";
const Bandwidth = require("node-bandwidth");

const client = new Bandwidth({
  userId: process.env.USER_ID,
  apiToken: process.env.API_TOKEN,
  apiSecret: process.env.API_SECRET,
  baseUrl: process.env.BASE_URL,
});

async function main() {
  const out = {};
  const created = await client.Call.create({
    from: "+19195551212",
    to: "sip:someone@127.0.0.1",
    callbackUrl: process.env.CALLBACK_URL,
    tag: "from-node",
    sipHeaders: { "X-Header-1": "value1" },
  });
  out.createdId = created.id;
  out.got = await client.Call.get(created.id);
  await client.Call.enableRecording(created.id);
  out.recordingAfterEnable = (await client.Call.get(created.id)).recordingEnabled;
  await client.Call.hangup(created.id);
  out.afterHangup = await client.Call.get(created.id);
  out.events = await client.Call.getEvents(created.id);
  out.oneEvent = await client.Call.getEvent(created.id, out.events[out.events.length - 1].id);
  out.listed = (await client.Call.list({ size: 1000 })).map((c) => c.id);
  try {
    await client.Call.create({ from: "+19195551212", to: "sips:secure@127.0.0.1" });
    out.sipsError = null;
  } catch (err) {
    out.sipsError = { statusCode: err.statusCode, message: err.message };
  }
  try {
    await client.Call.answer(created.id);
    out.answerError = null;
  } catch (err) {
    out.answerError = { statusCode: err.statusCode, message: err.message };
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err));
  process.exit(1);
});
