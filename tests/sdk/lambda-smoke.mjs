// Drives the functions through the Lambda runtime emulator (cargo lambda watch) with the
// newest node-appwrite, on DynamoDB, with email through SES and SMS through SNS (all moto):
// sessions signs in anonymously, profile reads the account, tokens sends an email code and
// an SMS code that are read back from moto and redeemed by sessions; the OAuth2 callback
// route answers through the runtime.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Client, Account, ID } from 'node-appwrite-latest';

const { projectId, apiKey } = JSON.parse(readFileSync(process.env.PROJECT_JSON, 'utf8'));
const base = process.env.WATCH;
const moto = process.env.MOTO;
const fn = (name) => `${base}/${name}/v1`;
const account = (name, setup) => new Account(setup(new Client().setEndpoint(fn(name)).setProject(projectId)));
let passed = 0;

const session = await account('sessions', (c) => c.setKey(apiKey)).createAnonymousSession();
assert.equal(session.provider, 'anonymous');
assert.ok(session.secret.length > 0);
const me = await account('profile', (c) => c.setSession(session.secret)).get();
assert.equal(me.$id, session.userId);
passed++;

const list = await account('sessions', (c) => c.setSession(session.secret)).listSessions();
assert.equal(list.total, 1);
assert.equal(list.sessions[0].current, true);
passed++;

const motoData = async () => (await fetch(`${moto}/moto-api/data.json`)).json();
const email = `lambda-${Date.now()}@example.com`;
const token = await account('tokens', (c) => c).createEmailToken({ userId: ID.unique(), email });
const mail = (await motoData()).ses.Message.find((m) => m.destinations.ToAddresses.some((a) => a.includes(email)));
assert.ok(mail, 'SES message recorded by moto');
// moto keeps the HTML part: read the code from the visible text, not from inline styles.
const code = mail.body.replace(/<[^>]*>/g, ' ').match(/\b(\d{6})\b/)[1];
const otpSession = await account('sessions', (c) => c.setKey(apiKey)).createSession({ userId: token.userId, secret: code });
const otpUser = await account('profile', (c) => c.setSession(otpSession.secret)).get();
assert.equal(otpUser.email, email);
assert.equal(otpUser.emailVerification, true);
passed++;

const phone = `+1555${String(Date.now() % 10_000_000).padStart(7, '0')}`;
const phoneToken = await account('tokens', (c) => c).createPhoneToken({ userId: ID.unique(), phone });
const sms = (await motoData()).sns.SMS.find((m) => m.phone_number === phone);
assert.ok(sms, 'SNS message recorded by moto');
const smsCode = sms.message.match(/\b(\d{6})\b/)[1];
const phoneSession = await account('sessions', (c) => c).updatePhoneSession({ userId: phoneToken.userId, secret: smsCode });
assert.equal(phoneSession.provider, 'phone');
passed++;

// The OAuth2 callback is served without project or credentials and forwards to the redirect
// route with the project added.
const cb = await fetch(`${fn('sessions')}/account/sessions/oauth2/callback/github/${projectId}?code=c1&state=s1`, {
  redirect: 'manual',
});
assert.equal(cb.status, 301);
const forwarded = new URL(cb.headers.get('location'));
assert.equal(forwarded.pathname, '/v1/account/sessions/oauth2/github/redirect');
assert.deepEqual(Object.fromEntries(forwarded.searchParams), { code: 'c1', state: 's1', project: projectId });
passed++;

console.log(`lambda smoke: ${passed} passed, 0 failed`);
