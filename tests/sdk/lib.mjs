import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const ISO_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/;

export function loadConfig(env = process.env) {
  let endpoint, project, key;
  if (env.LOCAL_PROJECT_JSON) {
    const json = JSON.parse(readFileSync(env.LOCAL_PROJECT_JSON, 'utf8'));
    ({ endpoint, projectId: project, apiKey: key } = json);
  } else {
    ({ APPWRITE_ENDPOINT: endpoint, APPWRITE_PROJECT: project, APPWRITE_KEY: key } = env);
  }
  if (!endpoint || !project || !key) {
    throw new Error(
      'Set APPWRITE_ENDPOINT, APPWRITE_PROJECT and APPWRITE_KEY, ' +
        'or LOCAL_PROJECT_JSON pointing to {endpoint, projectId, apiKey}',
    );
  }
  return { endpoint: endpoint.replace(/\/+$/, ''), project, key };
}

/**
 * Account factories for one SDK generation against `cfg`, and `call`, which passes
 * parameters as one object (`object` style, SDK 17+) or positionally in `order`.
 */
export function accounts(sdk, style, cfg) {
  const { Client, Account } = sdk;
  const client = () => new Client().setEndpoint(cfg.endpoint).setProject(cfg.project);
  return {
    call: (account, method, params, order) =>
      style === 'object' ? account[method](params) : account[method](...order.map((k) => params[k])),
    client,
    guest: () => new Account(client()),
    withKey: () => new Account(client().setKey(cfg.key)),
    withSession: (secret) => new Account(client().setSession(secret)),
  };
}

/** The callback URL a provider sends the browser back to, for the project of `cfg`. */
export const callbackFor = (cfg, provider) =>
  `${cfg.endpoint}/account/sessions/oauth2/callback/${provider}/${cfg.project}`;

/** The six-digit code in a message text, or undefined. */
export const codeIn = (text) => text.match(/\b(\d{6})\b/)?.[1];

export function uniqueEmail(prefix = 'u') {
  return `${prefix}-${Date.now()}-${randomBytes(4).toString('hex')}@example.com`;
}

export async function expectAppwriteError(promise, code, type) {
  let err;
  await assert.rejects(promise, (e) => {
    err = e;
    return true;
  });
  const got = `got ${err?.name} ${err?.code} ${err?.type}: ${err?.message}`;
  assert.equal(err?.name, 'AppwriteException', got);
  assert.equal(err.code, code, got);
  assert.equal(err.type, type, got);
  return err;
}

/** The local server's outbox (every email and SMS it sent), beside local-project.json. */
const outboxPath = () =>
  process.env.OUTBOX_JSONL ?? join(dirname(process.env.LOCAL_PROJECT_JSON ?? '.'), 'outbox.jsonl');

/** Text of the newest outbox message of `kind` to `to`, waiting up to 2.5 s for it. */
export async function lastText(to, kind) {
  for (let i = 0; i < 50; i++) {
    if (existsSync(outboxPath())) {
      const found = readFileSync(outboxPath(), 'utf8').trim().split('\n').filter(Boolean)
        .map((l) => JSON.parse(l)).filter((m) => m.to === to && m.kind === kind);
      if (found.length) return found.at(-1).text;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no ${kind} message to ${to}`);
}
