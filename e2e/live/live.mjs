// Live updates end to end with the npm graphql-ws client (what GraphiQL and
// most front ends use): a subscriber on process 2 hears a change made
// through process 1, and is cut off when its account is disabled through
// process 1.
//
//   node live.mjs http://127.0.0.1:P1 http://127.0.0.1:P2 ADMIN_TOKEN
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [p1, p2, admin] = process.argv.slice(2);
if (!admin) {
  console.error("usage: node live.mjs PROCESS1_URL PROCESS2_URL ADMIN_TOKEN");
  process.exit(2);
}
let passed = 0, failed = 0;
const check = (name, ok, detail = "") => {
  if (ok) passed++; else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail ? ": " + detail : ""}`);
};

async function rest(base, method, path, token, body, type = "application/json") {
  const res = await fetch(base + path, {
    method,
    headers: { Authorization: token ? `Bearer ${token}` : undefined, "Content-Type": type },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

// A user of our own, signed in for a session token.
const email = `live-${Date.now()}@example.com`;
const password = "a live password 1";
const created = await rest(p1, "POST", "/api/users", admin, { name: "Live", email, country: "ES", timeZone: "UTC", password });
check("create the subscriber", created.status === 201, String(created.status));
const signedIn = await rest(p1, "POST", "/api/Auth/Token", "", { userName: email, password });
const token = signedIn.json.token;
const id = created.json.id;

const client = createClient({
  url: p2.replace(/^http/, "ws") + "/graphql",
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${token}` },
  retryAttempts: 0,
  lazy: true,
});

// Collect the subscription's messages; each waiter resolves on the next one.
const messages = [];
let wake = () => {};
const next = (ms) => new Promise((resolve) => {
  if (messages.length) return resolve(messages.shift());
  const t = setTimeout(() => resolve({ timeout: true }), ms);
  wake = () => { clearTimeout(t); resolve(messages.shift()); };
});
const push = (m) => { messages.push(m); wake(); };
client.subscribe(
  { query: "subscription { userChanged { id name } }" },
  { next: (v) => push({ value: v }), error: (e) => push({ error: e }), complete: () => push({ complete: true }) },
);
// Subscribed once the socket is acknowledged and the server counts it.
await new Promise((r) => client.on("connected", r));
await new Promise((r) => setTimeout(r, 300));

// The server acknowledges the socket before it has registered the
// subscription, so a change heard in between reaches nobody: change the
// name again (bounded) until one change is heard.
let t0, m = { timeout: true }, name;
for (let attempt = 1; attempt <= 5 && !m.value; attempt++) {
  name = `Changed on process 1 (${attempt})`;
  t0 = Date.now();
  const patched = await rest(p1, "PATCH", `/api/users/${id}`, admin, [{ op: "replace", path: "/name", value: name }], "application/json-patch+json");
  if (patched.status !== 200) {
    check("change through process 1", false, String(patched.status));
    break;
  }
  m = await next(2000);
  // A resync (the listener came up after the subscription) sends the user
  // as it was, and an earlier attempt's event may arrive late: wait on.
  while (m.value && m.value.data?.userChanged?.name !== name) m = await next(2000);
}
check("the subscriber on process 2 hears a change through process 1", m.value?.data?.userChanged?.name === name,
  m.timeout ? "nothing within 2 s of each of 5 changes" : `${JSON.stringify(m.value ?? m.error)} after ${Date.now() - t0} ms`);

const disabled = await rest(p1, "PATCH", `/api/users/${id}`, admin, [{ op: "replace", path: "/disabled", value: true }], "application/json-patch+json");
check("disable the subscriber through process 1", disabled.status === 200, String(disabled.status));
const t1 = Date.now();
let end = await next(5000);
while (end.value) end = await next(5000); // an event already on its way; access is checked before each
const codes = Array.isArray(end.error) ? end.error.map((e) => e.extensions?.code) : [];
check("the subscription ends with FORBIDDEN", codes.includes("FORBIDDEN"),
  end.timeout ? "still open after 5 s" : `${JSON.stringify(end.error ?? end)} after ${Date.now() - t1} ms`);

await client.dispose();

// A revoked subscriber is cut off too: a second user's session ends when
// their password changes (every session is revoked), through process 1.
const email2 = `live2-${Date.now()}@example.com`;
const created2 = await rest(p1, "POST", "/api/users", admin, { name: "Live Two", email: email2, country: "ES", timeZone: "UTC", password });
const token2 = (await rest(p1, "POST", "/api/Auth/Token", "", { userName: email2, password })).json.token;
const client2 = createClient({
  url: p2.replace(/^http/, "ws") + "/graphql",
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${token2}` },
  retryAttempts: 0,
  lazy: true,
});
client2.subscribe(
  { query: "subscription { userChanged { id } }" },
  { next: (v) => push({ value: v }), error: (e) => push({ error: e }), complete: () => push({ complete: true }) },
);
await new Promise((r) => client2.on("connected", r));
await new Promise((r) => setTimeout(r, 300));
messages.length = 0;
const changed = await rest(p1, "PATCH", `/api/users/${created2.json.id}`, admin, [{ op: "replace", path: "/password", value: "a brand new password 2" }], "application/json-patch+json");
check("revoke the second subscriber's session (password change) through process 1", changed.status === 200, String(changed.status));
const t2 = Date.now();
let end2 = await next(5000);
while (end2.value) end2 = await next(5000);
const codes2 = Array.isArray(end2.error) ? end2.error.map((e) => e.extensions?.code) : [];
check("the revoked subscriber is cut off with UNAUTHENTICATED", codes2.includes("UNAUTHENTICATED"),
  end2.timeout ? "still open after 5 s" : `${JSON.stringify(end2.error ?? end2)} after ${Date.now() - t2} ms`);
await client2.dispose();

console.log(`live: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
