import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ISO_DATE, expectAppwriteError, loadConfig, uniqueEmail } from './lib.mjs';

const cfg = loadConfig();
const PASSWORD = 'password123';
const plain = (value) => JSON.parse(JSON.stringify(value));

const SDKS = [
  { label: '14', major: 14, style: 'positional', sdk: await import('node-appwrite-14') },
  { label: '22', major: 22, style: 'object', sdk: await import('node-appwrite-22') },
  { label: 'latest', major: 27, style: 'object', sdk: await import('node-appwrite-latest') },
];

function accountApi(account, style) {
  const call = (method, params, order) =>
    style === 'object'
      ? account[method](params)
      : account[method](...order.map((name) => params[name]));
  return {
    get: () => account.get(),
    listSessions: () => account.listSessions(),
    deleteSessions: () => account.deleteSessions(),
    createAnonymousSession: () => account.createAnonymousSession(),
    create: (p) => call('create', p, ['userId', 'email', 'password', 'name']),
    createEmailPasswordSession: (p) => call('createEmailPasswordSession', p, ['email', 'password']),
    getSession: (sessionId) => call('getSession', { sessionId }, ['sessionId']),
    updateSession: (sessionId) => call('updateSession', { sessionId }, ['sessionId']),
    deleteSession: (sessionId) => call('deleteSession', { sessionId }, ['sessionId']),
  };
}

function chain() {
  let failed = false;
  return (name, fn) =>
    it(name, async (t) => {
      if (failed) return t.skip('an earlier step in this flow failed');
      try {
        await fn();
      } catch (err) {
        failed = true;
        throw err;
      }
    });
}

for (const { label, major, style, sdk } of SDKS) {
  const { Client, Account, ID, AppwriteException } = sdk;

  const base = () => new Client().setEndpoint(cfg.endpoint);
  const keyAccount = () => accountApi(new Account(base().setProject(cfg.project).setKey(cfg.key)), style);
  const sessionAccount = (secret) =>
    accountApi(new Account(base().setProject(cfg.project).setSession(secret)), style);
  const guestAccount = (project = cfg.project) => accountApi(new Account(base().setProject(project)), style);

  describe(`node-appwrite ${label}`, () => {
    it(`loads SDK major ${major}`, () => {
      assert.equal(Number(new Client().headers['x-sdk-version'].split('.')[0]), major);
    });

    describe('email/password account and sessions', () => {
      const step = chain();
      const email = uniqueEmail(`sdk${major}`);
      const name = `SDK ${label} user`;
      const userId = ID.unique();
      let keyApi, user, session, sessionApi, secondId;

      step('account.create returns the new user', async () => {
        keyApi = keyAccount();
        user = await keyApi.create({ userId, email, password: PASSWORD, name });
        assert.equal(user.$id, userId);
        assert.equal(user.email.toLowerCase(), email.toLowerCase());
        assert.equal(user.name, name);
        assert.equal(user.status, true);
        assert.equal(user.emailVerification, false);
        assert.deepEqual(user.labels, []);
        assert.deepEqual(plain(user.prefs), {});
        assert.match(user.$createdAt, ISO_DATE);
      });

      step('account.create with a taken email is 409 user_already_exists', async () => {
        const err = await expectAppwriteError(
          keyApi.create({ userId: ID.unique(), email, password: PASSWORD, name }),
          409,
          'user_already_exists',
        );
        assert.ok(err instanceof AppwriteException);
      });

      step('account.create with a 7-character password is 400 general_argument_invalid', async () => {
        await expectAppwriteError(
          keyApi.create({ userId: ID.unique(), email: uniqueEmail(`short${major}`), password: 'pass123', name }),
          400,
          'general_argument_invalid',
        );
      });

      step('createEmailPasswordSession with the key client returns the secret', async () => {
        session = await keyApi.createEmailPasswordSession({ email, password: PASSWORD });
        assert.equal(session.current, true);
        assert.equal(session.provider, 'email');
        assert.equal(session.userId, userId);
        assert.equal(typeof session.secret, 'string');
        assert.ok(session.secret.length > 0);
        assert.deepEqual(session.factors, ['password']);
        assert.match(session.expire, ISO_DATE);
        assert.ok(Date.parse(session.expire) > Date.now());
      });

      step('createEmailPasswordSession rejects bad credentials', async () => {
        await expectAppwriteError(
          keyApi.createEmailPasswordSession({ email, password: 'wrong-password' }),
          401,
          'user_invalid_credentials',
        );
        await expectAppwriteError(
          keyApi.createEmailPasswordSession({ email, password: 'pass123' }),
          400,
          'general_argument_invalid',
        );
      });

      step('get() with the session client returns the user', async () => {
        sessionApi = sessionAccount(session.secret);
        const me = await sessionApi.get();
        assert.equal(me.$id, userId);
        assert.equal(me.email, user.email);
      });

      step('listSessions() marks the current session and hides secrets', async () => {
        const list = await sessionApi.listSessions();
        assert.ok(list.total >= 1);
        const mine = list.sessions.find((s) => s.$id === session.$id);
        assert.ok(mine, 'current session is listed');
        assert.equal(mine.current, true);
        assert.equal(mine.secret, '');
      });

      step("getSession('current') and getSession(id) return the session", async () => {
        for (const id of ['current', session.$id]) {
          const got = await sessionApi.getSession(id);
          assert.equal(got.$id, session.$id);
          assert.equal(got.current, true);
        }
      });

      step("updateSession('current') keeps the id and does not shorten expiry", async () => {
        const updated = await sessionApi.updateSession('current');
        assert.equal(updated.$id, session.$id);
        assert.match(updated.expire, ISO_DATE);
        assert.ok(Date.parse(updated.expire) >= Date.parse(session.expire));
      });

      step('deleteSession(id) removes another session', async () => {
        const second = await keyApi.createEmailPasswordSession({ email, password: PASSWORD });
        secondId = second.$id;
        assert.notEqual(secondId, session.$id);
        await sessionApi.deleteSession(secondId);
        const list = await sessionApi.listSessions();
        assert.ok(!list.sessions.some((s) => s.$id === secondId));
        await expectAppwriteError(sessionApi.getSession(secondId), 404, 'user_session_not_found');
      });

      step('deleteSessions() signs the client out', async () => {
        await sessionApi.deleteSessions();
        await expectAppwriteError(sessionApi.get(), 401, 'general_unauthorized_scope');
      });
    });

    describe('guest and anonymous sessions', () => {
      const step = chain();
      let anonApi;

      it('get() as a guest is 401 general_unauthorized_scope', async () => {
        await expectAppwriteError(guestAccount().get(), 401, 'general_unauthorized_scope');
      });

      step('createAnonymousSession() as a guest does not expose the secret', async () => {
        const anon = await guestAccount().createAnonymousSession();
        assert.equal(anon.provider, 'anonymous');
        assert.equal(anon.secret, '');
        assert.equal(typeof anon.userId, 'string');
        assert.ok(anon.userId.length > 0);
      });

      step('createAnonymousSession() with the key client returns a usable secret', async () => {
        const anon = await keyAccount().createAnonymousSession();
        assert.equal(anon.provider, 'anonymous');
        assert.equal(typeof anon.secret, 'string');
        assert.ok(anon.secret.length > 0);
        anonApi = sessionAccount(anon.secret);
        const me = await anonApi.get();
        assert.equal(me.$id, anon.userId);
        assert.equal(me.email, '');
        assert.equal(me.passwordUpdate, '');
      });

      step("deleteSession('current') signs the anonymous client out", async () => {
        await anonApi.deleteSession('current');
        await expectAppwriteError(anonApi.get(), 401, 'general_unauthorized_scope');
      });
    });

    it('an unknown project is 404 project_not_found', async () => {
      await expectAppwriteError(guestAccount('no-such-project').get(), 404, 'project_not_found');
    });
  });
}
