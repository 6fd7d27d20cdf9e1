// Drives node-bandwidth's Media API, unchanged, against the server named in the environment and prints
// one JSON object with what it saw (binary content as base64); tests/test_sdk_node_account.py asserts.
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
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
  const everyByte = Buffer.alloc(256 * 16);
  for (let i = 0; i < everyByte.length; i++) everyByte[i] = i % 256;
  await client.Media.upload("node greeting.wav", everyByte, "audio/wav"); // a Buffer
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "media-")), "note.txt");
  fs.writeFileSync(file, "from a file");
  await client.Media.upload("note.txt", file, "text/plain"); // a path
  // No type: application/octet-stream. (Not a readable stream: the SDK copies one into a `new
  // stream.Readable()` without a _read, which Node 20 refuses with ERR_METHOD_NOT_IMPLEMENTED.)
  await client.Media.upload("streamed", Buffer.from("streamed bytes"));
  out.list = await client.Media.list();
  const binary = await client.Media.download("node greeting.wav", null); // null encoding: a Buffer
  out.download = { contentType: binary.contentType, base64: binary.content.toString("base64") };
  out.note = await client.Media.download("note.txt", "utf8");
  out.streamed = await client.Media.download("streamed", "utf8");
  await client.Media.delete("note.txt");
  out.afterDelete = (await client.Media.list()).map((m) => m.mediaName);
  out.gone = await failure(client.Media.download("note.txt"));
  out.deleteAgain = await failure(client.Media.delete("note.txt"));
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err));
  process.exit(1);
});
