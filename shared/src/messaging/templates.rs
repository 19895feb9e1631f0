//! Message texts: this module owns the default subject, plain-text and HTML bodies of every
//! email [`MessageKind`] and the SMS bodies, in English, German, French, Spanish, Portuguese
//! and Japanese, plus per-project [`Override`]s with `{{var}}` placeholders.
//!
//! The design is table-driven: one static [`Pack`] of strings per locale, and one renderer
//! that turns a kind into a list of parts (paragraph, code block, button, details table)
//! and prints those parts both as plain text and as a small inline-styled HTML document.
//! Every variable is HTML-escaped in HTML output, links only become clickable when they are
//! http(s), and variables are substituted in a single pass (a value containing `{{code}}`
//! is never expanded again).

use std::borrow::Cow;

use super::MessageKind;

/// Which security notice a [`MessageKind::Notice`] email is about.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NoticeKind {
    #[default]
    PasswordChanged,
    EmailChanged,
    PasswordRecovered,
    MfaAuthenticatorAdded,
    MfaAuthenticatorRemoved,
    RecoveryCodesRegenerated,
}

/// Values a template may use. Empty strings are allowed; missing agent parts (and a missing
/// ip or country) render as "unknown" (localised: "unbekannt", "inconnu", ...).
#[derive(Debug, Clone, Default)]
pub struct Vars {
    /// Project name.
    pub project: String,
    /// User's name; empty → a neutral greeting.
    pub user: String,
    /// 6-digit one-time code (email_otp, phone_otp, mfa challenges, phone_verification).
    pub code: String,
    /// URL (magic_url, verification, recovery).
    pub link: String,
    /// Security phrase (magic_url, email_otp); shown only if non-empty.
    pub phrase: String,
    pub agent_client: String,
    pub agent_os: String,
    pub agent_device: String,
    pub ip: String,
    pub country: String,
    pub date: String,
    pub time: String,
    /// Which change a [`MessageKind::Notice`] reports.
    pub notice: NoticeKind,
    /// How long the code or link is valid; 0 = don't mention it.
    pub expires_minutes: u32,
}

/// A rendered email body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Per-project override of one kind+locale: any non-empty field replaces the default;
/// `{{var}}` placeholders inside are substituted (project, user, code, link, phrase,
/// agentClient, agentOs, agentDevice, ip, country, date, time, expiresMinutes). In `html`
/// the values are HTML-escaped and `{{link}}` expands to nothing unless it is http(s).
/// Unknown placeholders are kept as written.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct Override {
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub html: String,
}

const SUPPORTED: [&str; 6] = ["en", "de", "fr", "es", "pt", "ja"];

/// Normalises a locale: "de-DE"/"de_de"/"DE" → "de"; "pt-BR" → "pt"; unknown or empty →
/// "en". Supported: en, de, fr, es, pt, ja.
pub fn locale(raw: &str) -> &'static str {
    let base = raw.trim().split(['-', '_']).next().unwrap_or_default();
    SUPPORTED
        .into_iter()
        .find(|l| l.eq_ignore_ascii_case(base))
        .unwrap_or("en")
}

/// Escapes `& < > " '` for HTML text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Only `http://` and `https://` links (case-insensitive, no whitespace) get an `href`.
fn is_web_link(link: &str) -> bool {
    let scheme_ok = ["https://", "http://"].iter().any(|p| {
        link.len() > p.len()
            && link
                .get(..p.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(p))
    });
    scheme_ok && !link.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Subjects are header values: no line breaks or other control characters.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Renders an email of `kind` in `locale` (any string; normalised with [`locale`]),
/// applying `custom` if given. SMS kinds render as their email counterpart (a code email).
pub fn render_email(
    kind: MessageKind,
    locale: &str,
    vars: &Vars,
    custom: Option<&Override>,
) -> Rendered {
    use MessageKind as K;
    let p = pack(locale);
    let ctx = Ctx {
        vars,
        unknown: p.unknown,
    };
    let msg = p.msg(kind, vars.notice);
    let has_code = matches!(
        kind,
        K::EmailOtp | K::MfaChallenge | K::PhoneOtp | K::PhoneVerification | K::MfaChallengeSms
    );
    let has_link = matches!(kind, K::MagicUrl | K::Verification | K::Recovery);

    let mut parts = vec![
        Part::Para(if vars.user.is_empty() {
            p.hello_anon
        } else {
            p.hello
        }),
        Part::Para(msg.body),
    ];
    if has_code {
        parts.push(Part::Code);
    }
    if has_link && !vars.link.is_empty() {
        parts.push(Part::Link(msg.action));
    }
    if matches!(kind, K::MagicUrl | K::EmailOtp) {
        if !vars.phrase.is_empty() {
            parts.push(Part::Para(p.phrase));
        }
        let agent = [&vars.agent_client, &vars.agent_os, &vars.agent_device];
        if agent.iter().any(|a| !a.trim().is_empty()) {
            parts.push(Part::Small(p.requested));
        }
    }
    if kind == K::SessionAlert {
        parts.push(Part::Details);
    }
    if (has_code || has_link) && vars.expires_minutes > 0 {
        parts.push(Part::Para(p.expires));
    }
    parts.push(Part::Small(match kind {
        K::MfaChallenge | K::MfaChallengeSms => p.mfa_warn,
        K::SessionAlert | K::Notice => p.not_you,
        _ => p.ignore,
    }));
    parts.push(Part::Para(p.signoff));

    let pick = |f: fn(&Override) -> &str| custom.map(f).filter(|s| !s.is_empty());
    let subject = one_line(&ctx.fill(pick(|o| &o.subject).unwrap_or(msg.subject), false));
    let text = match pick(|o| &o.text) {
        Some(t) => ctx.fill(t, false),
        None => {
            let blocks: Vec<String> = parts.iter().map(|part| ctx.text(p, part)).collect();
            blocks.join("\n\n") + "\n"
        }
    };
    let html = match pick(|o| &o.html) {
        Some(h) => ctx.fill(h, true),
        None => {
            let inner: String = parts.iter().map(|part| ctx.html(p, part)).collect();
            html_doc(p.lang, &escape(&subject), &inner)
        }
    };
    Rendered {
        subject,
        text,
        html,
    }
}

/// Renders an SMS body (PhoneOtp, PhoneVerification, MfaChallengeSms): short, with the
/// code and the project name; a non-empty `custom.text` replaces it (placeholders apply).
pub fn render_sms(
    kind: MessageKind,
    locale: &str,
    vars: &Vars,
    custom: Option<&Override>,
) -> String {
    let p = pack(locale);
    let ctx = Ctx {
        vars,
        unknown: p.unknown,
    };
    let tpl = match custom {
        Some(o) if !o.text.is_empty() => o.text.as_str(),
        _ => match kind {
            MessageKind::PhoneVerification => p.sms[1],
            MessageKind::MfaChallengeSms | MessageKind::MfaChallenge => p.sms[2],
            _ => p.sms[0],
        },
    };
    ctx.fill(tpl, false)
}

// ---------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------

/// One block of an email body; string parts are templates with `{{var}}` placeholders.
enum Part {
    Para(&'static str),
    Small(&'static str),
    Code,
    /// The link as a button (the label) plus a copyable fallback.
    Link(&'static str),
    /// The session alert's client / system / device / ip / country table.
    Details,
}

struct Ctx<'a> {
    vars: &'a Vars,
    unknown: &'static str,
}

impl<'a> Ctx<'a> {
    fn value(&self, name: &str) -> Option<Cow<'a, str>> {
        let v = self.vars;
        let known = |s: &'a str| Cow::Borrowed(if s.trim().is_empty() { self.unknown } else { s });
        Some(match name {
            "project" => Cow::Borrowed(v.project.as_str()),
            "user" => Cow::Borrowed(v.user.as_str()),
            "code" => Cow::Borrowed(v.code.as_str()),
            "link" => Cow::Borrowed(v.link.as_str()),
            "phrase" => Cow::Borrowed(v.phrase.as_str()),
            "agentClient" => known(&v.agent_client),
            "agentOs" => known(&v.agent_os),
            "agentDevice" => known(&v.agent_device),
            "ip" => known(&v.ip),
            "country" => known(&v.country),
            "date" => Cow::Borrowed(v.date.as_str()),
            "time" => Cow::Borrowed(v.time.as_str()),
            "expiresMinutes" => Cow::Owned(v.expires_minutes.to_string()),
            _ => return None,
        })
    }

    /// Substitutes `{{var}}` placeholders in one pass; in HTML mode values are escaped and
    /// a non-http(s) `{{link}}` expands to nothing.
    fn fill(&self, tpl: &str, html: bool) -> String {
        let mut out = String::with_capacity(tpl.len() + 64);
        let mut rest = tpl;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                rest = &rest[start..];
                break;
            };
            let name = after[..end].trim();
            match self.value(name) {
                Some(val) if html => {
                    if name != "link" || is_web_link(&val) {
                        out.push_str(&escape(&val));
                    }
                }
                Some(val) => out.push_str(&val),
                None => out.push_str(&rest[start..start + end + 4]),
            }
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        out
    }

    fn details(&self, p: &Pack) -> impl Iterator<Item = (&'static str, Cow<'a, str>)> {
        let names = ["agentClient", "agentOs", "agentDevice", "ip", "country"];
        let values: Vec<_> = names
            .iter()
            .map(|n| self.value(n).unwrap_or_default())
            .collect();
        p.labels.into_iter().zip(values)
    }

    fn text(&self, p: &Pack, part: &Part) -> String {
        match part {
            Part::Para(t) | Part::Small(t) => self.fill(t, false),
            Part::Code => self.vars.code.clone(),
            Part::Link(action) => format!("{}:\n{}", self.fill(action, false), self.vars.link),
            Part::Details => self
                .details(p)
                .map(|(label, value)| format!("{label}: {value}"))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    fn html(&self, p: &Pack, part: &Part) -> String {
        let para = |style: &str, t: &str| {
            let body = self.fill(t, true).replace('\n', "<br>");
            format!("<p style=\"{style}\">{body}</p>\n")
        };
        match part {
            Part::Para(t) => para(P, t),
            Part::Small(t) => para(SMALL, t),
            Part::Code => format!("<div style=\"{CODE}\">{}</div>\n", escape(&self.vars.code)),
            Part::Link(action) if is_web_link(&self.vars.link) => {
                let href = escape(&self.vars.link);
                let label = self.fill(action, true);
                let fallback = self.fill(p.fallback, true);
                format!(
                    "<p style=\"margin:8px 0 24px;text-align:center;\"><a href=\"{href}\" \
                     style=\"{BUTTON}\">{label}</a></p>\n<p style=\"{SMALL}\">{fallback}<br>\
                     <a href=\"{href}\" style=\"color:{ACCENT};word-break:break-all;\">{href}</a></p>\n"
                )
            }
            Part::Link(_) => format!(
                "<p style=\"{P}word-break:break-all;\">{}</p>\n",
                escape(&self.vars.link)
            ),
            Part::Details => {
                let rows: String = self
                    .details(p)
                    .map(|(label, value)| {
                        format!(
                            "<tr><td style=\"padding:4px 16px 4px 0;color:{MUTED};\">{}</td>\
                             <td style=\"padding:4px 0;\">{}</td></tr>\n",
                            escape(label),
                            escape(&value)
                        )
                    })
                    .collect();
                format!(
                    "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" \
                     style=\"margin:0 0 16px;border-collapse:collapse;font-size:15px;\">\n{rows}</table>\n"
                )
            }
        }
    }
}

const ACCENT: &str = "#4f46e5";
const MUTED: &str = "#6b7280";
const P: &str = "margin:0 0 16px;";
const SMALL: &str = "margin:0 0 16px;font-size:14px;color:#6b7280;";
const CODE: &str = "margin:8px 0 24px;padding:16px;background:#f3f4f6;border-radius:8px;\
    text-align:center;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;\
    font-size:32px;font-weight:700;letter-spacing:6px;color:#111827;";
const BUTTON: &str = "display:inline-block;padding:12px 28px;background:#4f46e5;\
    border-radius:8px;color:#ffffff;font-weight:600;text-decoration:none;";

/// The one HTML layout; `title` and `inner` are already escaped.
fn html_doc(lang: &str, title: &str, inner: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title}</title></head>\n\
         <body style=\"margin:0;padding:24px 12px;background:#f3f4f6;\">\n\
         <div style=\"max-width:520px;margin:0 auto;padding:32px;background:#ffffff;\
         border-radius:12px;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,\
         'Hiragino Sans','Noto Sans JP',Helvetica,Arial,sans-serif;font-size:16px;\
         line-height:1.5;color:#1f2937;\">\n\
         <h1 style=\"margin:0 0 20px;font-size:22px;line-height:1.3;color:#111827;\">{title}</h1>\n\
         {inner}</div>\n</body>\n</html>\n"
    )
}

// ---------------------------------------------------------------------------------------
// Texts: one pack of strings per locale
// ---------------------------------------------------------------------------------------

/// Subject, body paragraph and (for link kinds) button label of one kind.
struct Msg {
    subject: &'static str,
    body: &'static str,
    action: &'static str,
}

const fn m(subject: &'static str, body: &'static str, action: &'static str) -> Msg {
    Msg {
        subject,
        body,
        action,
    }
}

struct Pack {
    lang: &'static str,
    hello: &'static str,
    hello_anon: &'static str,
    unknown: &'static str,
    phrase: &'static str,
    requested: &'static str,
    expires: &'static str,
    fallback: &'static str,
    ignore: &'static str,
    mfa_warn: &'static str,
    not_you: &'static str,
    signoff: &'static str,
    /// Session alert rows: client, system, device, ip, country.
    labels: [&'static str; 5],
    magic_url: Msg,
    email_otp: Msg,
    verification: Msg,
    recovery: Msg,
    mfa: Msg,
    session: Msg,
    /// In [`NoticeKind`] order.
    notices: [Msg; 6],
    /// PhoneOtp, PhoneVerification, MfaChallengeSms.
    sms: [&'static str; 3],
}

impl Pack {
    fn msg(&self, kind: MessageKind, notice: NoticeKind) -> &Msg {
        use MessageKind as K;
        match kind {
            K::MagicUrl => &self.magic_url,
            K::EmailOtp | K::PhoneOtp | K::PhoneVerification => &self.email_otp,
            K::Verification => &self.verification,
            K::Recovery => &self.recovery,
            K::MfaChallenge | K::MfaChallengeSms => &self.mfa,
            K::SessionAlert => &self.session,
            K::Notice => &self.notices[notice as usize],
        }
    }
}

fn pack(raw: &str) -> &'static Pack {
    match locale(raw) {
        "de" => &DE,
        "fr" => &FR,
        "es" => &ES,
        "pt" => &PT,
        "ja" => &JA,
        _ => &EN,
    }
}

static EN: Pack = Pack {
    lang: "en",
    hello: "Hi {{user}},",
    hello_anon: "Hi there,",
    unknown: "unknown",
    phrase: "Check that this security phrase matches the one on your screen: {{phrase}}",
    requested: "Requested from {{agentClient}} on {{agentOs}} ({{agentDevice}}).",
    expires: "This expires in {{expiresMinutes}} minutes.",
    fallback: "If the button doesn't work, copy this link into your browser:",
    ignore: "Didn't ask for this? You can safely ignore this email.",
    mfa_warn: "If you aren't signing in right now, someone may know your password. Please change it.",
    not_you: "If this wasn't you, reset your password right away and review your active sessions.",
    signoff: "Thanks,\nThe {{project}} team",
    labels: ["App", "System", "Device", "IP address", "Country"],
    magic_url: m(
        "Sign in to {{project}}",
        "Use the button below to sign in to {{project}}. No password needed.",
        "Sign in",
    ),
    email_otp: m(
        "Your {{project}} sign-in code",
        "Enter this code to sign in to {{project}}:",
        "",
    ),
    verification: m(
        "Confirm your email for {{project}}",
        "Please confirm this is your email address so {{project}} can reach you.",
        "Verify email",
    ),
    recovery: m(
        "Reset your {{project}} password",
        "We got a request to reset your {{project}} password. Choose a new one with the button below.",
        "Reset password",
    ),
    mfa: m(
        "Your {{project}} verification code",
        "Enter this code to finish signing in to {{project}}:",
        "",
    ),
    session: m(
        "New sign-in to {{project}}",
        "There was a new sign-in to your {{project}} account on {{date}} at {{time}}:",
        "",
    ),
    notices: [
        m(
            "Your {{project}} password was changed",
            "The password of your {{project}} account was changed on {{date}} at {{time}}.",
            "",
        ),
        m(
            "Your {{project}} email address was changed",
            "The email address of your {{project}} account was changed on {{date}} at {{time}}.",
            "",
        ),
        m(
            "Your {{project}} password was reset",
            "The password of your {{project}} account was reset with a recovery link on {{date}} at {{time}}.",
            "",
        ),
        m(
            "Authenticator app added to {{project}}",
            "An authenticator app was added to your {{project}} account on {{date}} at {{time}}. You'll be asked for its code when you sign in.",
            "",
        ),
        m(
            "Authenticator app removed from {{project}}",
            "An authenticator app was removed from your {{project}} account on {{date}} at {{time}}.",
            "",
        ),
        m(
            "New {{project}} recovery codes",
            "New recovery codes were created for your {{project}} account on {{date}} at {{time}}. Your old codes no longer work.",
            "",
        ),
    ],
    sms: [
        "{{code}} is your {{project}} verification code.",
        "{{code}} is your code to confirm your phone number for {{project}}.",
        "{{code}} is your {{project}} sign-in code. Don't share it with anyone.",
    ],
};

static DE: Pack = Pack {
    lang: "de",
    hello: "Hallo {{user}},",
    hello_anon: "Hallo,",
    unknown: "unbekannt",
    phrase: "Prüfe, ob diese Sicherheitsphrase mit der auf deinem Bildschirm übereinstimmt: {{phrase}}",
    requested: "Angefordert von {{agentClient}} auf {{agentOs}} ({{agentDevice}}).",
    expires: "Gültig für {{expiresMinutes}} Minuten.",
    fallback: "Falls die Schaltfläche nicht funktioniert, kopiere diesen Link in deinen Browser:",
    ignore: "Du hast das nicht angefordert? Dann kannst du diese E-Mail einfach ignorieren.",
    mfa_warn: "Wenn du dich gerade nicht anmeldest, kennt womöglich jemand dein Passwort. Bitte ändere es.",
    not_you: "Warst du das nicht? Setze bitte sofort dein Passwort zurück und prüfe deine aktiven Sitzungen.",
    signoff: "Viele Grüße\nDein {{project}}-Team",
    labels: ["App", "System", "Gerät", "IP-Adresse", "Land"],
    magic_url: m(
        "Bei {{project}} anmelden",
        "Mit der Schaltfläche unten meldest du dich bei {{project}} an – ganz ohne Passwort.",
        "Anmelden",
    ),
    email_otp: m(
        "Dein Anmeldecode für {{project}}",
        "Gib diesen Code ein, um dich bei {{project}} anzumelden:",
        "",
    ),
    verification: m(
        "Bestätige deine E-Mail-Adresse für {{project}}",
        "Bitte bestätige, dass dies deine E-Mail-Adresse ist, damit {{project}} dich erreichen kann.",
        "E-Mail bestätigen",
    ),
    recovery: m(
        "Passwort für {{project}} zurücksetzen",
        "Wir haben eine Anfrage erhalten, dein Passwort für {{project}} zurückzusetzen. Über die Schaltfläche unten wählst du ein neues.",
        "Passwort zurücksetzen",
    ),
    mfa: m(
        "Dein Bestätigungscode für {{project}}",
        "Gib diesen Code ein, um deine Anmeldung bei {{project}} abzuschließen:",
        "",
    ),
    session: m(
        "Neue Anmeldung bei {{project}}",
        "Am {{date}} um {{time}} gab es eine neue Anmeldung bei deinem {{project}}-Konto:",
        "",
    ),
    notices: [
        m(
            "Dein Passwort für {{project}} wurde geändert",
            "Das Passwort deines {{project}}-Kontos wurde am {{date}} um {{time}} geändert.",
            "",
        ),
        m(
            "Deine E-Mail-Adresse für {{project}} wurde geändert",
            "Die E-Mail-Adresse deines {{project}}-Kontos wurde am {{date}} um {{time}} geändert.",
            "",
        ),
        m(
            "Dein Passwort für {{project}} wurde zurückgesetzt",
            "Das Passwort deines {{project}}-Kontos wurde am {{date}} um {{time}} über einen Wiederherstellungslink zurückgesetzt.",
            "",
        ),
        m(
            "Authenticator-App für {{project}} hinzugefügt",
            "Am {{date}} um {{time}} wurde deinem {{project}}-Konto eine Authenticator-App hinzugefügt. Bei der Anmeldung wird ab jetzt ihr Code abgefragt.",
            "",
        ),
        m(
            "Authenticator-App für {{project}} entfernt",
            "Am {{date}} um {{time}} wurde eine Authenticator-App von deinem {{project}}-Konto entfernt.",
            "",
        ),
        m(
            "Neue Wiederherstellungscodes für {{project}}",
            "Am {{date}} um {{time}} wurden neue Wiederherstellungscodes für dein {{project}}-Konto erstellt. Die alten Codes gelten nicht mehr.",
            "",
        ),
    ],
    sms: [
        "{{code}} ist dein Bestätigungscode für {{project}}.",
        "{{code}} ist dein Code, um deine Telefonnummer bei {{project}} zu bestätigen.",
        "{{code}} ist dein Anmeldecode für {{project}}. Gib ihn an niemanden weiter.",
    ],
};

static FR: Pack = Pack {
    lang: "fr",
    hello: "Bonjour {{user}},",
    hello_anon: "Bonjour,",
    unknown: "inconnu",
    phrase: "Vérifiez que cette phrase de sécurité correspond à celle affichée sur votre écran : {{phrase}}",
    requested: "Demande envoyée depuis {{agentClient}} sur {{agentOs}} ({{agentDevice}}).",
    expires: "Valable {{expiresMinutes}} minutes.",
    fallback: "Si le bouton ne fonctionne pas, copiez ce lien dans votre navigateur :",
    ignore: "Vous n'avez rien demandé ? Vous pouvez ignorer cet e-mail sans souci.",
    mfa_warn: "Si vous n'êtes pas en train de vous connecter, quelqu'un connaît peut-être votre mot de passe. Changez-le.",
    not_you: "Si ce n'était pas vous, réinitialisez votre mot de passe sans attendre et vérifiez vos sessions actives.",
    signoff: "À bientôt,\nL'équipe {{project}}",
    labels: ["Application", "Système", "Appareil", "Adresse IP", "Pays"],
    magic_url: m(
        "Connexion à {{project}}",
        "Cliquez sur le bouton ci-dessous pour vous connecter à {{project}}, sans mot de passe.",
        "Se connecter",
    ),
    email_otp: m(
        "Votre code de connexion {{project}}",
        "Saisissez ce code pour vous connecter à {{project}} :",
        "",
    ),
    verification: m(
        "Confirmez votre adresse e-mail pour {{project}}",
        "Merci de confirmer que cette adresse e-mail est bien la vôtre, pour que {{project}} puisse vous joindre.",
        "Confirmer l'adresse",
    ),
    recovery: m(
        "Réinitialisez votre mot de passe {{project}}",
        "Nous avons reçu une demande de réinitialisation de votre mot de passe {{project}}. Choisissez-en un nouveau avec le bouton ci-dessous.",
        "Réinitialiser le mot de passe",
    ),
    mfa: m(
        "Votre code de vérification {{project}}",
        "Saisissez ce code pour terminer votre connexion à {{project}} :",
        "",
    ),
    session: m(
        "Nouvelle connexion à {{project}}",
        "Une nouvelle connexion à votre compte {{project}} a eu lieu le {{date}} à {{time}} :",
        "",
    ),
    notices: [
        m(
            "Votre mot de passe {{project}} a été modifié",
            "Le mot de passe de votre compte {{project}} a été modifié le {{date}} à {{time}}.",
            "",
        ),
        m(
            "Votre adresse e-mail {{project}} a été modifiée",
            "L'adresse e-mail de votre compte {{project}} a été modifiée le {{date}} à {{time}}.",
            "",
        ),
        m(
            "Votre mot de passe {{project}} a été réinitialisé",
            "Le mot de passe de votre compte {{project}} a été réinitialisé via un lien de récupération le {{date}} à {{time}}.",
            "",
        ),
        m(
            "Application d'authentification ajoutée à {{project}}",
            "Une application d'authentification a été ajoutée à votre compte {{project}} le {{date}} à {{time}}. Son code vous sera demandé à la connexion.",
            "",
        ),
        m(
            "Application d'authentification retirée de {{project}}",
            "Une application d'authentification a été retirée de votre compte {{project}} le {{date}} à {{time}}.",
            "",
        ),
        m(
            "Nouveaux codes de récupération {{project}}",
            "De nouveaux codes de récupération ont été créés pour votre compte {{project}} le {{date}} à {{time}}. Les anciens codes ne fonctionnent plus.",
            "",
        ),
    ],
    sms: [
        "{{code}} est votre code de vérification {{project}}.",
        "{{code}} est votre code pour confirmer votre numéro sur {{project}}.",
        "{{code}} est votre code de connexion {{project}}. Ne le partagez avec personne.",
    ],
};

static ES: Pack = Pack {
    lang: "es",
    hello: "Hola, {{user}}:",
    hello_anon: "¡Hola!",
    unknown: "desconocido",
    phrase: "Comprueba que esta frase de seguridad coincide con la que ves en tu pantalla: {{phrase}}",
    requested: "Solicitado desde {{agentClient}} en {{agentOs}} ({{agentDevice}}).",
    expires: "Caduca en {{expiresMinutes}} minutos.",
    fallback: "Si el botón no funciona, copia este enlace en tu navegador:",
    ignore: "¿No lo has pedido tú? Puedes ignorar este correo sin problema.",
    mfa_warn: "Si no estás iniciando sesión ahora, puede que alguien conozca tu contraseña. Cámbiala, por favor.",
    not_you: "Si no has sido tú, restablece tu contraseña de inmediato y revisa tus sesiones activas.",
    signoff: "Un saludo,\nEl equipo de {{project}}",
    labels: [
        "Aplicación",
        "Sistema",
        "Dispositivo",
        "Dirección IP",
        "País",
    ],
    magic_url: m(
        "Inicia sesión en {{project}}",
        "Usa el botón de abajo para iniciar sesión en {{project}}, sin contraseña.",
        "Iniciar sesión",
    ),
    email_otp: m(
        "Tu código de acceso a {{project}}",
        "Introduce este código para iniciar sesión en {{project}}:",
        "",
    ),
    verification: m(
        "Confirma tu correo para {{project}}",
        "Confirma que esta es tu dirección de correo para que {{project}} pueda contactarte.",
        "Verificar correo",
    ),
    recovery: m(
        "Restablece tu contraseña de {{project}}",
        "Hemos recibido una solicitud para restablecer tu contraseña de {{project}}. Elige una nueva con el botón de abajo.",
        "Restablecer contraseña",
    ),
    mfa: m(
        "Tu código de verificación de {{project}}",
        "Introduce este código para completar el inicio de sesión en {{project}}:",
        "",
    ),
    session: m(
        "Nuevo inicio de sesión en {{project}}",
        "Se inició sesión en tu cuenta de {{project}} el {{date}} a las {{time}}:",
        "",
    ),
    notices: [
        m(
            "Tu contraseña de {{project}} ha cambiado",
            "La contraseña de tu cuenta de {{project}} se cambió el {{date}} a las {{time}}.",
            "",
        ),
        m(
            "Tu correo de {{project}} ha cambiado",
            "La dirección de correo de tu cuenta de {{project}} se cambió el {{date}} a las {{time}}.",
            "",
        ),
        m(
            "Tu contraseña de {{project}} se ha restablecido",
            "La contraseña de tu cuenta de {{project}} se restableció con un enlace de recuperación el {{date}} a las {{time}}.",
            "",
        ),
        m(
            "App de autenticación añadida a {{project}}",
            "Se añadió una app de autenticación a tu cuenta de {{project}} el {{date}} a las {{time}}. A partir de ahora te pediremos su código al iniciar sesión.",
            "",
        ),
        m(
            "App de autenticación eliminada de {{project}}",
            "Se eliminó una app de autenticación de tu cuenta de {{project}} el {{date}} a las {{time}}.",
            "",
        ),
        m(
            "Nuevos códigos de recuperación de {{project}}",
            "Se crearon nuevos códigos de recuperación para tu cuenta de {{project}} el {{date}} a las {{time}}. Los códigos anteriores ya no sirven.",
            "",
        ),
    ],
    sms: [
        "{{code}} es tu código de verificación de {{project}}.",
        "{{code}} es tu código para confirmar tu número de teléfono en {{project}}.",
        "{{code}} es tu código de acceso a {{project}}. No lo compartas con nadie.",
    ],
};

static PT: Pack = Pack {
    lang: "pt",
    hello: "Olá, {{user}}!",
    hello_anon: "Olá!",
    unknown: "desconhecido",
    phrase: "Confira se esta frase de segurança é a mesma exibida na sua tela: {{phrase}}",
    requested: "Solicitado a partir de {{agentClient}} em {{agentOs}} ({{agentDevice}}).",
    expires: "Válido por {{expiresMinutes}} minutos.",
    fallback: "Se o botão não funcionar, copie este link no seu navegador:",
    ignore: "Não foi você que pediu? Pode ignorar este e-mail com tranquilidade.",
    mfa_warn: "Se você não está entrando agora, alguém pode saber sua senha. Por favor, altere-a.",
    not_you: "Se não foi você, redefina sua senha imediatamente e revise suas sessões ativas.",
    signoff: "Abraços,\nEquipe {{project}}",
    labels: [
        "Aplicativo",
        "Sistema",
        "Dispositivo",
        "Endereço IP",
        "País",
    ],
    magic_url: m(
        "Entrar em {{project}}",
        "Use o botão abaixo para entrar em {{project}}, sem precisar de senha.",
        "Entrar",
    ),
    email_otp: m(
        "Seu código de acesso para {{project}}",
        "Digite este código para entrar em {{project}}:",
        "",
    ),
    verification: m(
        "Confirme seu e-mail para {{project}}",
        "Confirme que este é o seu endereço de e-mail para que {{project}} possa falar com você.",
        "Confirmar e-mail",
    ),
    recovery: m(
        "Redefina sua senha de {{project}}",
        "Recebemos um pedido para redefinir sua senha de {{project}}. Escolha uma nova pelo botão abaixo.",
        "Redefinir senha",
    ),
    mfa: m(
        "Seu código de verificação de {{project}}",
        "Digite este código para concluir sua entrada em {{project}}:",
        "",
    ),
    session: m(
        "Novo acesso em {{project}}",
        "Houve um novo acesso à sua conta de {{project}} em {{date}} às {{time}}:",
        "",
    ),
    notices: [
        m(
            "Sua senha de {{project}} foi alterada",
            "A senha da sua conta de {{project}} foi alterada em {{date}} às {{time}}.",
            "",
        ),
        m(
            "Seu e-mail de {{project}} foi alterado",
            "O endereço de e-mail da sua conta de {{project}} foi alterado em {{date}} às {{time}}.",
            "",
        ),
        m(
            "Sua senha de {{project}} foi redefinida",
            "A senha da sua conta de {{project}} foi redefinida com um link de recuperação em {{date}} às {{time}}.",
            "",
        ),
        m(
            "App autenticador adicionado em {{project}}",
            "Um app autenticador foi adicionado à sua conta de {{project}} em {{date}} às {{time}}. O código dele será pedido quando você entrar.",
            "",
        ),
        m(
            "App autenticador removido de {{project}}",
            "Um app autenticador foi removido da sua conta de {{project}} em {{date}} às {{time}}.",
            "",
        ),
        m(
            "Novos códigos de recuperação de {{project}}",
            "Novos códigos de recuperação foram gerados para sua conta de {{project}} em {{date}} às {{time}}. Os códigos antigos não funcionam mais.",
            "",
        ),
    ],
    sms: [
        "{{code}} é o seu código de verificação de {{project}}.",
        "{{code}} é o seu código para confirmar seu telefone em {{project}}.",
        "{{code}} é o seu código de acesso de {{project}}. Não o compartilhe com ninguém.",
    ],
};

static JA: Pack = Pack {
    lang: "ja",
    hello: "{{user}} 様",
    hello_anon: "こんにちは。",
    unknown: "不明",
    phrase: "画面に表示されているセキュリティフレーズと一致するかご確認ください：{{phrase}}",
    requested: "リクエスト元：{{agentClient}}（{{agentOs}}、{{agentDevice}}）",
    expires: "有効期限は{{expiresMinutes}}分です。",
    fallback: "ボタンが機能しない場合は、次のリンクをブラウザに貼り付けてください：",
    ignore: "お心当たりがない場合は、このメールを無視していただいて問題ありません。",
    mfa_warn: "今ログインしようとしていない場合、パスワードが第三者に知られている可能性があります。パスワードを変更してください。",
    not_you: "お心当たりがない場合は、すぐにパスワードを再設定し、ログイン中のセッションをご確認ください。",
    signoff: "{{project}} チーム",
    labels: ["アプリ", "OS", "デバイス", "IPアドレス", "国"],
    magic_url: m(
        "{{project}} にログイン",
        "下のボタンから {{project}} にログインできます。パスワードは不要です。",
        "ログイン",
    ),
    email_otp: m(
        "{{project}} のログインコード",
        "{{project}} にログインするには、次のコードを入力してください：",
        "",
    ),
    verification: m(
        "{{project}} のメールアドレス確認",
        "{{project}} からのご連絡が確実に届くよう、メールアドレスの確認をお願いします。",
        "メールアドレスを確認",
    ),
    recovery: m(
        "{{project}} のパスワード再設定",
        "{{project}} のパスワード再設定のリクエストを受け付けました。下のボタンから新しいパスワードを設定してください。",
        "パスワードを再設定",
    ),
    mfa: m(
        "{{project}} の確認コード",
        "{{project}} へのログインを完了するには、次のコードを入力してください：",
        "",
    ),
    session: m(
        "{{project}} への新しいログイン",
        "{{date}} {{time}} に、{{project}} アカウントへの新しいログインがありました：",
        "",
    ),
    notices: [
        m(
            "{{project}} のパスワードが変更されました",
            "{{date}} {{time}} に、{{project}} アカウントのパスワードが変更されました。",
            "",
        ),
        m(
            "{{project}} のメールアドレスが変更されました",
            "{{date}} {{time}} に、{{project}} アカウントのメールアドレスが変更されました。",
            "",
        ),
        m(
            "{{project}} のパスワードが再設定されました",
            "{{date}} {{time}} に、復旧用リンクで {{project}} アカウントのパスワードが再設定されました。",
            "",
        ),
        m(
            "{{project}} に認証アプリが追加されました",
            "{{date}} {{time}} に、{{project}} アカウントに認証アプリが追加されました。今後はログイン時にそのコードの入力が必要です。",
            "",
        ),
        m(
            "{{project}} から認証アプリが削除されました",
            "{{date}} {{time}} に、{{project}} アカウントから認証アプリが削除されました。",
            "",
        ),
        m(
            "{{project}} の新しいリカバリーコード",
            "{{date}} {{time}} に、{{project}} アカウントの新しいリカバリーコードが発行されました。以前のコードは使えなくなりました。",
            "",
        ),
    ],
    sms: [
        "{{project}} の確認コード：{{code}}",
        "{{project}} の電話番号確認コード：{{code}}",
        "{{project}} のログインコード：{{code}}（他の人に教えないでください）",
    ],
};

#[cfg(test)]
mod tests {
    use super::*;
    use MessageKind as K;

    const EMAIL_KINDS: [MessageKind; 7] = [
        K::MagicUrl,
        K::EmailOtp,
        K::Verification,
        K::Recovery,
        K::MfaChallenge,
        K::SessionAlert,
        K::Notice,
    ];
    const NOTICES: [NoticeKind; 6] = [
        NoticeKind::PasswordChanged,
        NoticeKind::EmailChanged,
        NoticeKind::PasswordRecovered,
        NoticeKind::MfaAuthenticatorAdded,
        NoticeKind::MfaAuthenticatorRemoved,
        NoticeKind::RecoveryCodesRegenerated,
    ];
    const SMS_KINDS: [MessageKind; 3] = [K::PhoneOtp, K::PhoneVerification, K::MfaChallengeSms];

    fn vars() -> Vars {
        Vars {
            project: "Acme".into(),
            user: "Ana".into(),
            code: "123456".into(),
            link: "https://app.example.com/auth?userId=u1&secret=s3cr3t".into(),
            agent_client: "Firefox 128".into(),
            agent_os: "Linux".into(),
            agent_device: "desktop".into(),
            ip: "203.0.113.7".into(),
            country: "Germany".into(),
            date: "2025-03-01".into(),
            time: "14:05 UTC".into(),
            expires_minutes: 15,
            ..Vars::default()
        }
    }

    #[test]
    fn every_kind_and_locale_renders() {
        for loc in SUPPORTED {
            for kind in EMAIL_KINDS {
                let notices: &[NoticeKind] = if kind == K::Notice {
                    &NOTICES
                } else {
                    &NOTICES[..1]
                };
                for &notice in notices {
                    let v = Vars { notice, ..vars() };
                    let r = render_email(kind, loc, &v, None);
                    let what = format!("{loc}/{}/{notice:?}", kind.as_str());
                    assert!(r.subject.contains("Acme"), "{what}: {}", r.subject);
                    assert!(!r.text.trim().is_empty() && !r.html.is_empty(), "{what}");
                    assert!(r.html.contains(&format!("lang=\"{loc}\"")), "{what}");
                    for out in [&r.subject, &r.text, &r.html] {
                        assert!(!out.contains("{{"), "{what}: unfilled placeholder");
                    }
                    let code = matches!(kind, K::EmailOtp | K::MfaChallenge);
                    let link = matches!(kind, K::MagicUrl | K::Verification | K::Recovery);
                    assert_eq!(r.text.contains("123456"), code, "{what}");
                    assert_eq!(r.html.contains("123456"), code, "{what}");
                    assert_eq!(r.text.contains(&v.link), link, "{what}");
                    let href = "href=\"https://app.example.com/auth?userId=u1&amp;secret=s3cr3t\"";
                    assert_eq!(r.html.contains(href), link, "{what}");
                    if matches!(kind, K::SessionAlert | K::Notice) {
                        assert!(
                            r.text.contains("2025-03-01") && r.text.contains("14:05 UTC"),
                            "{what}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn notices_are_distinct_and_carry_no_secret() {
        let subjects: std::collections::HashSet<String> = NOTICES
            .iter()
            .map(|&notice| {
                let r = render_email(K::Notice, "en", &Vars { notice, ..vars() }, None);
                assert!(!r.text.contains("123456") && !r.text.contains("s3cr3t"));
                assert!(!r.html.contains("123456") && !r.html.contains("s3cr3t"));
                assert!(r.text.contains("If this wasn't you"));
                r.subject
            })
            .collect();
        assert_eq!(subjects.len(), NOTICES.len());
    }

    #[test]
    fn normalises_locales() {
        for (raw, want) in [
            ("de-DE", "de"),
            ("de_de", "de"),
            ("DE", "de"),
            ("pt-BR", "pt"),
            ("ja-JP", "ja"),
            (" fr ", "fr"),
            ("es_419", "es"),
            ("xx-YY", "en"),
            ("", "en"),
            ("-", "en"),
        ] {
            assert_eq!(locale(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn unknown_locale_falls_back_to_english() {
        let v = vars();
        assert_eq!(
            render_email(K::Recovery, "tlh", &v, None),
            render_email(K::Recovery, "en", &v, None)
        );
        assert_eq!(
            render_email(K::Recovery, "", &v, None).subject,
            "Reset your Acme password"
        );
    }

    #[test]
    fn pt_br_renders_portuguese() {
        let v = vars();
        let r = render_email(K::Recovery, "pt-BR", &v, None);
        assert_eq!(r, render_email(K::Recovery, "pt", &v, None));
        assert_eq!(r.subject, "Redefina sua senha de Acme");
        assert!(r.html.contains("lang=\"pt\""));
    }

    #[test]
    fn escapes_every_html_variable() {
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        let v = Vars {
            project: "<script>alert(1)</script>".into(),
            user: "\"Ana\" & 'Bo'".into(),
            agent_client: "<img src=x onerror=alert(1)>".into(),
            ..vars()
        };
        for kind in EMAIL_KINDS {
            let r = render_email(kind, "en", &v, None);
            assert!(
                !r.html.contains("<script>") && !r.html.contains("<img"),
                "{kind:?}"
            );
            assert!(
                r.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
                "{kind:?}"
            );
            assert!(r.text.contains("<script>alert(1)</script>"), "{kind:?}");
        }
        let r = render_email(K::EmailOtp, "en", &v, None);
        assert!(r.html.contains("Hi &quot;Ana&quot; &amp; &#39;Bo&#39;,"));
    }

    #[test]
    fn non_web_links_get_no_href() {
        for link in [
            "javascript:alert(1)",
            "JAVASCRIPT:alert(1)",
            "data:text/html,x",
            "https:// x",
        ] {
            let v = Vars {
                link: link.into(),
                ..vars()
            };
            let r = render_email(K::MagicUrl, "en", &v, None);
            assert!(!r.html.contains("href="), "{link}");
            assert!(r.html.contains(&escape(link)), "{link}");
            assert!(r.text.contains(link), "{link}");
        }
        let v = Vars {
            link: "HTTPS://Example.com/x".into(),
            ..vars()
        };
        let r = render_email(K::Verification, "en", &v, None);
        assert!(r.html.contains("href=\"HTTPS://Example.com/x\""));
    }

    #[test]
    fn phrase_only_when_present() {
        let with = Vars {
            phrase: "Brave Otter".into(),
            ..vars()
        };
        for kind in [K::MagicUrl, K::EmailOtp] {
            let r = render_email(kind, "en", &with, None);
            assert!(r.text.contains("Brave Otter") && r.html.contains("Brave Otter"));
            let r = render_email(kind, "en", &vars(), None);
            assert!(!r.text.contains("security phrase") && !r.html.contains("security phrase"));
        }
        let r = render_email(K::Recovery, "en", &with, None);
        assert!(!r.text.contains("Brave Otter"));
    }

    #[test]
    fn greeting_is_neutral_without_a_name() {
        let r = render_email(K::EmailOtp, "en", &vars(), None);
        assert!(r.text.starts_with("Hi Ana,"));
        let anon = Vars {
            user: String::new(),
            ..vars()
        };
        let r = render_email(K::EmailOtp, "en", &anon, None);
        assert!(r.text.starts_with("Hi there,"));
        assert!(
            render_email(K::EmailOtp, "de", &anon, None)
                .text
                .starts_with("Hallo,")
        );
    }

    #[test]
    fn session_alert_fills_missing_agent_parts() {
        let v = Vars {
            agent_client: String::new(),
            agent_os: " ".into(),
            country: String::new(),
            ..vars()
        };
        let r = render_email(K::SessionAlert, "en", &v, None);
        assert!(r.text.contains("App: unknown") && r.text.contains("System: unknown"));
        assert!(r.text.contains("Device: desktop") && r.text.contains("IP address: 203.0.113.7"));
        assert!(r.html.contains("<td style=\"padding:4px 0;\">unknown</td>"));
        let r = render_email(K::SessionAlert, "de-AT", &v, None);
        assert!(r.text.contains("Land: unbekannt"));
    }

    #[test]
    fn expiry_is_optional() {
        assert!(
            render_email(K::EmailOtp, "en", &vars(), None)
                .text
                .contains("15 minutes")
        );
        let v = Vars {
            expires_minutes: 0,
            ..vars()
        };
        assert!(
            !render_email(K::EmailOtp, "en", &v, None)
                .text
                .contains("expires")
        );
    }

    #[test]
    fn overrides_replace_non_empty_fields_with_placeholders() {
        let custom = Override {
            subject: "{{project}} login for {{ user }}".into(),
            text: "Code {{code}} ({{expiresMinutes}} min) {{unknownVar}} {{agentOs}}".into(),
            html: String::new(),
        };
        let v = Vars {
            project: "A&B".into(),
            ..vars()
        };
        let r = render_email(K::EmailOtp, "fr", &v, Some(&custom));
        assert_eq!(r.subject, "A&B login for Ana");
        assert_eq!(r.text, "Code 123456 (15 min) {{unknownVar}} Linux");
        // The default HTML keeps its French body and takes the custom subject as heading.
        assert!(r.html.contains("<title>A&amp;B login for Ana</title>"));
        assert!(
            r.html
                .contains("Saisissez ce code pour vous connecter à A&amp;B")
        );

        let custom = Override {
            html: "<h1>{{project}}</h1><a href=\"{{link}}\">go</a>".into(),
            ..Override::default()
        };
        let r = render_email(K::MagicUrl, "en", &v, Some(&custom));
        assert_eq!(r.subject, "Sign in to A&B");
        assert_eq!(
            r.html,
            "<h1>A&amp;B</h1><a href=\"https://app.example.com/auth?userId=u1&amp;secret=s3cr3t\">go</a>"
        );
        let bad = Vars {
            link: "javascript:alert(1)".into(),
            ..v
        };
        let r = render_email(K::MagicUrl, "en", &bad, Some(&custom));
        assert_eq!(r.html, "<h1>A&amp;B</h1><a href=\"\">go</a>");
    }

    #[test]
    fn values_are_substituted_once_and_subjects_stay_on_one_line() {
        let v = Vars {
            user: "{{code}}".into(),
            project: "Acme\r\nBcc: x@evil.test".into(),
            ..vars()
        };
        let r = render_email(K::EmailOtp, "en", &v, None);
        assert!(r.text.starts_with("Hi {{code}},"));
        assert!(!r.subject.contains('\n') && !r.subject.contains('\r'));
    }

    #[test]
    fn sms_contains_code_and_project() {
        for loc in SUPPORTED {
            for kind in SMS_KINDS {
                let sms = render_sms(kind, loc, &vars(), None);
                assert!(
                    sms.contains("123456") && sms.contains("Acme"),
                    "{loc}/{kind:?}: {sms}"
                );
                assert!(sms.chars().count() <= 120, "{loc}/{kind:?} too long");
            }
        }
        assert_eq!(
            render_sms(K::PhoneOtp, "en-US", &vars(), None),
            "123456 is your Acme verification code."
        );
        let custom = Override {
            text: "{{project}}: {{code}}".into(),
            ..Override::default()
        };
        assert_eq!(
            render_sms(K::PhoneOtp, "ja", &vars(), Some(&custom)),
            "Acme: 123456"
        );
        let empty = Override::default();
        assert_eq!(
            render_sms(K::MfaChallengeSms, "de", &vars(), Some(&empty)),
            "123456 ist dein Anmeldecode für Acme. Gib ihn an niemanden weiter."
        );
    }

    #[test]
    fn override_deserialises_with_missing_fields() {
        let o: Override = serde_json::from_str(r#"{"subject":"Hi {{user}}"}"#).expect("json");
        assert_eq!(
            o,
            Override {
                subject: "Hi {{user}}".into(),
                ..Override::default()
            }
        );
    }
}
