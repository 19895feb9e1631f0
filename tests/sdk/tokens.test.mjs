// Passwordless flows and JWTs through the official SDKs, reading codes and links from the
// local outbox as a person reads their inbox.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { accounts, codeIn, expectAppwriteError, loadConfig, uniqueEmail } from './lib.mjs';

const cfg = loadConfig();
const outboxPath =
  process.env.OUTBOX_JSONL ?? join(dirname(process.env.LOCAL_PROJECT_JSON ?? '.'), 'outbox.jsonl');

const SDKS = [
  { label: '14', style: 'positional', sdk: await import('node-appwrite-14') },
  { label: '22', style: 'object', sdk: await import('node-appwrite-22') },
  { label: 'latest', style: 'object', sdk: await import('node-appwrite-latest') },
];

/** The newest outbox message to `to` of `kind`, waiting briefly for it to land. */
async function lastMessage(to, kind) {
  for (let i = 0; i < 50; i++) {
    if (existsSync(outboxPath)) {
      const lines = readFileSync(outboxPath, 'utf8').trim().split('\n').filter(Boolean);
      const found = lines.map((l) => JSON.parse(l)).filter((m) => m.to === to && m.kind === kind);
      if (found.length) return found.at(-1);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no ${kind} message to ${to} in ${outboxPath}`);
}

const uniquePhone = () => `+1555${(randomBytes(4).readUInt32BE() % 10_000_000).toString().padStart(7, '0')}`;

for (const { label, style, sdk } of SDKS) {
  const { Account, ID } = sdk;
  const { call, client, guest, withKey, withSession } = accounts(sdk, style, cfg);

  describe(`node-appwrite ${label}: passwordless and JWT`, () => {
    it('email OTP: createEmailToken → code from the outbox → createSession', async () => {
      const email = uniqueEmail('otp');
      const token = await call(guest(), 'createEmailToken', { userId: ID.unique(), email }, ['userId', 'email']);
      assert.equal(token.secret, '', 'clients never see the code');
      const mail = await lastMessage(email, 'email_otp');
      assert.equal(mail.channel, 'email');
      const code = codeIn(mail.text);
      assert.ok(code, mail.text);
      await expectAppwriteError(
        call(withKey(), 'createSession', { userId: token.userId, secret: '000000' === code ? '111111' : '000000' }, ['userId', 'secret']),
        401,
        'user_invalid_token',
      );
      const session = await call(withKey(), 'createSession', { userId: token.userId, secret: code }, ['userId', 'secret']);
      assert.equal(session.provider, 'token');
      assert.deepEqual([...session.factors], ['email']);
      const me = await withSession(session.secret).get();
      assert.equal(me.email, email);
      assert.equal(me.emailVerification, true);
      await expectAppwriteError(
        call(withKey(), 'createSession', { userId: token.userId, secret: code }, ['userId', 'secret']),
        401,
        'user_invalid_token',
      );
    });

    it('magic URL: createMagicURLToken → link → updateMagicURLSession', async () => {
      const email = uniqueEmail('magic');
      const url = 'http://localhost:3000/auth/callback?from=mail';
      const token = await call(guest(), 'createMagicURLToken', { userId: ID.unique(), email, url }, ['userId', 'email', 'url']);
      const mail = await lastMessage(email, 'magic_url');
      const link = new URL(mail.text.match(/https?:\/\/\S+/)[0]);
      assert.equal(link.origin + link.pathname, 'http://localhost:3000/auth/callback');
      assert.equal(link.searchParams.get('from'), 'mail');
      assert.equal(link.searchParams.get('userId'), token.userId);
      assert.equal(link.searchParams.get('project'), cfg.project);
      const secret = link.searchParams.get('secret');
      assert.match(secret, /^[0-9a-f]{64}$/);
      const session = await call(withKey(), 'updateMagicURLSession', { userId: token.userId, secret }, ['userId', 'secret']);
      assert.equal(session.provider, 'magic-url');
      assert.equal((await withSession(session.secret).get()).email, email);
    });

    it('magic URL to a foreign host is refused', async () => {
      await expectAppwriteError(
        call(guest(), 'createMagicURLToken', { userId: ID.unique(), email: uniqueEmail('evil'), url: 'https://evil.example/steal' }, ['userId', 'email', 'url']),
        400,
        'general_argument_invalid',
      );
    });

    it('phone OTP: createPhoneToken → SMS → updatePhoneSession', async () => {
      const phone = uniquePhone();
      const token = await call(guest(), 'createPhoneToken', { userId: ID.unique(), phone }, ['userId', 'phone']);
      const sms = await lastMessage(phone, 'phone_otp');
      assert.equal(sms.channel, 'sms');
      const code = codeIn(sms.text);
      const session = await call(withKey(), 'updatePhoneSession', { userId: token.userId, secret: code }, ['userId', 'secret']);
      assert.equal(session.provider, 'phone');
      const me = await withSession(session.secret).get();
      assert.equal(me.phone, phone);
      assert.equal(me.phoneVerification, true);
    });

    it('JWT: createJWT → setJWT → get(); dies with its session', async () => {
      const email = uniqueEmail('jwt');
      await call(withKey(), 'create', { userId: ID.unique(), email, password: 'password123' }, ['userId', 'email', 'password']);
      const session = await call(withKey(), 'createEmailPasswordSession', { email, password: 'password123' }, ['email', 'password']);
      const { jwt } = await withSession(session.secret).createJWT();
      assert.equal(jwt.split('.').length, 3);
      const viaJwt = new Account(client().setJWT(jwt));
      assert.equal((await viaJwt.get()).email, email);
      await withSession(session.secret).deleteSession('current');
      await expectAppwriteError(viaJwt.get(), 401, 'general_unauthorized_scope');
      const tampered = jwt.slice(0, -2) + (jwt.endsWith('A') ? 'BB' : 'AA');
      await expectAppwriteError(new Account(client().setJWT(tampered)).get(), 401, 'user_jwt_invalid');
    });
  });
}
