// Drives two functions through the Lambda runtime emulator (cargo lambda watch) with the
// newest node-appwrite: the sessions function signs in anonymously, the profile function
// reads the account with the returned session.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Client, Account } from 'node-appwrite-latest';

const { projectId, apiKey } = JSON.parse(readFileSync(process.env.PROJECT_JSON, 'utf8'));
const base = process.env.WATCH;
const fn = (name) => `${base}/${name}/v1`;

const keyClient = new Client().setEndpoint(fn('sessions')).setProject(projectId).setKey(apiKey);
const session = await new Account(keyClient).createAnonymousSession();
assert.equal(session.provider, 'anonymous');
assert.ok(session.secret.length > 0);

const userClient = new Client().setEndpoint(fn('profile')).setProject(projectId).setSession(session.secret);
const me = await new Account(userClient).get();
assert.equal(me.$id, session.userId);

const sessionsClient = new Client().setEndpoint(fn('sessions')).setProject(projectId).setSession(session.secret);
const list = await new Account(sessionsClient).listSessions();
assert.equal(list.total, 1);
assert.equal(list.sessions[0].current, true);
console.log('lambda smoke: 3 passed, 0 failed');
