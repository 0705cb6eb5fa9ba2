// Opens the offline GraphiQL playground in headless Chromium, sets the
// bearer token, runs a `me` query, checks the answer on the page and saves
// a screenshot. Fails if the page asks for anything outside the server.
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
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const origin = new URL(base).origin;
  const foreign = [];
  const consoleErrors = [];
  page.on('request', (req) => { if (!req.url().startsWith(origin) && !req.url().startsWith('data:')) foreign.push(req.url()); });
  page.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push(msg.text()); });
  page.on('pageerror', (err) => consoleErrors.push(String(err)));

  const resp = await page.goto(`${base}/playground`, { waitUntil: 'load', timeout: 20000 });
  check('page loads', resp && resp.status() === 200, resp && resp.status());
  check('strict CSP', (resp.headers()['content-security-policy'] || '').includes("script-src 'self'"));
  await page.waitForSelector('.graphiql-execute-button', { timeout: 20000 });
  check('GraphiQL renders', true);
  consoleErrors.length = 0; // the schema fetch before a token is set is refused, as it should be
  await page.fill('#token', token);
  await page.press('#token', 'Tab');
  await page.click('.graphiql-execute-button');
  const result = page.locator('.result-window');
  await result.getByText(email, { exact: false }).first().waitFor({ timeout: 20000 });
  const text = await result.innerText();
  check('me query answered on the page', text.includes(email) && text.includes('"role"'), text.slice(0, 200));
  await page.screenshot({ path: shot, fullPage: true });
  check('screenshot saved', true);
  check('nothing loaded from outside the server', foreign.length === 0, foreign.join(', '));
  check('no errors in the console', consoleErrors.length === 0, consoleErrors.join(' | '));
} catch (e) {
  check('playground flow', false, String(e));
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
