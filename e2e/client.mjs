// A real GraphQL client (graphql-request) against a running usersvc:
// signs in, reads me, runs patchUser and updateUser, and checks the answers.
// Usage: node client.mjs http://127.0.0.1:8080/graphql <admin-token>
import { GraphQLClient, ClientError, gql } from 'graphql-request';

const [url, adminToken] = process.argv.slice(2);
if (!url || !adminToken) {
  console.error('usage: node client.mjs URL ADMIN_TOKEN');
  process.exit(2);
}
let passed = 0;
let failed = 0;
function check(name, ok, detail) {
  if (ok) { passed++; console.log(`ok   ${name}`); } else { failed++; console.log(`FAIL ${name}: ${JSON.stringify(detail)}`); }
}

const admin = new GraphQLClient(url, { headers: { Authorization: `Bearer ${adminToken}` } });
const email = `client-${Date.now()}@example.com`;
const password = 'a client passphrase';

const created = await admin.request(gql`
  mutation($in: CreateUserInput!) { createUser(input: $in) { id email role version } }`,
  { in: { name: 'Client', email, country: 'ES', timeZone: 'Europe/Madrid', password } });
check('admin creates a user', created.createUser.email === email && created.createUser.role === 'USER', created);
const id = created.createUser.id;

const anon = new GraphQLClient(url);
const login = await anon.request(gql`
  mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token expires } }`, { e: email, p: password });
check('login without a token', login.login.token.startsWith('usv_'), login);

const user = new GraphQLClient(url, { headers: { Authorization: `Bearer ${login.login.token}` } });
const me = await user.rawRequest(gql`{ me { id email timeZone tags lastLogin } }`);
check('me', me.data.me.id === id && me.data.me.lastLogin !== null, me.data);
check('usage in extensions', me.extensions && me.extensions.apiUsage >= 1, me.extensions);

const patched = await user.request(gql`
  mutation($id: ID!, $p: [PatchOperationInput!]!) { patchUser(id: $id, patch: $p) { description version } }`,
  { id, p: [{ op: 'test', path: '/timeZone', value: 'Europe/Madrid' }, { op: 'add', path: '/description', value: 'from graphql-request' }] });
check('patchUser', patched.patchUser.description === 'from graphql-request' && patched.patchUser.version > 1, patched);

const updated = await user.request(gql`
  mutation($id: ID!, $in: UpdateUserInput!, $v: Int) { updateUser(id: $id, input: $in, ifVersion: $v) { name description version } }`,
  { id, v: patched.patchUser.version, in: { name: 'Client Two', email, country: 'ES', timeZone: 'Europe/Madrid' } });
check('updateUser clears omitted fields', updated.updateUser.name === 'Client Two' && updated.updateUser.description === null, updated);

try {
  await user.request(gql`mutation($id: ID!) { patchUser(id: $id, patch: [{op: replace, path: "/role", value: "admin"}]) { role } }`, { id });
  check('role change refused', false, 'no error');
} catch (e) {
  const code = e instanceof ClientError ? e.response.errors?.[0]?.extensions?.code : String(e);
  check('role change refused', code === 'FORBIDDEN', code);
}
try {
  await user.request(gql`mutation($id: ID!, $in: UpdateUserInput!) { updateUser(id: $id, input: $in, ifVersion: 1) { id } }`,
    { id, in: { name: 'x', email, country: 'ES', timeZone: 'UTC' } });
  check('stale ifVersion refused', false, 'no error');
} catch (e) {
  const code = e instanceof ClientError ? e.response.errors?.[0]?.extensions?.code : String(e);
  check('stale ifVersion refused', code === 'PRECONDITION_FAILED', code);
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
