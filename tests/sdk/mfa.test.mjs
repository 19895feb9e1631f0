// MFA through the official SDKs: enrol TOTP with a code computed from the returned secret,
// turn MFA on, make recovery codes, then sign in again and complete a TOTP challenge.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { accounts, codeIn, expectAppwriteError, lastText, loadConfig, uniqueEmail } from './lib.mjs';

const cfg = loadConfig();

const SDKS = [
  { label: '14', style: 'positional', sdk: await import('node-appwrite-14') },
  { label: '22', style: 'object', sdk: await import('node-appwrite-22') },
  { label: 'latest', style: 'object', sdk: await import('node-appwrite-latest') },
];

function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of s) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s) for the step `offset` steps from now. */
function totp(secret, offset = 0) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + offset));
  const h = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const o = h[h.length - 1] & 0xf;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

for (const { label, style, sdk } of SDKS) {
  const { ID, AuthenticatorType, AuthenticationFactor } = sdk;
  const { call, withKey, withSession } = accounts(sdk, style, cfg);

  describe(`node-appwrite ${label}: MFA`, () => {
    it('TOTP enrolment, MFA gate, TOTP challenge, recovery codes', async () => {
      const email = uniqueEmail('mfa');
      await call(withKey(), 'create', { userId: ID.unique(), email, password: 'password123' }, ['userId', 'email', 'password']);
      const login = () => call(withKey(), 'createEmailPasswordSession', { email, password: 'password123' }, ['email', 'password']);
      const me = withSession((await login()).secret);
      const type = AuthenticatorType.Totp;
      const { secret, uri } = await call(me, 'createMfaAuthenticator', { type }, ['type']);
      assert.match(uri, /^otpauth:\/\/totp\//);
      await call(me, 'updateMfaAuthenticator', { type, otp: totp(secret) }, ['type', 'otp']);
      assert.equal((await call(me, 'updateMFA', { mfa: true }, ['mfa'])).mfa, true);
      const { recoveryCodes } = await me.createMfaRecoveryCodes();
      assert.equal(recoveryCodes.length, 6);

      const second = withSession((await login()).secret);
      await expectAppwriteError(second.get(), 401, 'user_more_factors_required');
      const factors = await second.listMfaFactors();
      assert.equal(factors.totp, true);
      // The SDK enum's lowercase `recoverycode` works as well as `recoveryCode`.
      const ch = await call(second, 'createMfaChallenge', { factor: AuthenticationFactor.Recoverycode }, ['factor']);
      const s = await call(second, 'updateMfaChallenge', { challengeId: ch.$id, otp: recoveryCodes[0] }, ['challengeId', 'otp']);
      assert.deepEqual([...s.factors], ['password', 'recoveryCode']);
      assert.equal((await second.get()).email, email);
      const left = await second.getMfaRecoveryCodes();
      assert.equal(left.recoveryCodes.length, 5);

      const third = withSession((await login()).secret);
      const tc = await call(third, 'createMfaChallenge', { factor: AuthenticationFactor.Totp }, ['factor']);
      await call(third, 'updateMfaChallenge', { challengeId: tc.$id, otp: totp(secret, 1) }, ['challengeId', 'otp']);
      assert.equal((await third.get()).email, email);
      await call(third, 'updateMfaRecoveryCodes', {}, []);
      await call(third, 'deleteMfaAuthenticator', { type }, ['type']);
      assert.equal((await third.listMfaFactors()).totp, false);
    });

    it('email and SMS challenges with codes from the outbox', async () => {
      const email = uniqueEmail('mfa2');
      const user = await call(withKey(), 'create', { userId: ID.unique(), email, password: 'password123' }, ['userId', 'email', 'password']);
      const login = () => call(withKey(), 'createEmailPasswordSession', { email, password: 'password123' }, ['email', 'password']);
      const me = withSession((await login()).secret);
      const verify = style === 'object' ? ['createEmailVerification', 'updateEmailVerification'] : ['createVerification', 'updateVerification'];
      await call(me, verify[0], { url: 'http://localhost:3000/v' }, ['url']);
      const link = new URL((await lastText(email, 'verification')).match(/https?:\/\/\S+/)[0]);
      await call(me, verify[1], { userId: user.$id, secret: link.searchParams.get('secret') }, ['userId', 'secret']);
      const phone = `+1777${String(Math.floor(Math.random() * 10_000_000)).padStart(7, '0')}`;
      await call(me, 'updatePhone', { phone, password: 'password123' }, ['phone', 'password']);
      await me.createPhoneVerification();
      const pcode = codeIn(await lastText(phone, 'phone_verification'));
      await call(me, 'updatePhoneVerification', { userId: user.$id, secret: pcode }, ['userId', 'secret']);
      await call(me, 'updateMFA', { mfa: true }, ['mfa']);

      const second = withSession((await login()).secret);
      await expectAppwriteError(second.get(), 401, 'user_more_factors_required');
      const ec = await call(second, 'createMfaChallenge', { factor: AuthenticationFactor.Email }, ['factor']);
      const ecode = codeIn(await lastText(email, 'mfa_challenge'));
      await call(second, 'updateMfaChallenge', { challengeId: ec.$id, otp: ecode }, ['challengeId', 'otp']);
      assert.equal((await second.get()).$id, user.$id);

      const third = withSession((await login()).secret);
      const pc = await call(third, 'createMfaChallenge', { factor: AuthenticationFactor.Phone }, ['factor']);
      const scode = codeIn(await lastText(phone, 'mfa_challenge_sms'));
      await call(third, 'updateMfaChallenge', { challengeId: pc.$id, otp: scode }, ['challengeId', 'otp']);
      assert.equal((await third.get()).$id, user.$id);
    });
  });
}
