// A real OpenID Provider for the OAuth2 tests: oidc-provider (a certified implementation)
// on loopback, with one confidential client registered three times (basic and post client
// authentication with PKCE required; post without PKCE, as Sign in with Apple works),
// refresh tokens, ID tokens that carry the profile claims (Microsoft and Apple read only
// the ID token), and the dev login/consent pages. The login name decides the account:
//   "<email>"             → sub "<email>", email "<email>", email_verified true
//   "unverified:<email>"  → sub "unverified:<email>", email "<email>", email_verified false
// (`xms_edov`, Microsoft's "email domain owner verified" claim, follows email_verified.)
import Provider from 'oidc-provider';
import { APPLE_CLIENT_ID, CLIENT_ID, CLIENT_SECRET, POST_CLIENT_ID } from './idp-providers.mjs';

export function accountClaims(id) {
  const unverified = id.startsWith('unverified:');
  const email = unverified ? id.slice('unverified:'.length) : id;
  return { sub: id, email, email_verified: !unverified, xms_edov: !unverified, name: `IdP ${email.split('@')[0]}` };
}

/** Starts the provider on 127.0.0.1:`port`, accepting `redirectUris`; resolves to a stop(). */
export async function startIdp(port, redirectUris) {
  const issuer = `http://127.0.0.1:${port}`;
  const oidc = new Provider(issuer, {
    clients: [
      ['client_secret_basic', CLIENT_ID],
      ['client_secret_post', POST_CLIENT_ID],
      ['client_secret_post', APPLE_CLIENT_ID],
    ].map(([method, id]) => ({
      client_id: id,
      client_secret: CLIENT_SECRET,
      redirect_uris: redirectUris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: method,
    })),
    features: { devInteractions: { enabled: true } },
    pkce: { required: (_ctx, client) => client.clientId !== APPLE_CLIENT_ID },
    conformIdTokenClaims: false,
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
    findAccount: async (ctx, id) => ({ accountId: id, claims: async () => accountClaims(id) }),
    claims: { openid: ['sub'], email: ['email', 'email_verified', 'xms_edov'], profile: ['name'] },
    ttl: { AccessToken: 3600, AuthorizationCode: 60, RefreshToken: 86400, Grant: 86400, Session: 3600, Interaction: 600 },
  });
  // Silence the dev-mode warnings; failures still surface in the flows.
  oidc.on('server_error', (_ctx, err) => console.error('idp server_error', err));
  const server = oidc.listen(port, '127.0.0.1');
  await new Promise((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  // close() alone waits for keep-alive connections the server under test may still hold.
  return () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
}

const unescapeHtml = (s) =>
  s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/**
 * A minimal browser: keeps cookies per host (honouring Max-Age=0 deletions), follows
 * redirects by hand, sends the navigation headers real browsers send, and fills the IdP's
 * login and consent forms. `go(url)` returns the first URL outside the API and the IdP
 * (the app's success or failure page), or the final response when a page answers.
 */
export class Browser {
  constructor(stopAt) {
    this.stopAt = stopAt;
    this.jar = new Map();
    /** Every request sent, as "METHOD url". */
    this.log = [];
  }

  cookiesFor(url) {
    const host = new URL(url).host;
    const jar = this.jar.get(host) ?? new Map();
    return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  keep(url, res) {
    const host = new URL(url).host;
    const jar = this.jar.get(host) ?? new Map();
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      const gone = attrs.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a)) || value === '';
      if (gone) jar.delete(name);
      else jar.set(name, value);
    }
    this.jar.set(host, jar);
  }

  async request(url, { method = 'GET', body, headers = {} } = {}) {
    this.log.push(`${method} ${url}`);
    const res = await fetch(url, {
      method,
      body,
      redirect: 'manual',
      headers: {
        accept: 'text/html,application/xhtml+xml',
        'sec-fetch-mode': 'navigate',
        'sec-fetch-dest': 'document',
        cookie: this.cookiesFor(url),
        ...headers,
      },
    });
    this.keep(url, res);
    return res;
  }

  /** Navigates from `url`, filling the IdP's forms as `login`. */
  async go(url, { login, method = 'GET', body, headers } = {}) {
    let current = url;
    let opts = { method, body, headers };
    for (let hop = 0; hop < 20; hop++) {
      if (this.stopAt.some((p) => current.startsWith(p))) return { url: current };
      const res = await this.request(current, opts);
      opts = {};
      if (res.status >= 300 && res.status < 400) {
        current = new URL(res.headers.get('location'), current).toString();
        continue;
      }
      const text = await res.text();
      const form = text.match(/<form[^>]*action="([^"]+)"/);
      const hidden = [...text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)];
      if (form && hidden.length && !text.includes('name="prompt"')) {
        // A form_post response (the IdP's self-submitting page): post its fields.
        const fields = hidden.map(([, k, v]) => [k, unescapeHtml(v)]);
        opts = {
          method: 'POST',
          body: new URLSearchParams(fields).toString(),
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        };
        current = new URL(unescapeHtml(form[1]), current).toString();
        continue;
      }
      if (res.status === 200 && form && login !== undefined) {
        const action = new URL(form[1].replace(/&amp;/g, '&'), current).toString();
        const fields = text.includes('name="login"')
          ? { prompt: 'login', login, password: 'any' }
          : { prompt: 'consent' };
        opts = {
          method: 'POST',
          body: new URLSearchParams(fields).toString(),
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        };
        current = action;
        continue;
      }
      return { url: current, status: res.status, text };
    }
    throw new Error(`too many redirects from ${url}`);
  }
}
