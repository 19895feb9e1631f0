//! Fixture-driven tests: recorded-shape provider answers, RFC vectors, URL and body shapes.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use super::oidc::apple_client_secret;
use super::*;

type R = Result<(), Box<dyn std::error::Error>>;

const NOW: i64 = 1_700_000_000;
const REDIRECT: &str = "https://api.example.com/v1/account/sessions/oauth2/callback/google/p1";

fn settings(options: Value) -> ProviderSettings {
    let options = match options {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    ProviderSettings {
        enabled: true,
        client_id: "client-1".into(),
        client_secret: "s3cr:et/+".into(),
        options,
    }
}

fn get(name: &str) -> Result<Box<dyn Provider>, String> {
    provider(name).ok_or_else(|| format!("no provider {name}"))
}

/// An unsigned compact JWS with `claims` as payload (the signature is never checked).
fn jwt(claims: Value) -> String {
    let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#);
    let p = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{h}.{p}.c2lnbmF0dXJl")
}

fn tokens_with(id_token: Option<String>) -> TokenSet {
    TokenSet {
        access_token: "at-1".into(),
        id_token,
        ..TokenSet::default()
    }
}

/// Query parameters of a URL, decoded.
fn query(url: &str) -> Vec<(String, String)> {
    let q = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    serde_urlencoded::from_str(q).unwrap_or_default()
}

fn param(pairs: &[(String, String)], k: &str) -> Option<String> {
    pairs.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone())
}

fn google_claims() -> Value {
    json!({
        "iss": "https://accounts.google.com",
        "azp": "client-1",
        "aud": "client-1",
        "sub": "110169484474386276334",
        "email": "ada@example.com",
        "email_verified": true,
        "at_hash": "HK6E_P6Dh8Y93mRNtsDB1Q",
        "name": "Ada Lovelace",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "iat": NOW - 10,
        "exp": NOW + 3590
    })
}

fn google_profile(claims: Value) -> Result<Profile, OAuthError> {
    let p = Google;
    let mut t = tokens_with(Some(jwt(claims)));
    p.validate_id_token(&settings(json!({})), &mut t, NOW)?;
    p.parse_profile(None, &t, None)
}

// --- registry -------------------------------------------------------------------------------

#[test]
fn registry_knows_every_listed_name_and_nothing_else() {
    for name in PROVIDERS {
        assert_eq!(provider(name).map(|p| p.name()), Some(*name));
    }
    assert!(provider("unknown").is_none());
    assert!(provider("Google").is_none(), "names are case-sensitive");
    assert!(provider("").is_none());
}

// --- RFC vectors ----------------------------------------------------------------------------

#[test]
fn pkce_rfc7636_appendix_b() {
    assert_eq!(
        pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        // The value printed in RFC 7636 Appendix B (the brief's differed after 21 chars).
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
}

#[test]
fn pkce_pairs_are_random_and_consistent() -> R {
    let (v1, c1) = pkce_pair()?;
    let (v2, _) = pkce_pair()?;
    assert_eq!(v1.len(), 43);
    assert!(
        v1.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(c1, pkce_challenge(&v1));
    assert_ne!(v1, v2);
    let (d1, dc1) = derive_pkce(b"key", "nonce-a");
    assert_eq!(derive_pkce(b"key", "nonce-a"), (d1.clone(), dc1.clone()));
    assert_eq!(d1.len(), 43);
    assert_eq!(dc1, pkce_challenge(&d1));
    assert_ne!(derive_pkce(b"key", "nonce-b").0, d1);
    assert_ne!(derive_pkce(b"other", "nonce-a").0, d1);
    Ok(())
}

#[test]
fn hmac_rfc4231() {
    // Test case 2.
    assert_eq!(
        hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    // Test case 6 (key longer than a block is hashed first).
    assert_eq!(
        hex::encode(hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First"
        )),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
}

// --- state ----------------------------------------------------------------------------------

#[test]
fn state_round_trip_tamper_and_expiry() -> R {
    let key = b"server-state-key";
    let mut st = StateData::new("p1", "https://app/ok", "https://app/fail", true, Some("u1"))?;
    st.pkce_verifier = Some("v".into());
    assert_eq!(st.nonce.len(), 32);
    let sealed = seal_state(key, &st, NOW);
    assert!(
        sealed
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    );

    let opened = open_state(key, &sealed, NOW + STATE_TTL_S - 1)?;
    assert_eq!(opened.exp, NOW + STATE_TTL_S);
    assert_eq!(
        StateData {
            exp: 0,
            ..opened.clone()
        },
        st
    );
    assert!(opened.matches_cookie(&st.nonce));
    assert!(!opened.matches_cookie("other"));
    assert!(!opened.matches_cookie(""));

    assert_eq!(
        open_state(key, &sealed, NOW + STATE_TTL_S),
        Err(OAuthError::ExpiredState)
    );
    assert_eq!(
        open_state(b"other-key", &sealed, NOW),
        Err(OAuthError::InvalidState)
    );

    // Same MAC, edited body: success URL swapped.
    let (body, mac) = sealed.split_once('.').ok_or("no dot")?;
    let json = String::from_utf8(URL_SAFE_NO_PAD.decode(body)?)?;
    let forged = URL_SAFE_NO_PAD.encode(json.replace("https://app/ok", "https://evil/ok"));
    assert_eq!(
        open_state(key, &format!("{forged}.{mac}"), NOW),
        Err(OAuthError::InvalidState)
    );
    // Edited MAC, truncated and malformed values.
    let mut bad_mac = URL_SAFE_NO_PAD.decode(mac)?;
    bad_mac[0] ^= 1;
    let bad = format!("{body}.{}", URL_SAFE_NO_PAD.encode(bad_mac));
    assert_eq!(open_state(key, &bad, NOW), Err(OAuthError::InvalidState));
    for junk in [
        "",
        ".",
        body,
        "{\"success\":\"x\"}",
        &sealed[..sealed.len() - 2],
    ] {
        assert_eq!(
            open_state(key, junk, NOW),
            Err(OAuthError::InvalidState),
            "{junk}"
        );
    }
    // Appwrite's plain JSON state is not accepted.
    let plain = r#"{"success":"https://app/ok","failure":"","token":false}"#;
    assert_eq!(open_state(key, plain, NOW), Err(OAuthError::InvalidState));
    Ok(())
}

// --- discovery ------------------------------------------------------------------------------

const DISCOVERY: &str = r#"{
  "issuer": "https://id.example.com",
  "authorization_endpoint": "https://id.example.com/oauth2/authorize",
  "token_endpoint": "https://id.example.com/oauth2/token",
  "userinfo_endpoint": "https://id.example.com/oauth2/userinfo",
  "jwks_uri": "https://id.example.com/.well-known/jwks.json",
  "response_types_supported": ["code", "id_token", "code id_token"],
  "subject_types_supported": ["public"],
  "id_token_signing_alg_values_supported": ["RS256"],
  "scopes_supported": ["openid", "email", "profile"],
  "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
  "code_challenge_methods_supported": ["S256"],
  "claims_supported": ["sub", "email", "email_verified", "name"]
}"#;

#[test]
fn discovery_parses_and_configures_oidc() -> R {
    let d = parse_discovery(DISCOVERY)?;
    assert_eq!(d.issuer, "https://id.example.com");
    assert_eq!(d.code_challenge_methods_supported, vec!["S256"]);

    let p = Oidc;
    let mut s = settings(json!({"issuer": "https://id.example.com/"}));
    assert_eq!(
        p.discovery_url(&s).as_deref(),
        Some("https://id.example.com/.well-known/openid-configuration")
    );
    assert!(matches!(
        p.authorize_url(&s, REDIRECT, "st", None, &[]),
        Err(OAuthError::Config(_))
    ));
    // Configured issuer with a trailing slash differs from the document's: refused.
    assert!(d.apply(&mut s).is_err());

    let mut s = settings(
        json!({"wellKnownUrl": "https://id.example.com/.well-known/openid-configuration"}),
    );
    assert_eq!(
        p.discovery_url(&s).as_deref(),
        Some("https://id.example.com/.well-known/openid-configuration")
    );
    d.apply(&mut s)?;
    assert_eq!(p.discovery_url(&s), None);
    let ep = p.endpoints(&s)?;
    assert_eq!(ep.authorize, "https://id.example.com/oauth2/authorize");
    assert_eq!(
        ep.userinfo.as_deref(),
        Some("https://id.example.com/oauth2/userinfo")
    );
    assert_eq!(ep.issuer.as_deref(), Some("https://id.example.com"));
    // Only client_secret_post is offered, so the form carries the secret.
    assert_eq!(p.client_auth(&s), ClientAuth::Post);

    for bad in [
        "{}",
        "[]",
        r#"{"issuer":"x","authorization_endpoint":"http://evil.example/a","token_endpoint":"https://x/t"}"#,
        r#"{"issuer":"","authorization_endpoint":"https://x/a","token_endpoint":"https://x/t"}"#,
    ] {
        assert!(parse_discovery(bad).is_err(), "{bad}");
    }
    Ok(())
}

// --- authorize URLs -------------------------------------------------------------------------

#[test]
fn authorize_urls() -> R {
    let s = settings(json!({}));
    let scopes = vec![
        "https://www.googleapis.com/auth/drive.readonly".to_string(),
        "email".into(),
    ];
    let url = get("google")?.authorize_url(&s, REDIRECT, "st.ate", Some("chal"), &scopes)?;
    assert!(url.starts_with("https://accounts.google.com/o/oauth2/v2/auth?"));
    let q = query(&url);
    assert_eq!(param(&q, "client_id").as_deref(), Some("client-1"));
    assert_eq!(param(&q, "redirect_uri").as_deref(), Some(REDIRECT));
    assert_eq!(param(&q, "response_type").as_deref(), Some("code"));
    assert_eq!(
        param(&q, "scope").as_deref(),
        Some("openid email profile https://www.googleapis.com/auth/drive.readonly")
    );
    assert_eq!(param(&q, "state").as_deref(), Some("st.ate"));
    assert_eq!(param(&q, "code_challenge").as_deref(), Some("chal"));
    assert_eq!(param(&q, "code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(param(&q, "access_type").as_deref(), Some("offline"));
    assert!(url.contains("redirect_uri=https%3A%2F%2Fapi.example.com%2Fv1%2F"));

    let url = get("apple")?.authorize_url(&s, REDIRECT, "st", Some("chal"), &[])?;
    let q = query(&url);
    assert!(url.starts_with("https://appleid.apple.com/auth/authorize?"));
    assert_eq!(param(&q, "response_mode").as_deref(), Some("form_post"));
    assert_eq!(param(&q, "scope").as_deref(), Some("name email"));
    assert_eq!(param(&q, "code_challenge"), None, "Apple: no PKCE");

    let cases = [
        (
            "github",
            json!({}),
            "https://github.com/login/oauth/authorize?",
            "read:user user:email",
            true,
        ),
        (
            "gitlab",
            json!({"endpoint": "git.example.org/"}),
            "https://git.example.org/oauth/authorize?",
            "read_user",
            true,
        ),
        (
            "discord",
            json!({}),
            "https://discord.com/oauth2/authorize?",
            "identify email",
            false,
        ),
        (
            "facebook",
            json!({}),
            "https://www.facebook.com/v21.0/dialog/oauth?",
            "email public_profile",
            false,
        ),
        (
            "microsoft",
            json!({"tenant": "organizations"}),
            "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize?",
            "openid email profile offline_access",
            true,
        ),
        (
            "auth0",
            json!({"domain": "acme.eu.auth0.com"}),
            "https://acme.eu.auth0.com/authorize?",
            "openid profile email",
            true,
        ),
        (
            "okta",
            json!({"domain": "dev-1.okta.com", "authorizationServerId": "default"}),
            "https://dev-1.okta.com/oauth2/default/v1/authorize?",
            "openid profile email",
            true,
        ),
        (
            "okta",
            json!({"domain": "dev-1.okta.com"}),
            "https://dev-1.okta.com/oauth2/v1/authorize?",
            "openid profile email",
            true,
        ),
        (
            "authentik",
            json!({"endpoint": "https://auth.example.com"}),
            "https://auth.example.com/application/o/authorize/?",
            "openid profile email",
            true,
        ),
        (
            "keycloak",
            json!({"endpoint": "https://kc.example.com", "realm": "acme"}),
            "https://kc.example.com/realms/acme/protocol/openid-connect/auth?",
            "openid profile email",
            true,
        ),
        (
            "keycloak",
            json!({"endpoint": "https://kc.example.com/realms/acme/"}),
            "https://kc.example.com/realms/acme/protocol/openid-connect/auth?",
            "openid profile email",
            true,
        ),
        (
            "oidc",
            json!({"authorizeUrl": "https://id.example.com/auth?tenant=x", "tokenUrl": "https://id.example.com/token"}),
            "https://id.example.com/auth?tenant=x&client_id=",
            "openid profile email",
            true,
        ),
        (
            "google",
            json!({"authorizeUrl": "http://localhost:9000/authorize"}),
            "http://localhost:9000/authorize?",
            "openid email profile",
            true,
        ),
    ];
    for (name, opts, prefix, scope, pkce) in cases {
        let p = get(name)?;
        assert_eq!(p.supports_pkce(), pkce, "{name}");
        let url = p.authorize_url(&settings(opts), REDIRECT, "st", Some("chal"), &[])?;
        assert!(url.starts_with(prefix), "{url}");
        let q = query(&url);
        assert_eq!(param(&q, "scope").as_deref(), Some(scope), "{name}");
        assert_eq!(
            param(&q, "client_id").as_deref(),
            Some("client-1"),
            "{name}"
        );
        assert_eq!(param(&q, "code_challenge").is_some(), pkce, "{name}");
    }
    Ok(())
}

#[test]
fn authorize_refuses_disabled_or_misconfigured_providers() -> R {
    let g = get("google")?;
    let off = ProviderSettings {
        enabled: false,
        ..settings(json!({}))
    };
    let no_secret = ProviderSettings {
        client_secret: String::new(),
        ..settings(json!({}))
    };
    assert_eq!(
        g.authorize_url(&off, REDIRECT, "s", None, &[]),
        Err(OAuthError::Disabled)
    );
    assert_eq!(
        g.authorize_url(&no_secret, REDIRECT, "s", None, &[]),
        Err(OAuthError::Disabled)
    );
    assert_eq!(
        g.token_request(&off, "c", REDIRECT, None),
        Err(OAuthError::Disabled)
    );
    let s = settings(json!({}));
    for name in ["auth0", "okta", "authentik", "keycloak", "oidc"] {
        let r = get(name)?.authorize_url(&s, REDIRECT, "s", None, &[]);
        assert!(matches!(r, Err(OAuthError::Config(_))), "{name}");
    }
    let kc = settings(json!({"endpoint": "https://kc.example.com"}));
    assert!(
        get("keycloak")?
            .authorize_url(&kc, REDIRECT, "s", None, &[])
            .is_err()
    );
    for bad in [
        json!({"domain": "http://acme.auth0.com"}),
        json!({"domain": "ftp://x"}),
    ] {
        assert!(
            get("auth0")?
                .authorize_url(&settings(bad), REDIRECT, "s", None, &[])
                .is_err()
        );
    }
    let evil = settings(json!({"tenant": "common/../x"}));
    assert!(
        get("microsoft")?
            .authorize_url(&evil, REDIRECT, "s", None, &[])
            .is_err()
    );
    assert!(format!("{:?}", settings(json!({}))).contains("<redacted>"));
    Ok(())
}

// --- token requests -------------------------------------------------------------------------

fn form_of(r: &HttpRequest) -> Vec<(String, String)> {
    serde_urlencoded::from_str(&r.body).unwrap_or_default()
}

#[test]
fn token_requests_use_each_providers_client_auth() -> R {
    let s = settings(json!({}));
    let basic = format!("Basic {}", STANDARD.encode("client-1:s3cr%3Aet%2F%2B"));
    let cases = [
        (
            "google",
            json!({}),
            "https://oauth2.googleapis.com/token",
            ClientAuth::Post,
            true,
        ),
        (
            "github",
            json!({}),
            "https://github.com/login/oauth/access_token",
            ClientAuth::Post,
            true,
        ),
        (
            "apple",
            json!({}),
            "https://appleid.apple.com/auth/token",
            ClientAuth::Post,
            false,
        ),
        (
            "discord",
            json!({}),
            "https://discord.com/api/oauth2/token",
            ClientAuth::Basic,
            false,
        ),
        (
            "facebook",
            json!({}),
            "https://graph.facebook.com/v21.0/oauth/access_token",
            ClientAuth::Post,
            false,
        ),
        (
            "gitlab",
            json!({}),
            "https://gitlab.com/oauth/token",
            ClientAuth::Post,
            true,
        ),
        (
            "microsoft",
            json!({}),
            "https://login.microsoftonline.com/common/oauth2/v2.0/token",
            ClientAuth::Post,
            true,
        ),
        (
            "auth0",
            json!({"domain": "acme.auth0.com"}),
            "https://acme.auth0.com/oauth/token",
            ClientAuth::Post,
            true,
        ),
        (
            "okta",
            json!({"domain": "dev-1.okta.com"}),
            "https://dev-1.okta.com/oauth2/v1/token",
            ClientAuth::Basic,
            true,
        ),
        (
            "authentik",
            json!({"endpoint": "auth.example.com"}),
            "https://auth.example.com/application/o/token/",
            ClientAuth::Post,
            true,
        ),
        (
            "keycloak",
            json!({"endpoint": "kc.example.com/realms/acme"}),
            "https://kc.example.com/realms/acme/protocol/openid-connect/token",
            ClientAuth::Basic,
            true,
        ),
        (
            "oidc",
            json!({"authorizeUrl": "https://id.example.com/a", "tokenUrl": "https://id.example.com/t"}),
            "https://id.example.com/t",
            ClientAuth::Basic,
            true,
        ),
        (
            "oidc",
            json!({"authorizeUrl": "https://id.example.com/a", "tokenUrl": "https://id.example.com/t", "tokenEndpointAuthMethod": "client_secret_post"}),
            "https://id.example.com/t",
            ClientAuth::Post,
            true,
        ),
    ];
    for (name, opts, url, auth, pkce) in cases {
        let r = get(name)?.token_request(&settings(opts), "code 1", REDIRECT, Some("verifier"))?;
        assert_eq!((r.method.as_str(), r.url.as_str()), ("POST", url), "{name}");
        assert_eq!(
            r.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(r.header("accept"), Some("application/json"));
        let f = form_of(&r);
        assert_eq!(
            param(&f, "grant_type").as_deref(),
            Some("authorization_code")
        );
        assert_eq!(param(&f, "code").as_deref(), Some("code 1"));
        assert_eq!(param(&f, "redirect_uri").as_deref(), Some(REDIRECT));
        assert_eq!(param(&f, "code_verifier").is_some(), pkce, "{name}");
        match auth {
            ClientAuth::Post => {
                assert_eq!(
                    param(&f, "client_id").as_deref(),
                    Some("client-1"),
                    "{name}"
                );
                assert_eq!(
                    param(&f, "client_secret").as_deref(),
                    Some("s3cr:et/+"),
                    "{name}"
                );
                assert_eq!(r.header("authorization"), None, "{name}");
            }
            ClientAuth::Basic => {
                assert_eq!(param(&f, "client_secret"), None, "{name}");
                assert_eq!(r.header("authorization"), Some(basic.as_str()), "{name}");
            }
        }
        assert!(!format!("{r:?}").contains("s3cr"));
    }

    let r = get("google")?.refresh_request(&s, "rt-1")?;
    let f = form_of(&r);
    assert_eq!(param(&f, "grant_type").as_deref(), Some("refresh_token"));
    assert_eq!(param(&f, "refresh_token").as_deref(), Some("rt-1"));
    let r = get("microsoft")?.refresh_request(&s, "rt-1")?;
    assert_eq!(
        param(&form_of(&r), "scope").as_deref(),
        Some("openid email profile offline_access")
    );
    let r = get("facebook")?.refresh_request(&s, "short-lived")?;
    let f = form_of(&r);
    assert_eq!(
        param(&f, "grant_type").as_deref(),
        Some("fb_exchange_token")
    );
    assert_eq!(
        param(&f, "fb_exchange_token").as_deref(),
        Some("short-lived")
    );
    Ok(())
}

#[test]
fn token_answers() -> R {
    let p = Google;
    let t = p.parse_token(
        r#"{"access_token":"ya29.a0Af","expires_in":3599,"refresh_token":"1//0g","scope":"openid https://www.googleapis.com/auth/userinfo.email","token_type":"Bearer","id_token":"a.b.c"}"#,
    )?;
    assert_eq!(t.access_token, "ya29.a0Af");
    assert_eq!(t.expires_in, Some(3599));
    assert_eq!(t.refresh_token.as_deref(), Some("1//0g"));
    assert_eq!(t.id_token.as_deref(), Some("a.b.c"));
    assert_eq!(t.id_claims, None);

    // GitHub without Accept: application/json answers with a form.
    let t = GitHub.parse_token(
        "access_token=gho_16C7e42F292c&scope=read%3Auser%2Cuser%3Aemail&token_type=bearer",
    )?;
    assert_eq!(t.access_token, "gho_16C7e42F292c");
    assert_eq!((t.expires_in, t.refresh_token.as_deref()), (None, None));
    // Facebook-style string expiry.
    assert_eq!(
        Facebook
            .parse_token(r#"{"access_token":"EAAB","token_type":"bearer","expires_in":"5183944"}"#)?
            .expires_in,
        Some(5_183_944)
    );

    // GitHub reports errors with status 200.
    let e = GitHub.parse_token(r#"{"error":"bad_verification_code","error_description":"The code passed is incorrect or expired.","error_uri":"https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code"}"#);
    assert_eq!(
        e,
        Err(OAuthError::Provider {
            error: "bad_verification_code".into(),
            description: "The code passed is incorrect or expired.".into()
        })
    );
    assert!(matches!(
        p.parse_token(r#"{"token_type":"Bearer"}"#),
        Err(OAuthError::BadResponse(_))
    ));
    assert!(matches!(
        p.parse_token("[1]"),
        Err(OAuthError::BadResponse(_))
    ));
    assert!(format!("{t:?}").contains("TokenSet") && !format!("{t:?}").contains("gho_"));
    Ok(())
}

// --- ID tokens and profiles -----------------------------------------------------------------

#[test]
fn google_profile_from_id_token() -> R {
    assert_eq!(
        google_profile(google_claims())?,
        Profile {
            id: "110169484474386276334".into(),
            email: "ada@example.com".into(),
            email_verified: true,
            name: "Ada Lovelace".into()
        }
    );
    assert_eq!(
        Google.userinfo_request(&settings(json!({})), &tokens_with(None))?,
        None
    );

    let mut c = google_claims();
    c["email_verified"] = json!(false);
    assert!(!google_profile(c)?.email_verified);
    let mut c = google_claims();
    c["email_verified"] = json!("false");
    assert!(!google_profile(c)?.email_verified);
    let mut c = google_claims();
    c.as_object_mut().ok_or("obj")?.remove("email_verified");
    assert!(!google_profile(c)?.email_verified);
    let mut c = google_claims();
    c["iss"] = json!("accounts.google.com");
    assert!(google_profile(c)?.email_verified);
    Ok(())
}

#[test]
fn id_token_checks_fail_closed() -> R {
    let bad = |edit: &dyn Fn(&mut Value)| {
        let mut c = google_claims();
        edit(&mut c);
        google_profile(c)
    };
    let id_err = |r: Result<Profile, OAuthError>| matches!(r, Err(OAuthError::IdToken(_)));
    assert!(id_err(bad(&|c| c["aud"] = json!("someone-else"))));
    assert!(id_err(bad(&|c| c["azp"] = json!("someone-else"))));
    assert!(id_err(bad(
        &|c| c["iss"] = json!("https://evil.example.com")
    )));
    assert!(id_err(bad(&|c| c["exp"] = json!(NOW))));
    assert!(id_err(bad(&|c| c["sub"] = json!(""))));
    assert!(id_err(bad(&|c| {
        c.as_object_mut().map(|m| m.remove("exp"));
    })));
    // Several audiences need azp = this client.
    assert!(bad(&|c| c["aud"] = json!(["client-1", "other"]))?.email_verified);
    assert!(id_err(bad(&|c| {
        c["aud"] = json!(["client-1", "other"]);
        c.as_object_mut().map(|m| m.remove("azp"));
    })));

    // Not validated ⇒ refused; garbage ⇒ refused.
    let t = tokens_with(Some(jwt(google_claims())));
    assert!(id_err(Google.parse_profile(None, &t, None)));
    assert!(
        Google
            .parse_profile(None, &tokens_with(None), None)
            .is_err()
    );
    for junk in ["abc", "a.b", "a.!!!.c", "a.b.c.d.e"] {
        let mut t = tokens_with(Some(junk.into()));
        assert!(
            Google
                .validate_id_token(&settings(json!({})), &mut t, NOW)
                .is_err(),
            "{junk}"
        );
    }
    Ok(())
}

#[test]
fn apple_profile() -> R {
    let claims = json!({
        "iss": "https://appleid.apple.com",
        "aud": "client-1",
        "exp": NOW + 600,
        "iat": NOW,
        "sub": "001234.abcdef0123456789abcdef0123456789.1234",
        "c_hash": "x6kMC4Hhbdv0Jqw6i4Q1oQ",
        "email": "x7k2@privaterelay.appleid.com",
        "email_verified": "true",
        "is_private_email": "true",
        "auth_time": NOW,
        "nonce_supported": true
    });
    let s = settings(json!({}));
    let mut t = Apple.parse_token(
        &json!({
            "access_token": "a1b2", "token_type": "Bearer", "expires_in": 3600,
            "refresh_token": "r1b2", "id_token": jwt(claims.clone())
        })
        .to_string(),
    )?;
    Apple.validate_id_token(&s, &mut t, NOW)?;
    assert_eq!(Apple.userinfo_request(&s, &t)?, None);
    let user =
        json!(r#"{"name":{"firstName":"Ada","lastName":"Lovelace"},"email":"victim@example.com"}"#);
    let p = Apple.parse_profile(None, &t, Some(&user))?;
    assert_eq!(p.id, "001234.abcdef0123456789abcdef0123456789.1234");
    assert_eq!(
        p.email, "x7k2@privaterelay.appleid.com",
        "email from the ID token, not `user`"
    );
    assert!(p.email_verified);
    assert_eq!(p.name, "Ada Lovelace");
    assert_eq!(Apple.parse_profile(None, &t, None)?.name, "");

    let mut c = claims.clone();
    c["email_verified"] = json!("false");
    let mut t = tokens_with(Some(jwt(c)));
    Apple.validate_id_token(&s, &mut t, NOW)?;
    assert!(!Apple.parse_profile(None, &t, None)?.email_verified);

    let mut c = claims;
    c["iss"] = json!("https://accounts.google.com");
    let mut t = tokens_with(Some(jwt(c)));
    assert!(Apple.validate_id_token(&s, &mut t, NOW).is_err());
    Ok(())
}

/// A fresh P-256 key as Apple hands it out (`.p8`, PKCS#8 PEM) and its public point.
fn apple_p8() -> Result<(String, Vec<u8>), Box<dyn std::error::Error>> {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)?;
    let public = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())?
        .public_key()
        .as_ref()
        .to_vec();
    let b64 = STANDARD.encode(pkcs8.as_ref());
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    );
    Ok((pem, public))
}

fn apple_settings(p8: &str) -> ProviderSettings {
    ProviderSettings {
        client_id: "com.example.web".into(),
        client_secret: json!({"keyID": "KEY123", "teamID": "TEAM456", "p8": p8}).to_string(),
        ..settings(json!({}))
    }
}

/// The claims of an ES256 JWT after checking its signature with `public`.
fn es256_claims(
    token: &str,
    public: &[u8],
) -> Result<(Value, Option<String>), Box<dyn std::error::Error>> {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
    let mut v = Validation::new(Algorithm::ES256);
    v.set_audience(&["https://appleid.apple.com"]);
    v.set_issuer(&["TEAM456"]);
    v.validate_exp = false;
    let data = decode::<Value>(token, &DecodingKey::from_ec_der(public), &v)?;
    Ok((data.claims, decode_header(token)?.kid))
}

#[test]
fn apple_client_secret_is_signed_from_appwrites_key_json() -> R {
    let (p8, public) = apple_p8()?;
    let s = apple_settings(&p8);
    let jwt = apple_client_secret(&s, NOW)?.ok_or("no secret signed")?;
    let (claims, kid) = es256_claims(&jwt, &public)?;
    assert_eq!(kid.as_deref(), Some("KEY123"));
    assert_eq!(claims["sub"], "com.example.web");
    assert_eq!(claims["iat"], NOW);
    let ttl = claims["exp"].as_i64().ok_or("no exp")? - NOW;
    assert!((60..=600).contains(&ttl), "short-lived: {ttl} s");

    // The key pasted without line breaks signs the same way.
    let one_line = apple_settings(&p8.replace('\n', ""));
    let jwt = apple_client_secret(&one_line, NOW)?.ok_or("no secret signed")?;
    es256_claims(&jwt, &public)?;

    // Token and refresh requests carry a fresh signed secret, never the stored JSON.
    for r in [
        Apple.token_request(&s, "code-1", REDIRECT, None)?,
        Apple.refresh_request(&s, "refresh-1")?,
    ] {
        assert!(!r.body.contains("PRIVATE"), "the p8 key never leaves");
        let secret = param(&form_of(&r), "client_secret").ok_or("no client_secret")?;
        let (claims, _) = es256_claims(&secret, &public)?;
        let now = claims["iat"].as_i64().ok_or("no iat")?;
        assert!(now > NOW, "signed at request time");
        assert_eq!(
            param(&form_of(&r), "client_id").as_deref(),
            Some("com.example.web")
        );
    }

    // A secret that is not JSON is a JWT made elsewhere and goes out unchanged.
    let plain = settings(json!({}));
    assert_eq!(apple_client_secret(&plain, NOW)?, None);
    let r = Apple.token_request(&plain, "code-1", REDIRECT, None)?;
    assert_eq!(
        param(&form_of(&r), "client_secret").as_deref(),
        Some("s3cr:et/+")
    );
    Ok(())
}

#[test]
fn apple_key_json_errors_are_config_errors_without_the_key() -> R {
    let (p8, _) = apple_p8()?;
    let body = p8.lines().nth(1).ok_or("no body")?.to_string();
    let mut missing = apple_settings(&p8);
    missing.client_secret = json!({"keyID": "KEY123", "p8": p8}).to_string();
    let not_pem = apple_settings("not a key at all");
    let mut wrong_curve = apple_settings(&p8);
    wrong_curve.client_secret =
        json!({"keyID": "K", "teamID": "T", "p8": STANDARD.encode(b"\x30\x03\x02\x01\x00")})
            .to_string();
    for s in [missing, not_pem, wrong_curve] {
        match Apple.token_request(&s, "code-1", REDIRECT, None) {
            Err(e @ OAuthError::Config(_)) => {
                assert!(!e.to_string().contains(&body), "{e}");
            }
            other => return Err(format!("expected a config error, got {other:?}").into()),
        }
    }
    Ok(())
}

fn ms_claims() -> Value {
    json!({
        "ver": "2.0",
        "iss": "https://login.microsoftonline.com/9122040d-6c67-4c5b-b112-36a304b66dad/v2.0",
        "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
        "aud": "client-1",
        "exp": NOW + 3600,
        "iat": NOW,
        "nbf": NOW,
        "name": "Ada Lovelace",
        "preferred_username": "ada@contoso.com",
        "oid": "00000000-0000-0000-66f3-3332eca7ea81",
        "email": "ada@contoso.com",
        "tid": "9122040d-6c67-4c5b-b112-36a304b66dad",
        "aio": "Df2UVXL1ix!lMCWMSOJBcFatzcGfvFGhjKv8q5g0x732dR5MB5BisvGQO7YWByjd8iQDLq!eGbIDakyp5mnOrcdqHeYSnltepQmRp6AIZ8jY"
    })
}

fn ms_profile(s: &ProviderSettings, claims: Value) -> Result<Profile, OAuthError> {
    let mut t = tokens_with(Some(jwt(claims)));
    Microsoft.validate_id_token(s, &mut t, NOW)?;
    Microsoft.parse_profile(None, &t, None)
}

#[test]
fn microsoft_profile_is_unverified_unless_claimed() -> R {
    let s = settings(json!({}));
    let p = ms_profile(&s, ms_claims())?;
    assert_eq!(p.id, "00000000-0000-0000-66f3-3332eca7ea81");
    assert_eq!(
        (p.email.as_str(), p.email_verified),
        ("ada@contoso.com", false)
    );
    assert_eq!(p.name, "Ada Lovelace");

    let mut c = ms_claims();
    c["xms_edov"] = json!(true);
    assert!(ms_profile(&s, c)?.email_verified);
    let mut c = ms_claims();
    c["verified_primary_email"] = json!(["Ada@Contoso.com"]);
    assert!(ms_profile(&s, c)?.email_verified);
    let mut c = ms_claims();
    c["verified_primary_email"] = json!(["other@contoso.com"]);
    assert!(!ms_profile(&s, c)?.email_verified);
    // No email claim: the UPN-like username is used, never verified.
    let mut c = ms_claims();
    c.as_object_mut().map(|m| m.remove("email"));
    c["xms_edov"] = json!(true);
    let p = ms_profile(&s, c)?;
    assert_eq!(
        (p.email.as_str(), p.email_verified),
        ("ada@contoso.com", false)
    );

    // Issuer must match the token's tenant; a pinned tenant must match `tid`.
    let mut c = ms_claims();
    c["iss"] = json!("https://login.microsoftonline.com/ffffffff-6c67-4c5b-b112-36a304b66dad/v2.0");
    assert!(ms_profile(&s, c).is_err());
    let pinned = settings(json!({"tenant": "ffffffff-0000-0000-0000-000000000000"}));
    assert!(ms_profile(&pinned, ms_claims()).is_err());
    let own = settings(json!({"tenant": "9122040d-6c67-4c5b-b112-36a304b66dad"}));
    assert!(ms_profile(&own, ms_claims()).is_ok());
    Ok(())
}

const GITHUB_USER: &str = r#"{"login":"octocat","id":583231,"node_id":"MDQ6VXNlcjU4MzIzMQ==","avatar_url":"https://avatars.githubusercontent.com/u/583231?v=4","type":"User","site_admin":false,"name":"The Octocat","company":"@github","blog":"https://github.blog","location":"San Francisco","email":"octocat@github.com","hireable":null,"bio":null,"public_repos":8,"followers":9000,"following":9,"created_at":"2011-01-25T18:44:36Z","updated_at":"2024-01-22T12:14:58Z"}"#;

#[test]
fn github_profile_and_requests() -> R {
    let s = settings(json!({}));
    let t = tokens_with(None);
    let r = GitHub
        .userinfo_request(&s, &t)?
        .ok_or("no userinfo request")?;
    assert_eq!(
        (r.method.as_str(), r.url.as_str()),
        ("GET", "https://api.github.com/user")
    );
    assert_eq!(r.header("authorization"), Some("Bearer at-1"));
    assert_eq!(r.header("accept"), Some("application/vnd.github+json"));
    assert!(r.header("user-agent").is_some());
    let e = GitHub.emails_request(&s, &t)?.ok_or("no emails request")?;
    assert_eq!(e.url, "https://api.github.com/user/emails");

    let emails: Value = serde_json::from_str(
        r#"[{"email":"octocat@users.noreply.github.com","primary":false,"verified":true,"visibility":null},
            {"email":"octo@example.com","primary":true,"verified":true,"visibility":"private"}]"#,
    )?;
    let p = GitHub.parse_profile(Some(GITHUB_USER), &t, Some(&emails))?;
    assert_eq!(
        p,
        Profile {
            id: "583231".into(),
            email: "octo@example.com".into(),
            email_verified: true,
            name: "The Octocat".into()
        }
    );
    let unverified: Value = serde_json::from_str(
        r#"[{"email":"octo@example.com","primary":true,"verified":false,"visibility":"private"},
            {"email":"other@example.com","primary":false,"verified":true,"visibility":null}]"#,
    )?;
    let p = GitHub.parse_profile(Some(GITHUB_USER), &t, Some(&unverified))?;
    assert_eq!(
        (p.email.as_str(), p.email_verified),
        ("octocat@github.com", false)
    );
    let p = GitHub.parse_profile(
        Some(r#"{"id":1,"login":"ghost","name":null,"email":null}"#),
        &t,
        Some(&unverified),
    )?;
    assert_eq!(
        (p.email.as_str(), p.email_verified, p.name.as_str()),
        ("octo@example.com", false, "ghost")
    );
    // Without the emails answer nothing is verified.
    assert!(
        !GitHub
            .parse_profile(Some(GITHUB_USER), &t, None)?
            .email_verified
    );
    assert_eq!(
        GitHub.parse_profile(Some(r#"{"login":"x"}"#), &t, None),
        Err(OAuthError::MissingId)
    );
    assert!(GitHub.parse_profile(None, &t, None).is_err());
    Ok(())
}

#[test]
fn gitlab_discord_facebook_profiles() -> R {
    let t = tokens_with(None);
    let gitlab = r#"{"id":1234567,"username":"ada","name":"Ada Lovelace","state":"active","locked":false,"avatar_url":"https://gitlab.com/uploads/-/system/user/avatar/1234567/avatar.png","web_url":"https://gitlab.com/ada","created_at":"2020-01-01T00:00:00.000Z","bio":"","public_email":"","email":"ada@example.com","confirmed_at":"2020-01-01T00:05:00.000Z","last_sign_in_at":"2024-05-01T10:00:00.000Z","two_factor_enabled":true}"#;
    let p = GitLab.parse_profile(Some(gitlab), &t, None)?;
    assert_eq!(
        (
            p.id.as_str(),
            p.email.as_str(),
            p.email_verified,
            p.name.as_str()
        ),
        ("1234567", "ada@example.com", true, "Ada Lovelace")
    );
    let unconfirmed = gitlab.replace(
        r#""confirmed_at":"2020-01-01T00:05:00.000Z""#,
        r#""confirmed_at":null"#,
    );
    assert!(
        !GitLab
            .parse_profile(Some(&unconfirmed), &t, None)?
            .email_verified
    );
    let r = GitLab
        .userinfo_request(
            &settings(json!({"endpoint": "https://git.example.org"})),
            &t,
        )?
        .ok_or("none")?;
    assert_eq!(r.url, "https://git.example.org/api/v4/user");

    let discord = r#"{"id":"80351110224678912","username":"nelly","discriminator":"0","global_name":"Nelly","avatar":"8342729096ea3675442027381ff50dfe","verified":true,"email":"nelly@discord.com","flags":64,"banner":null,"accent_color":null,"premium_type":1,"public_flags":64,"mfa_enabled":true,"locale":"en-US"}"#;
    let p = Discord.parse_profile(Some(discord), &t, None)?;
    assert_eq!(
        (
            p.id.as_str(),
            p.email.as_str(),
            p.email_verified,
            p.name.as_str()
        ),
        ("80351110224678912", "nelly@discord.com", true, "Nelly")
    );
    let p = Discord.parse_profile(
        Some(&discord.replace(r#""verified":true"#, r#""verified":false"#)),
        &t,
        None,
    )?;
    assert!(!p.email_verified);
    let r = Discord
        .userinfo_request(&settings(json!({})), &t)?
        .ok_or("none")?;
    assert_eq!(r.url, "https://discord.com/api/users/@me");

    let facebook = r#"{"id":"10158000000000001","name":"Ada Lovelace","email":"ada@example.com"}"#;
    let p = Facebook.parse_profile(Some(facebook), &t, None)?;
    assert_eq!(
        (p.id.as_str(), p.email.as_str(), p.email_verified),
        ("10158000000000001", "ada@example.com", false)
    );
    let s = settings(json!({}));
    let r = Facebook.userinfo_request(&s, &t)?.ok_or("none")?;
    let proof = hex::encode(hmac_sha256(s.client_secret.as_bytes(), b"at-1"));
    assert_eq!(
        r.url,
        format!("https://graph.facebook.com/v21.0/me?fields=id,name,email&appsecret_proof={proof}")
    );
    assert_eq!(r.header("authorization"), Some("Bearer at-1"));
    Ok(())
}

#[test]
fn oidc_presets_merge_userinfo_with_the_id_token() -> R {
    let s = settings(json!({"domain": "acme.eu.auth0.com"}));
    let auth0 = get("auth0")?;
    let claims = json!({
        "iss": "https://acme.eu.auth0.com/", "aud": "client-1", "sub": "auth0|65a1b2c3d4e5f6",
        "exp": NOW + 36000, "iat": NOW, "email": "ada@example.com", "email_verified": false,
        "nickname": "ada", "name": "ada@example.com", "sid": "Xg2"
    });
    let mut t = tokens_with(Some(jwt(claims.clone())));
    auth0.validate_id_token(&s, &mut t, NOW)?;
    let r = auth0.userinfo_request(&s, &t)?.ok_or("none")?;
    assert_eq!(r.url, "https://acme.eu.auth0.com/userinfo");
    let ui = r#"{"sub":"auth0|65a1b2c3d4e5f6","nickname":"ada","name":"Ada Lovelace","picture":"https://s.gravatar.com/avatar/x.png","updated_at":"2024-05-01T10:00:00.000Z","email":"ada@example.com","email_verified":true}"#;
    let p = auth0.parse_profile(Some(ui), &t, None)?;
    assert_eq!(
        (p.id.as_str(), p.email_verified, p.name.as_str()),
        ("auth0|65a1b2c3d4e5f6", true, "Ada Lovelace")
    );
    assert!(!auth0.parse_profile(None, &t, None)?.email_verified);
    let other =
        r#"{"sub":"auth0|someone-else","email":"victim@example.com","email_verified":true}"#;
    assert!(matches!(
        auth0.parse_profile(Some(other), &t, None),
        Err(OAuthError::IdToken(_))
    ));
    // Wrong issuer for the preset.
    let mut c = claims;
    c["iss"] = json!("https://acme.eu.auth0.com");
    let mut t = tokens_with(Some(jwt(c)));
    assert!(auth0.validate_id_token(&s, &mut t, NOW).is_err());

    // Keycloak: the realm URL is the issuer; string "true" counts.
    let s = settings(json!({"endpoint": "https://kc.example.com", "realm": "acme"}));
    let kc = get("keycloak")?;
    let c = json!({"iss": "https://kc.example.com/realms/acme", "aud": ["client-1"], "azp": "client-1",
        "sub": "f:1:ada", "exp": NOW + 300, "email": "ada@example.com", "email_verified": "true",
        "given_name": "Ada", "family_name": "Lovelace", "preferred_username": "ada"});
    let mut t = tokens_with(Some(jwt(c)));
    kc.validate_id_token(&s, &mut t, NOW)?;
    let p = kc.parse_profile(None, &t, None)?;
    assert_eq!((p.email_verified, p.name.as_str()), (true, "Ada Lovelace"));

    // Authentik without slug: issuer unknown, not checked; with slug: checked.
    let c = json!({"iss": "https://auth.example.com/application/o/app/", "aud": "client-1", "sub": "h1", "exp": NOW + 300});
    let mut t = tokens_with(Some(jwt(c)));
    get("authentik")?.validate_id_token(
        &settings(json!({"endpoint": "auth.example.com"})),
        &mut t,
        NOW,
    )?;
    let wrong = settings(json!({"endpoint": "auth.example.com", "slug": "other"}));
    assert!(
        get("authentik")?
            .validate_id_token(&wrong, &mut t, NOW)
            .is_err()
    );
    assert_eq!(
        t.id_claims, None,
        "a failed validation clears earlier claims"
    );

    // Generic OIDC from userinfo alone (no ID token).
    let s = settings(
        json!({"authorizeUrl": "https://id.example.com/a", "tokenUrl": "https://id.example.com/t", "userinfoUrl": "https://id.example.com/u"}),
    );
    let t = tokens_with(None);
    assert_eq!(
        Oidc.userinfo_request(&s, &t)?.map(|r| r.url).as_deref(),
        Some("https://id.example.com/u")
    );
    let p = Oidc.parse_profile(Some(r#"{"sub":"42","email":"a@example.com","email_verified":"false","preferred_username":"a"}"#), &t, None)?;
    assert_eq!(
        (p.id.as_str(), p.email_verified, p.name.as_str()),
        ("42", false, "a")
    );
    assert!(Oidc.parse_profile(None, &t, None).is_err());
    assert_eq!(
        Oidc.parse_profile(Some(r#"{"email":"a@example.com"}"#), &t, None),
        Err(OAuthError::MissingId)
    );
    Ok(())
}
