// Email verification and password recovery through the official SDKs, reading links from
// the local outbox as a person reads their inbox.
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { accounts, expectAppwriteError, loadConfig, uniqueEmail } from './lib.mjs';

const cfg = loadConfig();
const outboxPath =
  process.env.OUTBOX_JSONL ?? join(dirname(process.env.LOCAL_PROJECT_JSON ?? '.'), 'outbox.jsonl');

const SDKS = [
  { label: '14', style: 'positional', sdk: await import('node-appwrite-14'), emailVerify: ['createVerification', 'updateVerification'] },
  { label: '22', style: 'object', sdk: await import('node-appwrite-22'), emailVerify: ['createEmailVerification', 'updateEmailVerification'] },
  { label: 'latest', style: 'object', sdk: await import('node-appwrite-latest'), emailVerify: ['createEmailVerification', 'updateEmailVerification'] },
];

async function linkTo(to, kind) {
  for (let i = 0; i < 50; i++) {
    if (existsSync(outboxPath)) {
      const found = readFileSync(outboxPath, 'utf8').trim().split('\n').filter(Boolean)
        .map((l) => JSON.parse(l)).filter((m) => m.to === to && m.kind === kind);
      if (found.length) return new URL(found.at(-1).text.match(/https?:\/\/\S+/)[0]);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no ${kind} message to ${to}`);
}

for (const { label, style, sdk, emailVerify } of SDKS) {
  const { ID } = sdk;
  const { call, guest, withKey, withSession } = accounts(sdk, style, cfg);

  describe(`node-appwrite ${label}: verification and recovery`, () => {
    it('email verification: link from the outbox verifies the address', async () => {
      const email = uniqueEmail('verify');
      const user = await call(withKey(), 'create', { userId: ID.unique(), email, password: 'password123' }, ['userId', 'email', 'password']);
      const session = await call(withKey(), 'createEmailPasswordSession', { email, password: 'password123' }, ['email', 'password']);
      const me = withSession(session.secret);
      const token = await call(me, emailVerify[0], { url: 'http://localhost:3000/verify' }, ['url']);
      assert.equal(token.secret, '');
      const link = await linkTo(email, 'verification');
      assert.equal(link.searchParams.get('userId'), user.$id);
      await call(guest(), emailVerify[1], { userId: user.$id, secret: link.searchParams.get('secret') }, ['userId', 'secret']);
      assert.equal((await me.get()).emailVerification, true);
      await expectAppwriteError(
        call(me, emailVerify[0], { url: 'https://evil.example/verify' }, ['url']),
        400,
        'general_argument_invalid',
      );
    });

    it('recovery: link → new password signs in, old sessions are gone', async () => {
      const email = uniqueEmail('recover');
      const user = await call(withKey(), 'create', { userId: ID.unique(), email, password: 'password123' }, ['userId', 'email', 'password']);
      const old = await call(withKey(), 'createEmailPasswordSession', { email, password: 'password123' }, ['email', 'password']);
      await call(guest(), 'createRecovery', { email, url: 'http://localhost:3000/reset' }, ['email', 'url']);
      const link = await linkTo(email, 'recovery');
      const secret = link.searchParams.get('secret');
      await call(guest(), 'updateRecovery', { userId: user.$id, secret, password: 'new passphrase 2026' }, ['userId', 'secret', 'password']);
      await expectAppwriteError(withSession(old.secret).get(), 401, 'general_unauthorized_scope');
      const fresh = await call(withKey(), 'createEmailPasswordSession', { email, password: 'new passphrase 2026' }, ['email', 'password']);
      assert.equal((await withSession(fresh.secret).get()).$id, user.$id);
      await expectAppwriteError(
        call(guest(), 'updateRecovery', { userId: user.$id, secret, password: 'third passphrase 2026' }, ['userId', 'secret', 'password']),
        401,
        'user_invalid_token',
      );
    });
  });
}
