// OAuth2 end to end against a real OpenID Provider (oidc-provider on loopback): the token
// flow through the official SDKs, the cookie session flow through a redirect-following
// browser, account linking, the F2 takeover rule, browser binding and bad input.
//
// The server must have the providers of idp-providers.mjs configured for this IdP
// (tests/run.sh passes them to appwrite-local with IDP_PORT).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Browser, startIdp } from './idp.mjs';
import { E2E_PROVIDERS, EXTRA_SCOPES } from './idp-providers.mjs';
import { accounts, callbackFor, codeIn, expectAppwriteError, lastText, loadConfig, uniqueEmail } from './lib.mjs';

const cfg = loadConfig();
const IDP_PORT = Number(process.env.IDP_PORT ?? 3900);
const IDP = `http://127.0.0.1:${IDP_PORT}`;
const APP = 'http://localhost:3000';
const SUCCESS = `${APP}/oauth/success`;
const FAILURE = `${APP}/oauth/failure`;
const callbackOf = (provider) => callbackFor(cfg, provider);
const CALLBACK = callbackOf('oidc');
const REDIRECT = `${cfg.endpoint}/account/sessions/oauth2/oidc/redirect`;

const SDKS = [
  { label: '14', style: 'positional', sdk: await import('node-appwrite-14') },
  { label: '22', style: 'object', sdk: await import('node-appwrite-22') },
  { label: 'latest', style: 'object', sdk: await import('node-appwrite-latest') },
];
/** node-appwrite latest, for the tests that need one SDK only. */
const latest = accounts(SDKS[2].sdk, 'object', cfg);

const sessionStart = (extra = {}, provider = 'oidc') =>
  `${cfg.endpoint}/account/sessions/oauth2/${provider}?${new URLSearchParams({
    project: cfg.project,
    success: SUCCESS,
    failure: FAILURE,
    ...extra,
  })}`;

/** The `error` JSON a failure URL carries. */
const failureError = (url) => {
  const u = new URL(url);
  assert.equal(`${u.origin}${u.pathname}`, FAILURE, `expected the failure page, got ${url}`);
  return JSON.parse(u.searchParams.get('error'));
};

const api = (path, init = {}) =>
  fetch(`${cfg.endpoint}${path}`, {
    ...init,
    headers: { 'x-appwrite-project': cfg.project, ...(init.headers ?? {}) },
  });

let stopIdp;
before(async () => {
  stopIdp = await startIdp(IDP_PORT, E2E_PROVIDERS.map(callbackOf));
});
after(async () => {
  await stopIdp?.();
});

for (const { label, style, sdk } of SDKS) {
  const { Query } = sdk;
  const { call, guest, withKey, withSession } = accounts(sdk, style, cfg);
  const tokenUrl = (scopes) =>
    call(guest(), 'createOAuth2Token', { provider: 'oidc', success: SUCCESS, failure: FAILURE, scopes }, [
      'provider',
      'success',
      'failure',
      'scopes',
    ]);

  describe(`node-appwrite ${label}: OAuth2 token flow and identities`, () => {
    it('createOAuth2Token answers with the provider URL: client, callback, scopes, PKCE', async () => {
      const url = new URL(await tokenUrl(['offline_access']));
      assert.equal(`${url.origin}${url.pathname}`, `${IDP}/auth`);
      const q = url.searchParams;
      assert.equal(q.get('client_id'), 'appwrite-account-tests');
      assert.equal(q.get('redirect_uri'), CALLBACK);
      assert.equal(q.get('response_type'), 'code');
      const scopes = q.get('scope').split(' ');
      for (const s of ['openid', 'email', 'profile', 'offline_access']) assert.ok(scopes.includes(s), q.get('scope'));
      assert.match(q.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
      assert.equal(q.get('code_challenge_method'), 'S256');
      assert.ok(q.get('state').length > 40, 'signed state');
      assert.ok(!q.get('state').includes(SUCCESS), 'state is not the plain JSON of the URLs');
    });

    it('token flow end to end: IdP login → success URL → createSession → account; the secret works once', async () => {
      const email = uniqueEmail(`oidc${label}`);
      const browser = new Browser([APP]);
      const { url } = await browser.go(await tokenUrl([]), { login: email });
      const back = new URL(url);
      assert.equal(`${back.origin}${back.pathname}`, SUCCESS, url);
      const userId = back.searchParams.get('userId');
      const secret = back.searchParams.get('secret');
      assert.match(secret, /^[0-9a-f]{64}$/);
      const session = await call(withKey(), 'createSession', { userId, secret }, ['userId', 'secret']);
      assert.equal(session.userId, userId);
      const me = await withSession(session.secret).get();
      assert.equal(me.email, email);
      assert.equal(me.emailVerification, true, 'the IdP verified the email');
      // E2: the exchange secret is single-use.
      await expectAppwriteError(
        call(withKey(), 'createSession', { userId, secret }, ['userId', 'secret']),
        401,
        'user_invalid_token',
      );

      // Identities: one, in both query syntaxes; then deleted.
      const account = withSession(session.secret);
      const list = await call(account, 'listIdentities', { queries: [Query.equal('provider', ['oidc'])] }, ['queries']);
      assert.equal(list.total, 1);
      const [identity] = list.identities;
      assert.equal(identity.userId, userId);
      assert.equal(identity.provider, 'oidc');
      assert.equal(identity.providerUid, email);
      assert.equal(identity.providerEmail, email);
      assert.ok(identity.providerAccessToken.length > 10, 'the owner reads the provider token');
      const legacy = await api(
        `/account/identities?${new URLSearchParams({ 'queries[0]': 'equal("provider", ["github"])' })}`,
        { headers: { 'x-appwrite-session': session.secret } },
      );
      assert.equal(legacy.status, 200);
      assert.equal((await legacy.json()).total, 0);
      await call(account, 'deleteIdentity', { identityId: identity.$id }, ['identityId']);
      const empty = await call(account, 'listIdentities', {}, []);
      assert.equal(empty.total, 0);
      await expectAppwriteError(
        call(account, 'deleteIdentity', { identityId: identity.$id }, ['identityId']),
        404,
        'user_identity_not_found',
      );
    });

    it('bad input: unknown and disabled providers, foreign success URL', async () => {
      const bad = (provider, success = SUCCESS) =>
        call(guest(), 'createOAuth2Token', { provider, success, failure: FAILURE }, ['provider', 'success', 'failure']);
      await assert.rejects(bad('amazon'), (e) => e.code === 400);
      await assert.rejects(bad('github'), (e) => e.code === 412);
      await assert.rejects(bad('oidc', 'https://evil.example/steal'), (e) => e.code === 400);
    });
  });
}

describe('every OIDC-family provider end to end (token flow, node-appwrite latest)', () => {
  for (const provider of E2E_PROVIDERS) {
    it(`${provider}: IdP login → token → session → account and identity`, async () => {
      const email = uniqueEmail(provider);
      const scopes = EXTRA_SCOPES[provider] ?? [];
      const url = await latest.guest().createOAuth2Token({ provider, success: SUCCESS, failure: FAILURE, scopes });
      assert.ok(url.startsWith(`${IDP}/auth?`), url);
      const start = new URL(url).searchParams;
      if (provider === 'apple') {
        assert.equal(start.get('response_mode'), 'form_post', 'Apple answers with a POST to the callback');
        assert.equal(start.get('code_challenge'), null);
      } else {
        assert.equal(start.get('code_challenge_method'), 'S256');
      }
      const browser = new Browser([APP]);
      const { url: back } = await browser.go(url, { login: email });
      if (provider === 'apple') assert.ok(browser.log.includes(`POST ${callbackOf('apple')}`), browser.log.join('\n'));
      const q = new URL(back).searchParams;
      assert.ok(back.startsWith(SUCCESS), `${back} ${q.get('error') ?? ''}`);
      const session = await latest.withKey().createSession({
        userId: q.get('userId'),
        secret: q.get('secret'),
      });
      const account = latest.withSession(session.secret);
      assert.equal((await account.get()).email, email);
      const { identities } = await account.listIdentities();
      assert.deepEqual(identities.map((i) => [i.provider, i.providerUid]), [[provider, email]]);
    });
  }
});

describe('OAuth2 over HTTP: session flow, linking, binding and errors', () => {
  const get = async (path, jar) => {
    const res = await api(path, { headers: { cookie: jar.cookiesFor(cfg.endpoint) } });
    return { status: res.status, body: await res.json() };
  };

  it('session flow end to end: cookie session with the OAuth2 factors; PATCH refreshes the provider token', async () => {
    const email = uniqueEmail('oidc-session');
    const browser = new Browser([APP]);
    const { url } = await browser.go(sessionStart({ 'scopes[0]': 'offline_access' }), { login: email });
    assert.equal(url, SUCCESS, 'no secret travels in the success URL');
    const me = await get('/account', browser);
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal(me.body.email, email);
    const current = await get('/account/sessions/current', browser);
    assert.equal(current.body.provider, 'oidc');
    assert.equal(current.body.providerUid, email);
    assert.deepEqual(current.body.factors, ['email', 'oauth2']);
    assert.ok(current.body.providerAccessToken.length > 10);
    assert.ok(current.body.providerRefreshToken.length > 10, 'offline_access yields a refresh token');
    const patched = await api('/account/sessions/current', {
      method: 'PATCH',
      headers: { cookie: browser.cookiesFor(cfg.endpoint) },
    });
    const body = await patched.json();
    assert.equal(patched.status, 200, JSON.stringify(body));
    assert.notEqual(body.providerAccessToken, current.body.providerAccessToken, 'a new provider access token');
    assert.ok(body.providerAccessToken.length > 10);

    // Another user cannot take over the address this identity signs in with.
    const { ID } = SDKS[2].sdk;
    const other = uniqueEmail('other');
    await latest.guest().create({ userId: ID.unique(), email: other, password: 'another long password' });
    const s = await latest.withKey().createEmailPasswordSession({ email: other, password: 'another long password' });
    await expectAppwriteError(
      latest.withSession(s.secret).updateEmail({ email, password: 'another long password' }),
      400,
      'general_bad_request',
    );
  });

  it('D1: with MFA on, a provider sign-in is one factor and needs a challenge', async () => {
    const email = uniqueEmail('oidc-mfa');
    const first = new Browser([APP]);
    assert.equal((await first.go(sessionStart(), { login: email })).url, SUCCESS);
    const send = (method, path, browser, body) =>
      api(path, {
        method,
        headers: { cookie: browser.cookiesFor(cfg.endpoint), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const enabled = await send('PATCH', '/account/mfa', first, { mfa: true });
    assert.equal(enabled.status, 200, await enabled.text());
    assert.equal((await get('/account', first)).status, 200, 'enabling MFA keeps the current session');

    const second = new Browser([APP]);
    assert.equal((await second.go(sessionStart(), { login: email })).url, SUCCESS);
    const gated = await get('/account', second);
    assert.equal(gated.status, 401);
    assert.equal(gated.body.type, 'user_more_factors_required');
    const factors = await get('/account/mfa/factors', second);
    assert.equal(factors.status, 200);
    assert.equal(factors.body.email, true);
    const challenge = await send('POST', '/account/mfa/challenge', second, { factor: 'email' });
    const { $id: challengeId } = await challenge.json();
    assert.equal(challenge.status, 201);
    const otp = codeIn(await lastText(email, 'mfa_challenge'));
    const done = await send('PUT', '/account/mfa/challenge', second, { challengeId, otp });
    assert.equal(done.status, 200, await done.text());
    const me = await get('/account', second);
    assert.equal(me.status, 200);
    assert.equal(me.body.email, email);
    const current = await get('/account/sessions/current', second);
    assert.deepEqual(current.body.factors, ['oauth2', 'email']);

    // Linking another provider from a session that passed the gate keeps it passed.
    assert.equal((await first.go(sessionStart({}, 'keycloak'), { login: email })).url, SUCCESS);
    const linked = await get('/account/identities', first);
    assert.equal(linked.status, 200, JSON.stringify(linked.body));
    assert.deepEqual(linked.body.identities.map((i) => i.provider).sort(), ['keycloak', 'oidc']);
  });

  it('F2: an unverified provider email never opens an existing account; a verified one links', async () => {
    const email = uniqueEmail('victim');
    const { ID } = SDKS[2].sdk;
    const victim = await latest.guest().create({
      userId: ID.unique(),
      email,
      password: 'correct horse battery staple',
    });
    const attacker = new Browser([APP]);
    const { url } = await attacker.go(sessionStart(), { login: `unverified:${email}` });
    const error = failureError(url);
    assert.equal(error.type, 'general_bad_request');
    assert.equal(error.code, 400);
    assert.equal((await get('/account', attacker)).status, 401, 'no session for the victim');
    // The same through the token flow.
    const tokenStart = `${cfg.endpoint}/account/tokens/oauth2/oidc?${new URLSearchParams({
      project: cfg.project,
      success: SUCCESS,
      failure: FAILURE,
    })}`;
    const viaToken = await new Browser([APP]).go(tokenStart, { login: `unverified:${email}` });
    assert.equal(failureError(viaToken.url).type, 'general_bad_request');
    // A verified email links the identity to the existing account.
    const owner = new Browser([APP]);
    assert.equal((await owner.go(sessionStart(), { login: email })).url, SUCCESS);
    const me = await get('/account', owner);
    assert.equal(me.body.$id, victim.$id);
  });

  it('a signed-in anonymous user who signs in with the provider keeps the account and gains the email', async () => {
    const browser = new Browser([APP]);
    const anon = await fetch(`${cfg.endpoint}/account/sessions/anonymous`, {
      method: 'POST',
      headers: { 'x-appwrite-project': cfg.project },
    });
    assert.equal(anon.status, 201);
    browser.keep(cfg.endpoint, anon);
    const anonId = (await get('/account', browser)).body.$id;
    const email = uniqueEmail('upgrade');
    assert.equal((await browser.go(sessionStart(), { login: email })).url, SUCCESS);
    const me = await get('/account', browser);
    assert.equal(me.body.$id, anonId, 'same user');
    assert.equal(me.body.email, email);
    const sessions = await get('/account/sessions', browser);
    assert.deepEqual(sessions.body.sessions.map((s) => s.provider), ['oidc'], 'the anonymous session was replaced');
  });

  it('a state finished in another browser fails; the starting browser then succeeds once', async () => {
    const email = uniqueEmail('bound');
    const starter = new Browser([APP, REDIRECT]);
    const { url: redirectUrl } = await starter.go(sessionStart(), { login: email });
    assert.ok(redirectUrl.startsWith(REDIRECT), redirectUrl);
    const other = new Browser([APP]);
    const stolen = await other.go(redirectUrl);
    assert.equal(failureError(stolen.url).type, 'user_unauthorized');
    assert.equal((await get('/account', other)).status, 401);
    starter.stopAt = [APP];
    assert.equal((await starter.go(redirectUrl)).url, SUCCESS);
    const replay = await starter.go(redirectUrl);
    assert.equal(failureError(replay.url).type, 'user_unauthorized', 'the nonce is spent');
  });

  it('two simultaneous first sign-ins with one provider account yield one user (guard items)', async () => {
    const email = uniqueEmail('race');
    const a = new Browser([APP, REDIRECT]);
    const b = new Browser([APP, REDIRECT]);
    const [ra, rb] = await Promise.all([a.go(sessionStart(), { login: email }), b.go(sessionStart(), { login: email })]);
    a.stopAt = [APP];
    b.stopAt = [APP];
    const [fa, fb] = await Promise.all([a.go(ra.url), b.go(rb.url)]);
    const outcomes = [fa.url, fb.url].map((u) => (u === SUCCESS ? 'ok' : failureError(u).type)).sort();
    // Either both finish on the one account (the second saw the first's identity), or the
    // loser of the race is told the account already exists; never two accounts.
    assert.ok(
      JSON.stringify(outcomes) === '["ok","ok"]' || JSON.stringify(outcomes) === '["ok","user_already_exists"]',
      JSON.stringify(outcomes),
    );
    const ids = new Set();
    for (const br of [a, b]) {
      const me = await get('/account', br);
      if (me.status === 200) ids.add(me.body.$id);
    }
    assert.equal(ids.size, 1);
    const winner = fa.url === SUCCESS ? a : b;
    const list = await get('/account/identities', winner);
    assert.equal(list.body.total, 1);
  });

  it('tampered state, provider error and missing code are answered as the contract says', async () => {
    const tokenStart = `${cfg.endpoint}/account/tokens/oauth2/oidc?${new URLSearchParams({
      project: cfg.project,
      success: SUCCESS,
      failure: FAILURE,
    })}`;
    const started = await fetch(tokenStart, { redirect: 'manual' });
    assert.equal(started.status, 301);
    const state = new URL(started.headers.get('location')).searchParams.get('state');
    const browser = new Browser([APP]);

    const tampered = await browser.go(`${CALLBACK}?code=x&state=${encodeURIComponent(`A${state.slice(1)}`)}`);
    assert.equal(tampered.status, 400);
    assert.match(tampered.text, /general_bad_request/);

    const denied = await browser.go(`${CALLBACK}?error=access_denied&error_description=no&state=${encodeURIComponent(state)}`);
    const e = failureError(denied.url);
    assert.equal(e.type, 'user_oauth2_provider_error');
    assert.match(e.message, /access_denied/);

    const noCode = await browser.go(`${CALLBACK}?state=${encodeURIComponent(state)}`);
    assert.equal(failureError(noCode.url).type, 'user_oauth2_provider_error');

    const unsupported = await api('/account/sessions/oauth2/amazon');
    assert.equal(unsupported.status, 400);
    assert.equal((await unsupported.json()).type, 'project_provider_unsupported');
    const disabled = await api('/account/tokens/oauth2/github');
    assert.equal(disabled.status, 412);
    assert.equal((await disabled.json()).type, 'project_provider_disabled');
  });
});
