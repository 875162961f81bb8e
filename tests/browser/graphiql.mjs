// The README's GraphiQL session in a real browser: Debian's Chromium, headless, driven by
// playwright-core, with every request to anything but the server aborted (and recorded).
//
//   node graphiql.mjs <server URL> <admin email> <admin password> <screenshot folder>
//
// Opens /graphql, runs the login mutation, puts the token in the Headers pane, runs the users
// query and checks the result is shown. Exits non-zero with the reason on any failure;
// screenshots of each step are written to the folder (kept as test artifacts).
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const [base, email, password, shots] = process.argv.slice(2);
if (!shots) {
  console.error('usage: node graphiql.mjs <server URL> <admin email> <admin password> <screenshot folder>');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const origin = new URL(base).origin;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const failures = [];
const foreign = [];
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(origin + '/')) return route.continue();
    foreign.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') failures.push(`console: ${m.text()}`); });

  const editor = (selector) => `${selector} .CodeMirror`;
  const QUERY = editor('.graphiql-query-editor');
  const HEADERS = editor('section.graphiql-editor-tool .graphiql-editor:not(.hidden)');
  const RESPONSE = editor('.graphiql-response');
  const set = (selector, text) => page.evaluate(([s, t]) => {
    document.querySelector(s).CodeMirror.setValue(t);
  }, [selector, text]);
  const value = (selector) => page.evaluate((s) => document.querySelector(s).CodeMirror.getValue(), selector);
  // Runs the query in the editor and waits for a response that contains `expect`.
  const run = async (expect) => {
    await page.click('.graphiql-execute-button');
    await page.waitForFunction(([s, e]) => {
      const cm = document.querySelector(s);
      return cm && cm.CodeMirror.getValue().includes(e);
    }, [RESPONSE, expect], { timeout: 15000 });
    return JSON.parse(await value(RESPONSE));
  };

  await page.goto(`${base}/graphql`);
  await page.waitForSelector(QUERY, { timeout: 15000 });
  await page.waitForSelector(HEADERS, { timeout: 15000 });
  const prefilled = await value(HEADERS);
  if (!prefilled.includes('Authorization')) failures.push(`headers not prefilled: ${prefilled}`);
  await page.screenshot({ path: `${shots}/1-opened.png` });

  // The README's login mutation.
  await set(QUERY, `mutation {
  login(email: "${email}", password: "${password}") {
    accessToken
    user { id role }
  }
}`);
  const login = await run('"login"');
  const token = login?.data?.login?.accessToken;
  if (!token) throw new Error(`login failed: ${JSON.stringify(login)}`);
  await page.screenshot({ path: `${shots}/2-logged-in.png` });

  // The token in the Headers pane, then the users query.
  await set(HEADERS, JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2));
  await set(QUERY, '{ me { id email role } users { id email } userStats { total active admins } }');
  const users = await run('"users"');
  if (users.errors) throw new Error(`users query failed: ${JSON.stringify(users.errors)}`);
  const emails = users.data.users.map((u) => u.email);
  if (!emails.includes(email)) throw new Error(`the users query does not list ${email}: ${emails}`);
  // What a person sees: the rendered response pane shows the result.
  const shown = await page.locator('.graphiql-response').innerText();
  if (!shown.includes(email) || !shown.includes('userStats')) {
    failures.push(`the result is not shown in the response pane: ${shown.slice(0, 300)}`);
  }
  await page.screenshot({ path: `${shots}/3-users.png` });
} catch (err) {
  failures.push(String(err && err.stack || err));
} finally {
  await browser.close();
}
if (foreign.length) failures.push(`requests to other hosts: ${foreign.join(', ')}`);
if (failures.length) {
  console.error(failures.join('\n'));
  process.exit(1);
}
console.log(`GraphiQL session passed; screenshots in ${shots}`);
