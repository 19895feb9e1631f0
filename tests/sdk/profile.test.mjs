// Profile methods of the seed through the official SDKs: name, email, password, phone,
// prefs, status, logs, and phone verification (code read from the outbox).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { accounts, codeIn, expectAppwriteError, lastText, loadConfig, uniqueEmail } from './lib.mjs';

const cfg = loadConfig();

const SDKS = [
  { label: '14', style: 'positional', sdk: await import('node-appwrite-14') },
  { label: '22', style: 'object', sdk: await import('node-appwrite-22') },
  { label: 'latest', style: 'object', sdk: await import('node-appwrite-latest') },
];


const uniquePhone = () => `+1666${(randomBytes(4).readUInt32BE() % 10_000_000).toString().padStart(7, '0')}`;

for (const { label, style, sdk } of SDKS) {
  const { ID } = sdk;
  const { call, withKey, withSession } = accounts(sdk, style, cfg);

  async function signedIn() {
    const email = uniqueEmail('profile');
    await call(withKey(), 'create', { userId: ID.unique(), email, password: 'password123' }, ['userId', 'email', 'password']);
    const s = await call(withKey(), 'createEmailPasswordSession', { email, password: 'password123' }, ['email', 'password']);
    return { email, me: withSession(s.secret) };
  }

  describe(`node-appwrite ${label}: profile`, () => {
    it('updateName, getPrefs, updatePrefs', async () => {
      const { me } = await signedIn();
      assert.equal((await call(me, 'updateName', { name: 'Ada Lovelace' }, ['name'])).name, 'Ada Lovelace');
      assert.deepEqual(JSON.parse(JSON.stringify(await me.getPrefs())), {});
      const updated = await call(me, 'updatePrefs', { prefs: { theme: 'dark' } }, ['prefs']);
      assert.deepEqual(JSON.parse(JSON.stringify(updated.prefs)), { theme: 'dark' });
      assert.equal((await me.getPrefs()).theme, 'dark');
      await expectAppwriteError(call(me, 'updateName', { name: '' }, ['name']), 400, 'general_argument_invalid');
    });

    it('updatePassword needs the old one and the new one signs in', async () => {
      const { email, me } = await signedIn();
      await expectAppwriteError(
        call(me, 'updatePassword', { password: 'brand new phrase', oldPassword: 'wrongpass1' }, ['password', 'oldPassword']),
        401,
        'user_invalid_credentials',
      );
      await call(me, 'updatePassword', { password: 'brand new phrase', oldPassword: 'password123' }, ['password', 'oldPassword']);
      const s = await call(withKey(), 'createEmailPasswordSession', { email, password: 'brand new phrase' }, ['email', 'password']);
      assert.ok(s.secret);
    });

    it('updateEmail moves the address; another user cannot take it', async () => {
      const { me } = await signedIn();
      const { me: other } = await signedIn();
      const next = uniqueEmail('moved');
      const acct = await call(me, 'updateEmail', { email: next, password: 'password123' }, ['email', 'password']);
      assert.equal(acct.email, next);
      assert.equal(acct.emailVerification, false);
      await expectAppwriteError(
        call(other, 'updateEmail', { email: next, password: 'password123' }, ['email', 'password']),
        409,
        'user_target_already_exists',
      );
    });

    it('updatePhone then phone verification by SMS code', async () => {
      const { me } = await signedIn();
      const phone = uniquePhone();
      assert.equal((await call(me, 'updatePhone', { phone, password: 'password123' }, ['phone', 'password'])).phone, phone);
      await me.createPhoneVerification();
      const code = codeIn(await lastText(phone, 'phone_verification'));
      const user = await me.get();
      await call(me, 'updatePhoneVerification', { userId: user.$id, secret: code }, ['userId', 'secret']);
      assert.equal((await me.get()).phoneVerification, true);
    });

    it('listLogs shows the account events, newest first', async () => {
      const { me } = await signedIn();
      await call(me, 'updateName', { name: 'Logged' }, ['name']);
      const { total, logs } = await me.listLogs();
      assert.equal(total, 3);
      assert.deepEqual(logs.map((l) => l.event), ['user.update', 'session.create', 'user.create']);
      assert.equal(logs[0].countryCode, '--', 'loopback has no country');
    });

    it('updateStatus blocks the account at once', async () => {
      const { me } = await signedIn();
      const acct = await me.updateStatus();
      assert.equal(acct.status, false);
      await expectAppwriteError(me.get(), 401, 'user_blocked');
    });
  });
}
