// A typed REST client: openapi-fetch with the types openapi-typescript
// generated from the server's own /api/openapi.json (out/api.d.ts).
// scripts/e2e.sh compiles it with tsc --strict and runs it against the
// started server, so the document both compiles into a client and
// describes the real answers (a real answer is a User, password included).
// Usage (from e2e/): node out/js/rest-client.js http://127.0.0.1:8080 <admin-token>
import createClient from 'openapi-fetch';
import type { components, paths } from './out/api.js';

type User = components['schemas']['User'];
type UserInput = components['schemas']['UserInput'];

const [base, token] = process.argv.slice(2);
if (!base || !token) {
  console.error('usage: node out/js/rest-client.js BASE_URL ADMIN_TOKEN');
  process.exit(2);
}
let passed = 0;
let failed = 0;
function check(name: string, ok: boolean, detail?: unknown): void {
  if (ok) { passed++; console.log(`ok   ${name}`); } else { failed++; console.log(`FAIL ${name}: ${JSON.stringify(detail)}`); }
}

const admin = createClient<paths>({ baseUrl: base, headers: { Authorization: `Bearer ${token}` } });

// The admin finds their own id by email (the README's first-contact step).
const found = await admin.GET('/api/users', { params: { query: { email: 'admin@example.com' } } });
const me: User | undefined = found.data?.users[0];
check('list by email finds the admin', found.response.status === 200 && me?.role === 'admin', found.data ?? found.error);
if (!me) process.exit(1);

// A real answer is a User: every field, password (always null) included.
const got = await admin.GET('/api/users/{userId}', { params: { path: { userId: me.id } } });
const asUser: User | undefined = got.data;
check('GET answers a User with its ETag', got.response.status === 200 && asUser?.id === me.id && asUser.password === null &&
  /^"v[0-9]+"$/.test(got.response.headers.get('ETag') ?? ''), got.data ?? got.error);

const email = `rest-${Date.now()}@example.com`;
const input: UserInput = { name: 'Rest', email, country: 'ES', timeZone: 'Europe/Madrid', password: 'a rest passphrase', tags: { team: 'blue' } };
const created = await admin.POST('/api/users', { body: input });
const user: User | undefined = created.data;
check('POST creates a user (201, Location)', created.response.status === 201 && user?.email === email &&
  created.response.headers.get('Location') === `/api/users/${user?.id}`, created.data ?? created.error);
if (!user) process.exit(1);

// Read it back and send it back with a new description: a User read is a
// valid PUT body (the envelope's and other read-only fields are ignored,
// password null keeps it).
const read = await admin.GET('/api/users/{userId}', { params: { path: { userId: user.id } } });
const etag = read.response.headers.get('ETag') ?? '';
const body: UserInput = { ...(read.data ?? user), description: 'from openapi-fetch' };
const put = await admin.PUT('/api/users/{userId}', { params: { path: { userId: user.id }, header: { 'If-Match': etag } }, body });
check('PUT with If-Match over a User read back', etag === '"v1"' && put.response.status === 200 &&
  put.data?.description === 'from openapi-fetch' && put.response.headers.get('ETag') === '"v2"' && put.data.password === null,
  put.data ?? put.error);
const stale = await admin.PUT('/api/users/{userId}', { params: { path: { userId: user.id }, header: { 'If-Match': etag } }, body });
check('PUT over a stale ETag is 412', stale.response.status === 412 && stale.error?.success === false, stale.error);

const patched = await admin.PATCH('/api/users/{userId}', {
  params: { path: { userId: user.id } },
  body: [{ op: 'test', path: '/country', value: 'ES' }, { op: 'add', path: '/tags/shift', value: 'night' }],
});
check('PATCH (JSON Patch)', patched.response.status === 200 && patched.data?.tags.shift === 'night', patched.data ?? patched.error);

const signIn = await createClient<paths>({ baseUrl: base }).POST('/api/Auth/Token', { body: { userName: email, password: 'a rest passphrase' } });
check('sign-in needs no token', signIn.response.status === 200 && (signIn.data?.token ?? '').startsWith('usv_'), signIn.data ?? signIn.error);

const history = await admin.GET('/api/users/{userId}/history', { params: { path: { userId: user.id }, query: { limit: 10 } } });
check('history, newest first', history.response.status === 200 &&
  (history.data?.history ?? []).map((e) => e.action).join(',') === 'login,patch,replace,create', history.data ?? history.error);

const missing = await admin.GET('/api/users/{userId}', { params: { path: { userId: 'usr-doesnotexist' } } });
check('404 is a typed failure', missing.response.status === 404 && missing.error?.success === false &&
  missing.error.error === 'User not found.', missing.error);

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
