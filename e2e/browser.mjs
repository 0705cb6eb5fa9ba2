// Follows the README's playground steps in headless Chromium (Debian's
// chromium, driven by playwright-core): open /playground, paste the bearer
// token into the "Bearer token" field and press Enter; then the docs
// explorer shows the schema, typing in the editor autocompletes, and the
// `me` query runs. Fails if the page asks for anything outside the server,
// if the line beside the field does not say "Schema loaded for <email>"
// (and, for a wrong token, "Token refused: <reason>"), if the result pane
// still asks for a token (or shows a refusal) after a good one, if any request
// after the token was given is refused, or if the console
// shows an error. Saves a screenshot with the docs explorer and the answer.
// Usage: node browser.mjs http://127.0.0.1:8080 <token> <expected email> [screenshot.png]
import { chromium } from 'playwright-core';

const [base, token, email, shot = 'playground.png'] = process.argv.slice(2);
if (!base || !token || !email) {
  console.error('usage: node browser.mjs BASE_URL TOKEN EMAIL [SCREENSHOT]');
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
    '--no-first-run', '--disable-component-update', '--disable-sync'],
});
let failed = 0;
let passed = 0;
const check = (name, ok, detail) => {
  if (ok) { passed++; console.log(`ok   ${name}`); } else { failed++; console.log(`FAIL ${name}: ${detail ?? ''}`); }
};
const t = { timeout: 20000 };
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const origin = new URL(base).origin;
  const foreign = [];
  const consoleErrors = [];
  const graphql = []; // [status, operationName] of every /graphql request
  page.on('request', (req) => { if (!req.url().startsWith(origin) && !req.url().startsWith('data:')) foreign.push(req.url()); });
  page.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push(msg.text()); });
  page.on('pageerror', (err) => consoleErrors.push(String(err)));
  page.on('response', (res) => {
    if (new URL(res.url()).pathname === '/graphql') {
      let op = '';
      try { op = JSON.parse(res.request().postData() || '{}').operationName || ''; } catch { /* not JSON */ }
      graphql.push([res.status(), op]);
    }
  });

  // README: "Open http://localhost:8080/playground"
  const resp = await page.goto(`${base}/playground`, { waitUntil: 'load', ...t });
  check('page loads', resp && resp.status() === 200, resp && resp.status());
  check('strict CSP', (resp.headers()['content-security-policy'] || '').includes("script-src 'self'"));
  await page.waitForSelector('.graphiql-execute-button', t);
  check('GraphiQL renders', true);
  check('no request before the token is given', graphql.length === 0, JSON.stringify(graphql));
  const pane = page.locator('.result-window');
  await pane.getByText('Paste your bearer token', { exact: false }).first().waitFor(t);
  check('without a token the result pane says to paste one', true);

  // README: "paste the token into the Bearer token field at the top and press Enter"
  await page.getByLabel('Bearer token').fill(token);
  await page.getByLabel('Bearer token').press('Enter');
  const status = page.locator('#token-status');
  await status.getByText(`Schema loaded for ${email}`, { exact: true }).waitFor(t);
  check('after Enter the page says whose schema it loaded', true);
  const paneAfter = await pane.innerText();
  check('after a good token the result pane no longer asks for one', !paneAfter.includes('Paste your bearer token'), paneAfter.slice(0, 200));

  // README: "the Docs button (the book at the left) shows the schema"
  await page.click('button[aria-label="Show Documentation Explorer"]');
  const docs = page.locator('.graphiql-doc-explorer');
  await docs.getByText('Root Types').waitFor(t);
  await docs.locator('a', { hasText: /^Query$/ }).first().click();
  await docs.getByText('The caller.').waitFor(t);
  const docsText = await docs.innerText();
  check('docs explorer shows the schema with descriptions', docsText.includes('me') && docsText.includes('users'), docsText.slice(0, 300));
  check('the schema was fetched with the token', graphql.some(([s, op]) => s === 200 && op === 'IntrospectionQuery'), JSON.stringify(graphql));

  // README: "typing in the editor autocompletes"
  const editor = page.locator('.graphiql-query-editor .CodeMirror').first();
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type('{ me { ema');
  const hints = page.locator('.CodeMirror-hints');
  await hints.waitFor({ state: 'visible', ...t });
  const hintText = await hints.innerText();
  check('autocompletion offers User fields', hintText.includes('email'), hintText);
  await page.keyboard.press('Enter'); // takes the suggestion: email
  await page.keyboard.type(' role');
  await page.keyboard.press('Escape');
  const query = await page.evaluate(() => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue());
  check('the completion went into the query', /\{ me \{ email role\s*\}\s*\}/.test(query), JSON.stringify(query));

  // README: "the Run button (▶) runs the query"
  await page.click('.graphiql-execute-button');
  const result = page.locator('.result-window');
  await result.getByText(email, { exact: false }).first().waitFor(t);
  const text = await result.innerText();
  check('me query answered on the page', text.includes(email) && /"role": "ADMIN"/.test(text), text.slice(0, 200));
  await page.screenshot({ path: shot, fullPage: true });
  check('screenshot saved', true);

  // README: subscriptions run in the playground too (over a WebSocket, with
  // the same token). Subscribe to the caller, change them from outside the
  // page, and see the event arrive.
  const api = async (query, variables) => {
    const r = await fetch(`${base}/graphql`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    return r.json();
  };
  const me = (await api('{ me { id name } }')).data.me;
  await page.evaluate(() => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue('subscription { userChanged { id name } }'));
  await page.waitForTimeout(500); // GraphiQL re-parses the edited document before Run sees it as a subscription
  await page.click('.graphiql-execute-button');
  const live = `Renamed live ${Date.now()}`;
  let seen = false;
  for (let i = 0; i < 50 && !seen; i++) { // the socket opens, then the change is made (bounded: ~10 s)
    await page.waitForTimeout(200);
    if (i === 5 || i === 25) await api('mutation($id: ID!, $n: JSON) { patchUser(id: $id, patch: [{op: replace, path: "/name", value: $n}]) { id } }', { id: me.id, n: live });
    seen = (await result.innerText()).includes(live);
  }
  check('a subscription in the playground receives a change', seen, (await result.innerText()).slice(0, 200));
  await api('mutation($id: ID!, $n: JSON) { patchUser(id: $id, patch: [{op: replace, path: "/name", value: $n}]) { id } }', { id: me.id, n: me.name });
  await page.screenshot({ path: shot.replace(/\.png$/, '-subscription.png'), fullPage: true });
  check('nothing loaded from outside the server', foreign.length === 0, foreign.join(', '));
  check('no GraphQL request refused', graphql.every(([s]) => s === 200), JSON.stringify(graphql));
  check('no errors in the console', consoleErrors.length === 0, consoleErrors.join(' | '));

  // A wrong token: the page says it was refused, and why (the server's
  // reason), instead of a stale message or only "Error fetching schema".
  const wrong = await browser.newPage();
  await wrong.goto(`${base}/playground`, { waitUntil: 'load', ...t });
  await wrong.waitForSelector('.graphiql-execute-button', t);
  await wrong.getByLabel('Bearer token').fill('usv_' + 'x'.repeat(43));
  await wrong.getByLabel('Bearer token').press('Enter');
  const refused = wrong.locator('#token-status');
  await refused.getByText('Token refused: Invalid or expired token.', { exact: true }).waitFor(t);
  check('a wrong token: the page says it was refused and why', true);
  await wrong.getByLabel('Bearer token').fill(token);
  await wrong.getByLabel('Bearer token').press('Enter');
  await refused.getByText(`Schema loaded for ${email}`, { exact: true }).waitFor(t);
  check('then the right token replaces the message', true);
  const wrongPane = await wrong.locator('.result-window').innerText();
  check('and the result pane keeps neither the refusal nor the request for a token',
    !wrongPane.includes('Invalid or expired token') && !wrongPane.includes('Paste your bearer token'), wrongPane.slice(0, 200));
} catch (e) {
  check('playground flow', false, String(e));
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
