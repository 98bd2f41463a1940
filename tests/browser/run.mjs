// Browser tests of the Callbroker dashboard: starts the real server (SQLite in a temp folder),
// drives the built SPA (web/dist) in Debian's Chromium through playwright-core, plays Twilio with
// signed webhooks, saves a screenshot of every page to artifacts/browser/ and prints the budgets.
//
//   node tests/browser/run.mjs          (scripts/test-browser.sh builds everything first)
//
// Environment: CALLBROKER_BIN (default target/debug/callbroker), CHROMIUM (default
// /usr/bin/chromium), ARTIFACTS (default artifacts/browser), HEADED=1 to watch.
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = process.env.CALLBROKER_BIN || path.join(ROOT, 'target', 'debug', 'callbroker');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = path.resolve(ROOT, process.env.ARTIFACTS || 'artifacts/browser');
const ADMIN = { email: 'admin@example.com', password: 'browser-test-password' };
const TWILIO_AUTH_TOKEN = 'browser-test-auth-token';
const ACCOUNT_SID = 'AC00000000000000000000000000000001';
const BUDGET_BYTES = 400 * 1024;
const BUDGET_RENDER_MS = 1500;

const results = [];
let failures = 0;
function check(ok, what) {
  results.push(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  console.log(`${ok ? '  ok  ' : '  FAIL'} ${what}`);
  if (!ok) failures++;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// ------------------------------------------------------------------------------- the server
async function startServer() {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callbroker-browser-'));
  const env = {
    ...process.env,
    CALLBROKER_CONFIG: path.join(dir, 'none.toml'),
    CALLBROKER_DATABASE_URL: `sqlite://${path.join(dir, 'test.db')}`,
    CALLBROKER_BIND: `127.0.0.1:${port}`,
    CALLBROKER_PUBLIC_URL: base,
    CALLBROKER_DATA_DIR: dir,
    CALLBROKER_WEB_DIR: path.join(ROOT, 'web', 'dist'),
    CALLBROKER_ADMIN_EMAIL: ADMIN.email,
    CALLBROKER_ADMIN_PASSWORD: ADMIN.password,
    CALLBROKER_JWT_SECRET: crypto.randomBytes(32).toString('hex'),
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    RUST_LOG: process.env.RUST_LOG || 'warn',
  };
  const log = fs.openSync(path.join(ARTIFACTS, 'server.log'), 'w');
  const child = spawn(BIN, [], { env, stdio: ['ignore', log, log] });
  let exited = null;
  child.on('exit', (code) => { exited = code; });
  for (let i = 0; i < 200; i++) {
    if (exited !== null) throw new Error(`server exited with ${exited}; see ${ARTIFACTS}/server.log`);
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) return { base, child, dir };
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('server did not answer /healthz within 20 s');
}

// ------------------------------------------------------------------------------- API and Twilio
async function api(base, token, method, p, body) {
  const res = await fetch(base + p, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return json;
}

/** Twilio's X-Twilio-Signature: HMAC-SHA1 over the full URL followed by every POST parameter
 *  (sorted by name) as name+value, base64. */
function twilioSignature(url, params) {
  const data = Object.keys(params).sort().reduce((acc, k) => acc + k + params[k], url);
  return crypto.createHmac('sha1', TWILIO_AUTH_TOKEN).update(Buffer.from(data, 'utf8')).digest('base64');
}

async function twilio(base, pathAndQuery, params) {
  const res = await fetch(base + pathAndQuery, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilioSignature(base + pathAndQuery, params),
    },
    body: new URLSearchParams(params).toString(),
  });
  const body = await res.text();
  if (res.status !== 200 && res.status !== 204) throw new Error(`webhook ${pathAndQuery}: ${res.status} ${body}`);
  return body;
}

// ------------------------------------------------------------------------------- the browser
async function shot(page, name) {
  await page.waitForTimeout(150);
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function login(page, base, email, password) {
  await page.goto(`${base}/`);
  await page.waitForURL('**/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}

/** Visits a page by clicking its navigation link (keeps the SPA loaded) */
async function nav(page, label) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label, exact: true }).click();
}

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  for (const f of fs.readdirSync(ARTIFACTS)) if (f.endsWith('.png')) fs.rmSync(path.join(ARTIFACTS, f));
  if (!fs.existsSync(path.join(ROOT, 'web', 'dist', 'index.html'))) throw new Error('web/dist is not built (scripts/build-web.sh)');
  const server = await startServer();
  const { base } = server;
  console.log(`browser tests: server at ${base}, Chromium ${CHROMIUM}`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: !process.env.HEADED,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const consoleErrors = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));

    // ---- budgets: what the first page loads, compressed
    const loaded = new Map();
    page.on('response', async (res) => {
      const u = new URL(res.url());
      if (/\.(js|wasm)$/.test(u.pathname)) {
        try { loaded.set(u.pathname, await res.body()); } catch { /* redirected */ }
      }
    });
    await page.goto(`${base}/`);
    await page.waitForURL('**/login');
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    let raw = 0, gz = 0, br = 0;
    for (const [p, body] of loaded) {
      raw += body.length;
      gz += zlib.gzipSync(body, { level: 9 }).length;
      br += zlib.brotliCompressSync(body).length;
      console.log(`  first load: ${p} ${body.length} bytes raw`);
    }
    console.log(`BUDGET first-load wasm+JS: ${raw} bytes raw, ${gz} bytes gzip -9, ${br} bytes brotli (budget ${BUDGET_BYTES} compressed)`);
    check(loaded.size >= 2 && gz < BUDGET_BYTES, `first-load wasm+JS gzip ${(gz / 1024).toFixed(1)} KB < 400 KB`);
    await shot(page, '01-login');

    // ---- sign in: validation first, then wrong password, then the real one
    await page.getByRole('button', { name: 'Sign in' }).click();
    check(await page.getByText('must be an email address').isVisible(), 'login form validates before sending');
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Wrong email or password.').waitFor();
    check(true, 'wrong password is refused with a message');
    await shot(page, '02-login-error');
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#page-dashboard').waitFor();
    check(true, 'admin signs in and lands on the dashboard');
    await page.reload();
    await page.locator('#page-dashboard').waitFor();
    check(page.url() === `${base}/`, 'session survives a reload');
    await shot(page, '03-dashboard-empty');

    // ---- first render of the dashboard (signed in, cold load of the page)
    // each load in a fresh browser context (empty HTTP and code caches) with the stored session
    const state = await context.storageState();
    const renders = [];
    for (let i = 0; i < 3; i++) {
      const cold = await browser.newContext({ storageState: state, viewport: { width: 1280, height: 800 } });
      const p = await cold.newPage();
      await p.addInitScript(() => {
        const mark = () => {
          if (!window.__cbRendered && document.querySelector('#page-dashboard h1')) window.__cbRendered = performance.now();
        };
        new MutationObserver(mark).observe(document, { childList: true, subtree: true });
      });
      await p.goto(`${base}/`);
      await p.waitForFunction(() => window.__cbRendered);
      renders.push(await p.evaluate(() => window.__cbRendered));
      await cold.close();
    }
    const render = Math.max(...renders);
    console.log(`BUDGET dashboard first render: ${renders.map((r) => r.toFixed(0)).join(' / ')} ms (cold cache each, worst ${render.toFixed(0)} ms, budget ${BUDGET_RENDER_MS} ms)`);
    check(render < BUDGET_RENDER_MS, `dashboard first render ${render.toFixed(0)} ms < ${BUDGET_RENDER_MS} ms`);

    // ---- a campaign
    await nav(page, 'Campaigns');
    await page.locator('#page-campaigns').waitFor();
    await page.getByText('No campaigns yet').waitFor();
    await shot(page, '04-campaigns-empty');
    await page.getByRole('link', { name: 'New campaign' }).click();
    await page.getByRole('button', { name: 'Create campaign' }).waitFor();
    await page.getByRole('button', { name: 'Create campaign' }).click();
    check(await page.locator('#err-name').isVisible(), 'campaign form shows a missing name before sending');
    await page.locator('#f-name').fill('Home Insurance');
    await page.getByRole('button', { name: 'Create campaign' }).click();
    await page.waitForURL(/\/campaigns\/\d+$/);
    await page.getByRole('heading', { name: 'Campaign: Home Insurance' }).waitFor();
    check(true, 'campaign created (its page opens)');

    // ---- a buyer, with a schedule and an API field error (422) shown on the field
    await nav(page, 'Buyers');
    await page.getByRole('link', { name: 'New buyer' }).click();
    await page.locator('#buyer-form').waitFor();
    await page.locator('#f-name').fill('Acme Call Center');
    await page.getByLabel('Phone number').fill('12345');
    await page.getByRole('button', { name: 'Create buyer' }).click();
    check(await page.locator('#err-phone_number').isVisible(), 'buyer form rejects a non-E.164 phone before sending');
    await page.getByLabel('Phone number').fill('+14155550100');
    await page.getByLabel('Max concurrent calls').fill('2');
    await page.locator('#f-timezone').fill('Mars/Olympus_Mons');
    await page.getByRole('button', { name: 'Create buyer' }).click();
    await page.locator('#err-timezone').waitFor();
    check(true, `API field error shown on the field: "${await page.locator('#err-timezone').innerText()}"`);
    await shot(page, '05-buyer-field-error');
    await page.locator('#f-timezone').fill('UTC');
    await page.getByRole('button', { name: 'Weekdays 9–17' }).click();
    await page.getByRole('button', { name: 'Always open' }).click();
    await page.getByRole('button', { name: 'Add window' }).click();
    await page.locator('#win-start-0').fill('00:00');
    await page.locator('#win-end-0').fill('00:00');
    await page.getByRole('button', { name: 'Remove window 1' }).click();
    await page.getByRole('button', { name: 'Create buyer' }).click();
    await page.waitForURL(/\/buyers\/\d+$/);
    await page.getByRole('heading', { name: 'Buyer: Acme Call Center' }).waitFor();
    check(true, 'buyer created (its page opens)');
    await page.getByRole('button', { name: 'Weekdays 9–17' }).click();
    await shot(page, '06-buyer-edit');
    await page.getByRole('button', { name: 'Always open' }).click();
    await page.getByRole('button', { name: 'Save buyer' }).click();
    await page.getByText('Buyer “Acme Call Center” saved.').waitFor();
    await nav(page, 'Buyers');
    await page.getByRole('link', { name: 'Acme Call Center' }).waitFor();
    await shot(page, '07-buyers');

    // ---- assign the buyer to the campaign with a per-campaign priority
    await nav(page, 'Campaigns');
    await page.getByRole('link', { name: 'Home Insurance' }).click();
    await page.locator('#add-buyer').click();
    await page.locator('#assign-buyer-0').selectOption({ label: 'Acme Call Center (+14155550100)' });
    await page.locator('#assign-priority-0').fill('5');
    await page.getByRole('button', { name: 'Save campaign' }).click();
    await page.getByText('Campaign “Home Insurance” saved.').waitFor();
    const camp = (await api(base, null, 'POST', '/api/auth/login', ADMIN));
    const campaigns = await api(base, camp.token, 'GET', '/api/campaigns');
    check(campaigns.items[0].buyers.length === 1 && campaigns.items[0].buyers[0].priority === 5, 'campaign saved with the buyer at priority 5');
    await shot(page, '08-campaign-edit');
    await nav(page, 'Campaigns');
    await page.getByRole('link', { name: 'Home Insurance' }).waitFor();
    await shot(page, '09-campaigns');

    // ---- a publisher and its API key (shown once)
    await nav(page, 'Publishers');
    await page.getByRole('link', { name: 'New publisher' }).click();
    await page.locator('#f-name').fill('Lead Partners');
    await page.getByLabel('Contact email').fill('ops@leadpartners.example');
    await page.getByRole('button', { name: 'Create publisher' }).click();
    await page.waitForURL(/\/publishers\/\d+$/);
    await page.getByRole('heading', { name: 'Publisher: Lead Partners' }).waitFor();
    const publisherId = Number(new URL(page.url()).pathname.split('/').pop());
    await page.getByLabel('New key name').fill('Reporting');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = await page.locator('#new-key-secret').innerText();
    check(secret.length > 20, 'publisher API key created and its secret shown once');
    await shot(page, '10-publisher-key');
    const keyRes = await fetch(`${base}/api/calls`, { headers: { authorization: `Bearer ${secret}` } });
    check(keyRes.status === 200, 'the shown key works against the API');
    await page.getByRole('button', { name: 'I have copied it' }).click();
    check(!(await page.locator('#new-key-secret').isVisible()), 'secret hidden once acknowledged');
    await nav(page, 'Publishers');
    await page.getByRole('link', { name: 'Lead Partners' }).waitFor();
    await shot(page, '11-publishers');

    // a second publisher with its own number and call: the portal must not show them
    const other = await api(base, camp.token, 'POST', '/api/publishers', { name: 'Other Publisher' });

    // ---- numbers: add one, assign campaign and publisher from the dropdowns
    await nav(page, 'Numbers');
    await page.getByText('No tracking numbers yet.').waitFor();
    await page.getByText('Add a number by hand').click();
    await page.locator('#f-number').fill('+17175550123');
    await page.getByLabel('Friendly name').fill('Main line');
    await page.getByRole('button', { name: 'Add number' }).click();
    const row = page.locator('tr[data-number="+17175550123"]');
    await row.waitFor();
    await row.locator('select.number-campaign').selectOption({ label: 'Home Insurance' });
    await row.getByText('Saved').waitFor();
    await row.locator('select.number-publisher').selectOption({ label: 'Lead Partners' });
    await row.getByText('Saved').waitFor();
    const nums = await api(base, camp.token, 'GET', '/api/numbers');
    const num = nums.items.find((n) => n.number === '+17175550123');
    check(num && num.campaign_id === campaigns.items[0].id && num.publisher_id === publisherId, 'number assigned to the campaign and the publisher from the dropdowns');
    await api(base, camp.token, 'POST', '/api/numbers', { number: '+17175550999', campaign_id: campaigns.items[0].id, publisher_id: other.id });
    await page.reload();
    await page.locator('tr[data-number="+17175550999"]').waitFor();
    await shot(page, '12-numbers');

    // ---- the routing simulator
    await nav(page, 'Simulator');
    await page.getByLabel('Tracking number').selectOption('+17175550123');
    await page.locator('#f-caller').fill('+12015550123');
    await page.getByRole('button', { name: 'Simulate' }).click();
    await page.locator('#simulation-result').waitFor();
    const headline = await page.locator('#simulation-result .cb-headline').innerText();
    check(headline.includes('Acme Call Center'), `simulator picks the buyer: "${headline}"`);
    await shot(page, '13-simulator');

    // ---- a call arrives (signed webhooks) and shows on the calls page without a reload
    await nav(page, 'Calls');
    await page.getByText('No calls match these filters.').waitFor();
    const CALL_SID = 'CA' + crypto.randomBytes(16).toString('hex');
    const CHILD_SID = 'CA' + crypto.randomBytes(16).toString('hex');
    const twiml = await twilio(base, '/api/webhooks/twilio/voice', {
      CallSid: CALL_SID, AccountSid: ACCOUNT_SID, From: '+12015550123', To: '+17175550123',
      CallStatus: 'ringing', Direction: 'inbound', ApiVersion: '2010-04-01', FromState: 'NJ', FromCity: 'NEWARK',
    });
    const leg = Number((twiml.match(/twilio\/dial\?leg=(\d+)/) || [])[1]);
    check(twiml.includes('+14155550100') && leg > 0, 'voice webhook dials the buyer');
    const callRow = page.locator(`#calls-table tr[data-call-sid="${CALL_SID}"]`);
    await callRow.waitFor({ timeout: 12000 });
    check(true, 'the new call appears on the calls page without a reload (polling)');
    await twilio(base, `/api/webhooks/twilio/status?leg=${leg}`, {
      CallSid: CHILD_SID, ParentCallSid: CALL_SID, AccountSid: ACCOUNT_SID, CallStatus: 'in-progress',
      SequenceNumber: '1', CallbackSource: 'call-progress-events', Direction: 'outbound-dial',
    });
    await twilio(base, '/api/webhooks/twilio/status', {
      CallSid: CALL_SID, AccountSid: ACCOUNT_SID, CallStatus: 'in-progress', SequenceNumber: '1', Direction: 'inbound',
    });
    await shot(page, '14-calls-in-progress');
    await nav(page, 'Dashboard');
    await page.locator(`#recent-calls tr[data-call-sid="${CALL_SID}"]`).waitFor({ timeout: 12000 });
    check(true, 'the call shows on the dashboard');
    await shot(page, '15-dashboard-with-call');

    // complete it: the buyer leg ends, the dial action, the inbound call ends
    await twilio(base, `/api/webhooks/twilio/status?leg=${leg}`, {
      CallSid: CHILD_SID, ParentCallSid: CALL_SID, AccountSid: ACCOUNT_SID, CallStatus: 'completed',
      SequenceNumber: '2', CallbackSource: 'call-progress-events', Direction: 'outbound-dial', CallDuration: '95',
    });
    await twilio(base, `/api/webhooks/twilio/dial?leg=${leg}`, {
      CallSid: CALL_SID, AccountSid: ACCOUNT_SID, CallStatus: 'in-progress', DialCallStatus: 'completed',
      DialCallSid: CHILD_SID, DialCallDuration: '95',
    });
    await twilio(base, '/api/webhooks/twilio/status', {
      CallSid: CALL_SID, AccountSid: ACCOUNT_SID, CallStatus: 'completed', SequenceNumber: '2', Direction: 'inbound', CallDuration: '101',
    });
    await page.locator(`#recent-calls tr[data-call-sid="${CALL_SID}"]`).getByText('completed').waitFor({ timeout: 12000 });
    check(true, 'the dashboard shows the call completed without a reload');
    await nav(page, 'Calls');
    await callRow.getByText('completed').waitFor({ timeout: 12000 });
    await shot(page, '16-calls-completed');
    await page.locator('#filter-outcome').selectOption('no_buyer');
    await page.getByText('No calls match these filters.').waitFor();
    await page.locator('#filter-outcome').selectOption('');
    await callRow.waitFor();
    check(true, 'calls filter by outcome');

    // the call's page: timeline, routing decision with reasons, legs
    await callRow.getByRole('link').click();
    await page.locator('#call-timeline').waitFor();
    const timeline = await page.locator('#call-timeline').innerText();
    check(/routing/i.test(timeline) && timeline.includes('Acme Call Center') && /ranked #1/i.test(timeline), 'call page shows the routing decision with its reason');
    check(await page.locator('#call-legs').getByText('completed').isVisible(), 'call page shows the buyer leg');
    await shot(page, '17-call-detail');

    // a call to the other publisher's number (for the portal check)
    await twilio(base, '/api/webhooks/twilio/voice', {
      CallSid: 'CA' + crypto.randomBytes(16).toString('hex'), AccountSid: ACCOUNT_SID, From: '+12125550111', To: '+17175550999',
      CallStatus: 'ringing', Direction: 'inbound', ApiVersion: '2010-04-01',
    });

    // ---- settings: users; create the publisher's portal user from the form
    await nav(page, 'Settings');
    await page.locator('#users-table').waitFor();
    await page.getByLabel('Email').fill('portal@leadpartners.example');
    await page.getByLabel('Password').fill('short');
    await page.getByLabel('Role').selectOption('publisher');
    await page.getByRole('button', { name: 'Add user' }).click();
    check(await page.locator('#err-password').isVisible() && await page.locator('#err-publisher_id').isVisible(), 'user form validates password length and publisher');
    await page.getByLabel('Password').fill('portal-password-123');
    await page.getByLabel('Publisher').selectOption({ label: 'Lead Partners' });
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.locator('#users-table').getByText('portal@leadpartners.example').waitFor();
    check(true, 'publisher user created');
    await shot(page, '18-settings-users');

    // ---- phone width
    await page.setViewportSize({ width: 390, height: 844 });
    await nav(page, 'Calls');
    await callRow.waitFor();
    await shot(page, '19-calls-phone');
    await nav(page, 'Dashboard');
    await page.locator('#page-dashboard').waitFor();
    await shot(page, '20-dashboard-phone');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 1, `dashboard fits a phone width (overflow ${overflow}px)`);
    await page.setViewportSize({ width: 1280, height: 800 });

    // ---- sign out, then the publisher's portal
    await page.locator('#sign-out').click();
    await page.waitForURL('**/login');
    check(true, 'sign out returns to the sign-in page');
    await page.goto(`${base}/calls`);
    await page.waitForURL('**/login');
    check(true, 'signed-out deep link goes to the sign-in page');
    await login(page, base, 'portal@leadpartners.example', 'portal-password-123');
    await page.locator('#page-portal').waitFor();
    await page.locator(`#recent-calls tr[data-call-sid="${CALL_SID}"]`).waitFor();
    const portal = await page.locator('#page-portal').innerText();
    check(portal.includes('Lead Partners') && portal.includes('+17175550123'), 'portal shows its publisher and number');
    check(!portal.includes('+17175550999') && !portal.includes('+12125550111'), 'portal hides the other publisher\'s number and calls');
    check(!portal.includes('Acme Call Center') && !portal.includes('+14155550100'), 'portal hides the buyer');
    const navText = await page.getByRole('navigation', { name: 'Main' }).innerText();
    check(!/Buyers|Campaigns|Settings/.test(navText), 'portal navigation has no staff pages');
    await shot(page, '21-portal');
    await nav(page, 'Calls');
    await page.locator(`#calls-table tr[data-call-sid="${CALL_SID}"]`).waitFor();
    check(await page.locator('#calls-table tbody tr').count() === 1, 'portal calls page lists only its own call');
    await shot(page, '22-portal-calls');
    await nav(page, 'Numbers');
    await page.locator('#numbers-table').waitFor();
    check(await page.locator('#numbers-table tbody tr').count() === 1 && await page.locator('#numbers-table select').count() === 0, 'portal numbers: its own, read-only');
    await shot(page, '23-portal-numbers');
    await page.goto(`${base}/buyers`);
    await page.locator('.cb-error').waitFor();
    check(true, 'a staff page opened by a publisher shows an access error, not a broken page');

    // ---- expiry: a session whose token is refused goes back to sign-in
    await page.evaluate(() => {
      const s = JSON.parse(localStorage.getItem('callbroker.session'));
      s.token = 'expired.or.revoked';
      localStorage.setItem('callbroker.session', JSON.stringify(s));
    });
    await page.goto(`${base}/calls`);
    await page.waitForURL('**/login');
    check(true, 'a refused token ends the session (back to sign-in)');
    await page.evaluate(() => {
      localStorage.setItem('callbroker.session', JSON.stringify({
        token: 'x', expires_at: '2000-01-01T00:00:00Z',
        user: { id: 1, email: 'a@b.c', role: 'admin', publisher_id: null, created_at: '2000-01-01T00:00:00Z', updated_at: '2000-01-01T00:00:00Z' },
      }));
    });
    await page.goto(`${base}/`);
    await page.waitForURL('**/login');
    check(true, 'an expired stored session is not used');

    // 404 page
    await page.goto(`${base}/no/such/page`);
    await page.getByText('Page not found').waitFor();
    check(true, 'unknown paths show a not-found page');

    const unexpected = consoleErrors.filter((e) => !/401|403|Unauthorized|Forbidden|status of 4\d\d/i.test(e));
    check(unexpected.length === 0, `no unexpected console errors${unexpected.length ? ': ' + unexpected.join(' | ') : ''}`);
    await context.close();
  } finally {
    await browser.close();
    server.child.kill('SIGTERM');
    // A server that does not stop within 5 s is killed and noted (a known shutdown hang).
    const stopped = await Promise.race([
      new Promise((resolve) => server.child.once('exit', () => resolve(true))),
      new Promise((resolve) => setTimeout(() => resolve(false), 5000)),
    ]);
    if (!stopped) {
      server.child.kill('SIGKILL');
      console.log('  NOTE the server did not stop within 5 s of SIGTERM (killed)');
    }
    fs.rmSync(server.dir, { recursive: true, force: true });
  }
  console.log(`browser tests: ${results.length - failures} passed, ${failures} failed; screenshots in ${path.relative(ROOT, ARTIFACTS)}/`);
  process.exit(failures ? 1 : 0);
}

main().catch((e) => {
  console.error(`browser tests: ERROR ${e.stack || e}`);
  process.exit(1);
});
