// A typed GraphQL client: the operations in operations/*.graphql with the
// types GraphQL Code Generator wrote for them (out/operations.ts) and for
// the schema (out/schema-types.ts). scripts/e2e.sh compiles it with
// tsc --strict and runs it against a started server, so the types both
// compile and describe the real answers.
// Usage (from e2e/): node out/js/typed-client.js http://127.0.0.1:8080/graphql <admin-token>
import { readFileSync } from 'node:fs';
import type * as Op from './out/operations.js';
import type { User } from './out/schema-types.js';

const [url, token] = process.argv.slice(2);
if (!url || !token) {
  console.error('usage: node out/js/typed-client.js GRAPHQL_URL ADMIN_TOKEN');
  process.exit(2);
}

let passed = 0;
let failed = 0;
function check(name: string, ok: boolean, detail?: unknown): void {
  if (ok) { passed++; console.log(`ok   ${name}`); } else { failed++; console.log(`FAIL ${name}: ${JSON.stringify(detail)}`); }
}

type Answer<R> = { data?: R | null; errors?: { message: string; extensions?: { code?: string } }[] };

// run sends one operation from operations/ with its typed variables.
async function run<R, V>(name: string, variables: V): Promise<R> {
  const query = readFileSync(`operations/${name}.graphql`, 'utf8');
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as Answer<R>;
  if (res.status !== 200 || !body.data || body.errors) {
    throw new Error(`${name}: HTTP ${res.status} ${JSON.stringify(body.errors)}`);
  }
  return body.data;
}

const me = await run<Op.MeQuery, Op.MeQueryVariables>('me', {});
const myRole: Op.Role = me.me.role;
check('Me: the admin, role an enum', myRole === 'ADMIN' && me.me.email.includes('@'), me);

const email = `typed-${Date.now()}@example.com`;
const input: Op.CreateUserInput = { name: 'Typed', email, country: 'ES', timeZone: 'Europe/Madrid', role: 'USER', tags: { team: 'blue' } };
const created = await run<Op.CreateUserMutation, Op.CreateUserMutationVariables>('createUser', { input });
// An operation's answer fits the schema's own User type.
const asUser: Pick<User, 'id' | 'email' | 'role' | 'tags' | 'version'> = created.createUser;
check('CreateUser', asUser.role === 'USER' && asUser.email === email && asUser.tags.team === 'blue', created);

const patch: Op.PatchOperationInput[] = [{ op: 'add', path: '/description', value: 'typed' }];
const patched = await run<Op.PatchUserMutation, Op.PatchUserMutationVariables>('patchUser',
  { id: asUser.id, patch, ifVersion: asUser.version });
check('PatchUser over the version seen', patched.patchUser.description === 'typed' && patched.patchUser.version === asUser.version + 1, patched);

const where: Op.UserWhereInput = { role: 'USER', email };
const users = await run<Op.UsersQuery, Op.UsersQueryVariables>('users', { first: 10, where, orderBy: { direction: 'DESC' } });
check('Users filtered by role', users.users.totalCount === 1 && users.users.edges[0]?.node.id === asUser.id &&
  users.users.edges.every((e) => e.node.role === 'USER') && users.users.pageInfo.hasNextPage === false, users);

const first = await run<Op.HistoryQuery, Op.HistoryQueryVariables>('history', { id: asUser.id, first: 1 });
const h1 = first.user?.history;
const second = await run<Op.HistoryQuery, Op.HistoryQueryVariables>('history', { id: asUser.id, first: 1, after: h1?.pageInfo.endCursor });
const h2 = second.user?.history;
check('History as a connection, page by page', h1?.totalCount === 2 && h1.edges[0]?.node.action === 'patch' && h1.pageInfo.hasNextPage &&
  h2?.edges[0]?.node.action === 'create' && h2.pageInfo.hasNextPage === false, { h1, h2 });

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
