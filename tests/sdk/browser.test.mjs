// OAuth2 in a real browser: headless Chromium (Debian's, driven by playwright-core) signs in
// through the real IdP (idp.mjs). What only a browser decides is checked here: which cookies
// it keeps and sends across the API, IdP and app sites (SameSite, HttpOnly, the nonce cookie
// after a cross-site redirect), the IdP's self-submitting form_post page (Apple), and that
// the session cookie it was given opens the account on the next navigation.
//
// CHROMIUM names the browser binary (default /usr/bin/chromium; tests/run.sh installs it).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import { startIdp } from './idp.mjs';
import { E2E_PROVIDERS } from './idp-providers.mjs';
import { accounts, callbackFor, loadConfig, uniqueEmail } from './lib.mjs';

const cfg = loadConfig();
const IDP_PORT = Number(process.env.IDP_PORT ?? 3900);
const callbackOf = (provider) => callbackFor(cfg, provider);
const sdk = accounts(await import('node-appwrite-latest'), 'object', cfg);

let browser;
let stopIdp;
let app;
let appUrl;

before(async () => {
  stopIdp = await startIdp(IDP_PORT, E2E_PROVIDERS.map(callbackOf));
  // The app's success and failure pages (a registered platform: localhost).
  app = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><title>app</title><p>${req.url.length}</p>`);
  });
  await new Promise((resolve) => app.listen(0, 'localhost', resolve));
  appUrl = `http://localhost:${app.address().port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (app ? app.close(resolve) : resolve()));
  app?.closeAllConnections();
  await stopIdp?.();
});

const success = () => `${appUrl}/oauth/success`;
const failure = () => `${appUrl}/oauth/failure`;

function start(flow, provider, extra = {}) {
  const q = new URLSearchParams({ project: cfg.project, success: success(), failure: failure(), ...extra });
  return `${cfg.endpoint}/account/${flow}/oauth2/${provider}?${q}`;
}

/** Fills the IdP's dev login and consent pages, then waits for `until` (if given). */
async function signIn(page, login, until) {
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any');
  await page.locator('button[type="submit"]').click();
  await page.locator('input[name="prompt"][value="consent"]').waitFor({ state: 'attached' });
  await page.locator('button[type="submit"]').click();
  if (until) await page.waitForURL(until);
}

/** The account the browser's cookies open, by navigating to the API as a user would. */
async function accountOf(page) {
  const res = await page.goto(`${cfg.endpoint}/account?project=${cfg.project}`);
  return { status: res.status(), body: JSON.parse(await res.text()) };
}

describe('OAuth2 in headless Chromium', () => {
  it('session flow: the browser keeps an HttpOnly session cookie that opens the account; the nonce is spent', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const email = uniqueEmail('chromium');
    await page.goto(start('sessions', 'oidc'));
    await signIn(page, email, success());
    assert.equal(page.url(), success(), 'no secret in the success URL');
    const cookies = await context.cookies(cfg.endpoint);
    const session = cookies.filter((c) => c.name.startsWith(`a_session_${cfg.project}`));
    assert.ok(session.length > 0, JSON.stringify(cookies.map((c) => c.name)));
    assert.ok(session.every((c) => c.httpOnly), 'session cookies are HttpOnly');
    assert.ok(!cookies.some((c) => c.name.startsWith('a_oauth2_')), 'the nonce cookie was cleared');
    const me = await accountOf(page);
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal(me.body.email, email);
    await context.close();
  });

  it("Apple: the IdP's self-submitting form_post page posts to the callback and the session flow finishes", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const posts = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().startsWith(callbackOf('apple'))) posts.push(r.url());
    });
    const email = uniqueEmail('chromium-apple');
    await page.goto(start('sessions', 'apple', { 'scopes[0]': 'openid' }));
    await signIn(page, email, (u) => u.href.startsWith(appUrl));
    assert.equal(page.url(), success(), `ended at ${page.url()}`);
    assert.equal(posts.length, 1, 'the callback arrived as a form POST');
    const me = await accountOf(page);
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal(me.body.email, email);
    await context.close();
  });

  it('token flow started by a server (createOAuth2Token) finishes in the browser; the app exchanges the secret', async () => {
    const url = await sdk.guest().createOAuth2Token({
      provider: 'oidc',
      success: success(),
      failure: failure(),
    });
    const context = await browser.newContext();
    const page = await context.newPage();
    const email = uniqueEmail('chromium-token');
    await page.goto(url);
    await signIn(page, email, (u) => u.href.startsWith(appUrl));
    const back = new URL(page.url());
    assert.equal(`${back.origin}${back.pathname}`, success(), page.url());
    const session = await sdk.withKey().createSession({ userId: back.searchParams.get('userId'), secret: back.searchParams.get('secret') });
    const account = sdk.withSession(session.secret);
    assert.equal((await account.get()).email, email);
    assert.ok(
      !(await context.cookies(cfg.endpoint)).some((c) => c.name.startsWith('a_session_')),
      'the token flow sets no session cookie',
    );
    await context.close();
  });

  it('a sign-in started in one browser cannot be finished in another; the starting one then can', async () => {
    const idp = `http://127.0.0.1:${IDP_PORT}/auth?`;
    const starter = await browser.newContext();
    const page = await starter.newPage();
    let authorize;
    page.on('request', (r) => {
      if (r.url().startsWith(idp)) authorize ??= r.url();
    });
    await page.goto(start('sessions', 'oidc'));
    await page.locator('input[name="login"]').waitFor();
    assert.ok(authorize, 'the start redirected to the IdP');

    // Another browser signs in at the IdP with the starter's state (login CSRF).
    const thief = await browser.newContext();
    const stolen = await thief.newPage();
    await stolen.goto(authorize);
    await signIn(stolen, uniqueEmail('chromium-thief'), (u) => u.href.startsWith(appUrl));
    const u = new URL(stolen.url());
    assert.equal(`${u.origin}${u.pathname}`, failure(), stolen.url());
    assert.equal(JSON.parse(u.searchParams.get('error')).type, 'user_unauthorized');
    assert.equal((await accountOf(stolen)).status, 401);
    await thief.close();

    const email = uniqueEmail('chromium-bound');
    await signIn(page, email, success());
    assert.equal((await accountOf(page)).body.email, email);
    await starter.close();
  });
});
