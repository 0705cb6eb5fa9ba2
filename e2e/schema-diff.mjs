// The schema the server serves is schema.graphql: fetches the live schema
// by introspection (with a token: introspection is not anonymous), prints
// it with graphql-js, and compares it with schema.graphql parsed and
// printed the same way (both sorted, so only content counts). Prints a
// line diff and exits 1 on any difference.
// Usage: node schema-diff.mjs http://127.0.0.1:8080/graphql <token> ../schema.graphql
import { readFileSync } from 'node:fs';
import { buildClientSchema, buildSchema, getIntrospectionQuery, lexicographicSortSchema, printSchema } from 'graphql';

const [url, token, file] = process.argv.slice(2);
if (!url || !token || !file) {
  console.error('usage: node schema-diff.mjs GRAPHQL_URL TOKEN SCHEMA_FILE');
  process.exit(2);
}
const query = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, inputValueDeprecation: true });
const res = await fetch(url, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
  body: JSON.stringify({ query, operationName: 'IntrospectionQuery' }),
});
const body = await res.json();
if (res.status !== 200 || !body.data) {
  console.error(`introspection failed: HTTP ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  process.exit(1);
}
const live = printSchema(lexicographicSortSchema(buildClientSchema(body.data)));
const want = printSchema(lexicographicSortSchema(buildSchema(readFileSync(file, 'utf8'))));
if (live === want) {
  console.log(`ok   the served schema is ${file} (${want.split('\n').length} printed lines)`);
  process.exit(0);
}
const a = want.split('\n');
const b = live.split('\n');
const inA = new Set(a);
const inB = new Set(b);
for (const l of a) if (!inB.has(l)) console.log(`- ${l}   (only in ${file})`);
for (const l of b) if (!inA.has(l)) console.log(`+ ${l}   (only served)`);
console.log(`FAIL the served schema differs from ${file}`);
process.exit(1);
