// The OAuth2 providers the test servers configure against the test IdP (idp.mjs): generic
// `oidc` by discovery, and the OIDC-family presets, Google, Microsoft and Apple through
// their endpoint overrides (the way self-hosted instances are configured). `github` is present but
// disabled. Run as a script, prints the `--oauth2 NAME=JSON` arguments of appwrite-local,
// one per line.
export const CLIENT_ID = 'appwrite-account-tests';
/** The same application registered for `client_secret_post` (Auth0, Authentik, Google). */
export const POST_CLIENT_ID = 'appwrite-account-tests-post';
/** Registered without PKCE, for Apple (which does not use it; its callback is a form_post). */
export const APPLE_CLIENT_ID = 'appwrite-account-tests-apple';
export const CLIENT_SECRET = 'idp-test-secret-0123456789';

export function providerSettings(port) {
  const idp = `http://127.0.0.1:${port}`;
  const overrides = { authorizeUrl: `${idp}/auth`, tokenUrl: `${idp}/token`, userinfoUrl: `${idp}/me`, issuer: idp };
  const basic = (options) => ({ enabled: true, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, options });
  const post = (options) => ({ enabled: true, clientId: POST_CLIENT_ID, clientSecret: CLIENT_SECRET, options });
  return {
    oidc: basic({ wellKnownUrl: `${idp}/.well-known/openid-configuration` }),
    keycloak: basic({ endpoint: idp, realm: 'tests', ...overrides }),
    okta: basic({ domain: idp, ...overrides }),
    auth0: post({ domain: idp, ...overrides }),
    authentik: post({ endpoint: idp, ...overrides }),
    google: post(overrides),
    // Profile from the ID token alone: no userinfo endpoint.
    microsoft: post({ authorizeUrl: overrides.authorizeUrl, tokenUrl: overrides.tokenUrl, issuer: idp }),
    apple: {
      enabled: true,
      clientId: APPLE_CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      options: { authorizeUrl: overrides.authorizeUrl, tokenUrl: overrides.tokenUrl, issuer: idp },
    },
    github: { enabled: false, clientId: 'x', clientSecret: 'y', options: {} },
  };
}

/** Providers exercised end to end (every enabled one). */
export const E2E_PROVIDERS = ['oidc', 'keycloak', 'okta', 'auth0', 'authentik', 'google', 'microsoft', 'apple'];

/** Scopes a provider's start needs on top of its defaults with this IdP (Apple's defaults
 * lack `openid`, which the real Apple does not need for an ID token). */
export const EXTRA_SCOPES = { apple: ['openid'] };

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.IDP_PORT ?? 3900);
  for (const [name, settings] of Object.entries(providerSettings(port))) {
    console.log('--oauth2');
    console.log(`${name}=${JSON.stringify(settings)}`);
  }
}
