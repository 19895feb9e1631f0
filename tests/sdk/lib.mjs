import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

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
