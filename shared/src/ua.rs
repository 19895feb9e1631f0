//! User-Agent parsing into the device fields Appwrite stores on a session
//! (`osCode`, `clientName`, `deviceModel`, ...).
//!
//! Owns the mapping from a raw `User-Agent` header to matomo DeviceDetector's
//! vocabulary. It is a deliberately small, dependency-free subset of
//! DeviceDetector's rules: the common operating systems and browsers, a few
//! HTTP libraries and the Appwrite SDKs/CLI. Anything it does not recognise
//! stays an empty string, and no input can make it panic (all slicing goes
//! through `get`, `split` or offsets returned by `find`).

use serde::{Deserialize, Serialize};

/// Device fields of a session, named after DeviceDetector's output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub os_code: String,
    pub os_name: String,
    pub os_version: String,
    pub client_type: String,
    pub client_code: String,
    pub client_name: String,
    pub client_version: String,
    pub client_engine: String,
    pub client_engine_version: String,
    pub device_name: String,
    pub device_brand: String,
    pub device_model: String,
}

const BROWSER: &str = "browser";
const LIBRARY: &str = "library";

/// Parses a User-Agent header; unknown parts stay empty.
pub fn parse(ua: &str) -> Device {
    let ua = ua.trim();
    let mut d = Device::default();
    if ua.is_empty() {
        return d;
    }
    // ASCII lowering keeps every byte offset identical to `ua`.
    let lower = ua.to_ascii_lowercase();
    detect_os(ua, &lower, &mut d);
    if !detect_appwrite(ua, &mut d) && !detect_browser(ua, &mut d) {
        detect_library(ua, &lower, &mut d);
    }
    detect_device(ua, &mut d);
    d
}

/// The version-like token starting at byte `start` of `s` ("" when none).
fn token_from(s: &str, start: usize) -> &str {
    let Some(rest) = s.get(start..) else {
        return "";
    };
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .unwrap_or(rest.len());
    rest.get(..end).unwrap_or("")
}

/// The version-like token right after the first `marker` in `s`.
fn token_after<'a>(s: &'a str, marker: &str) -> &'a str {
    s.find(marker)
        .map_or("", |i| token_from(s, i + marker.len()))
}

/// Keeps at most `major.minor` of a dotted version.
fn major_minor(version: &str) -> String {
    version.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// End offset of `word` in `hay` where it stands as a separate token.
fn find_word(hay: &str, word: &str) -> Option<usize> {
    hay.match_indices(word).find_map(|(i, _)| {
        let end = i + word.len();
        let before = hay.get(..i).and_then(|s| s.chars().next_back());
        let after = hay.get(end..).and_then(|s| s.chars().next());
        let ok =
            before.is_none_or(|c| " (;,".contains(c)) && after.is_none_or(|c| "/ ;)".contains(c));
        ok.then_some(end)
    })
}

fn set_client(d: &mut Device, kind: &str, code: &str, name: &str, version: String) {
    d.client_type = kind.to_owned();
    d.client_code = code.to_owned();
    d.client_name = name.to_owned();
    d.client_version = version;
}

fn detect_os(ua: &str, lower: &str, d: &mut Device) {
    let (code, name, version) = if lower.contains("windows") || lower.contains("win32") {
        let version = match token_after(ua, "Windows NT ") {
            "10.0" => "10",
            "6.3" => "8.1",
            "6.2" => "8",
            "6.1" => "7",
            "6.0" => "Vista",
            "5.1" | "5.2" => "XP",
            _ => "",
        };
        ("WIN", "Windows", version.to_owned())
    } else if ["iPhone", "iPad", "iPod"].iter().any(|m| ua.contains(m)) {
        // "CPU iPhone OS 17_1 like Mac OS X" / "CPU OS 17_1 like Mac OS X"
        ("IOS", "iOS", token_after(ua, " OS ").replace('_', "."))
    } else if ua.contains("Android") {
        ("AND", "Android", token_after(ua, "Android ").to_owned())
    } else if ua.contains("CrOS") {
        ("COS", "Chrome OS", String::new())
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") || lower.contains("darwin") {
        ("MAC", "Mac", token_after(ua, "Mac OS X ").replace('_', "."))
    } else if lower.contains("linux") {
        ("LIN", "GNU/Linux", String::new())
    } else {
        return;
    };
    d.os_code = code.to_owned();
    d.os_name = name.to_owned();
    d.os_version = version;
}

/// Appwrite's own clients: the CLI and the `Appwrite<Platform>SDK/<version>` SDKs.
fn detect_appwrite(ua: &str, d: &mut Device) -> bool {
    if ua.contains("AppwriteCLI") {
        let version = token_after(ua, "AppwriteCLI/").to_owned();
        set_client(d, "desktop", "cli", "Appwrite CLI", version);
        return true;
    }
    let Some(rest) = ua.find("Appwrite").and_then(|i| ua.get(i..)) else {
        return false;
    };
    let name = rest.split('/').next().unwrap_or("");
    let platform = name
        .strip_prefix("Appwrite")
        .and_then(|p| p.strip_suffix("SDK"))
        .filter(|p| p.chars().all(|c| c.is_ascii_alphanumeric()));
    let Some(platform) = platform else {
        return false;
    };
    let platform = match platform {
        "NodeJS" => "Node.js",
        other => other,
    };
    let label = if platform.is_empty() {
        "Appwrite SDK".to_owned()
    } else {
        format!("Appwrite {platform} SDK")
    };
    let version = rest.get(name.len()..).and_then(|r| r.strip_prefix('/'));
    let version = version.map_or("", |r| token_from(r, 0)).to_owned();
    set_client(d, LIBRARY, "", &label, version);
    true
}

fn detect_browser(ua: &str, d: &mut Device) -> bool {
    // Most specific first: Edge, Opera and Samsung Internet also announce
    // Chrome, and Chrome announces Safari.
    const RULES: [(&str, &str, &str); 9] = [
        ("Edg/", "PS", "Microsoft Edge"),
        ("EdgA/", "PS", "Microsoft Edge"),
        ("EdgiOS/", "PS", "Microsoft Edge"),
        ("OPR/", "OP", "Opera"),
        ("SamsungBrowser/", "SB", "Samsung Browser"),
        ("Firefox/", "FF", "Firefox"),
        ("FxiOS/", "FF", "Firefox"),
        ("Chrome/", "CH", "Chrome"),
        ("CriOS/", "CH", "Chrome"),
    ];
    let (code, name, version) = match RULES.iter().find(|(m, ..)| ua.contains(m)) {
        Some(&(marker, code, name)) => (code, name, token_after(ua, marker)),
        None if ua.contains("Safari/") => ("SF", "Safari", token_after(ua, "Version/")),
        None => return false,
    };
    set_client(d, BROWSER, code, name, major_minor(version));
    // Every browser on iOS runs on WebKit, whatever it calls itself.
    let (engine, engine_version) = if d.os_code == "IOS" || code == "SF" {
        ("WebKit", token_after(ua, "AppleWebKit/"))
    } else if code == "FF" {
        ("Gecko", token_after(ua, "rv:"))
    } else {
        ("Blink", token_after(ua, "Chrome/"))
    };
    d.client_engine = engine.to_owned();
    d.client_engine_version = major_minor(engine_version);
    true
}

fn detect_library(ua: &str, lower: &str, d: &mut Device) {
    const RULES: [(&str, &str); 7] = [
        ("curl", "curl"),
        ("python-requests", "Python Requests"),
        ("okhttp", "OkHttp"),
        ("dart", "Dart"),
        ("node-fetch", "Node Fetch"),
        ("undici", "Node Fetch"),
        ("node", "Node Fetch"),
    ];
    for (marker, name) in RULES {
        if let Some(end) = find_word(lower, marker) {
            let version = ua.get(end..).and_then(|r| r.strip_prefix('/'));
            let version = version.map_or("", |r| token_from(r, 0)).to_owned();
            set_client(d, LIBRARY, "", name, version);
            return;
        }
    }
}

/// The `<model>` of an Android `...; <model> Build/...` segment.
fn android_model(ua: &str) -> &str {
    let Some(before) = ua.find(" Build/").and_then(|i| ua.get(..i)) else {
        return "";
    };
    before.rsplit(';').next().unwrap_or("").trim()
}

fn android_brand(model: &str) -> &'static str {
    if model.starts_with("SM-") || model.starts_with("GT-") {
        "Samsung"
    } else if model.starts_with("Pixel") {
        "Google"
    } else {
        ""
    }
}

fn detect_device(ua: &str, d: &mut Device) {
    let (name, brand, model) = match d.os_code.as_str() {
        "IOS" => {
            let model = ["iPad", "iPod", "iPhone"]
                .into_iter()
                .find(|m| ua.contains(m))
                .unwrap_or("iPhone");
            let name = match model {
                "iPad" => "tablet",
                "iPod" => "portable media player",
                _ => "smartphone",
            };
            (name, "Apple", model)
        }
        "AND" => {
            let model = android_model(ua);
            let name = if ua.contains("Mobile") {
                "smartphone"
            } else {
                "tablet"
            };
            (name, android_brand(model), model)
        }
        "MAC" if d.client_type == BROWSER => ("desktop", "Apple", ""),
        "WIN" | "LIN" | "COS" if d.client_type == BROWSER => ("desktop", "", ""),
        _ => return,
    };
    d.device_name = name.to_owned();
    d.device_brand = brand.to_owned();
    d.device_model = model.to_owned();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// All fields in declaration order, `|`-separated: os code|name|version|client
    /// type|code|name|version|engine|engine version|device name|brand|model.
    fn s(ua: &str) -> String {
        let d = parse(ua);
        let os = [d.os_code, d.os_name, d.os_version];
        let client = [
            d.client_type,
            d.client_code,
            d.client_name,
            d.client_version,
        ];
        let engine = [d.client_engine, d.client_engine_version];
        let device = [d.device_name, d.device_brand, d.device_model];
        [&os[..], &client[..], &engine[..], &device[..]]
            .concat()
            .join("|")
    }

    macro_rules! cases {
        ($($name:ident: $ua:expr => $want:expr;)*) => {$(
            #[test]
            fn $name() {
                assert_eq!(s($ua), $want, "{:?}", $ua);
            }
        )*};
    }

    cases! {
        chrome_on_windows: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.109 Safari/537.36"
            => "WIN|Windows|10|browser|CH|Chrome|120.0|Blink|120.0|desktop||";
        firefox_on_windows_7: "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:115.0) Gecko/20100101 Firefox/115.0"
            => "WIN|Windows|7|browser|FF|Firefox|115.0|Gecko|115.0|desktop||";
        safari_on_iphone: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
            => "IOS|iOS|17.1|browser|SF|Safari|17.1|WebKit|605.1|smartphone|Apple|iPhone";
        safari_on_ipad_is_a_tablet: "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1"
            => "IOS|iOS|16.6|browser|SF|Safari|16.6|WebKit|605.1|tablet|Apple|iPad";
        safari_on_mac: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15"
            => "MAC|Mac|10.15.7|browser|SF|Safari|17.1|WebKit|605.1|desktop|Apple|";
        firefox_on_linux: "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
            => "LIN|GNU/Linux||browser|FF|Firefox|121.0|Gecko|121.0|desktop||";
        edge_wins_over_chrome: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91"
            => "WIN|Windows|10|browser|PS|Microsoft Edge|120.0|Blink|120.0|desktop||";
        opera_wins_over_chrome: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0"
            => "WIN|Windows|10|browser|OP|Opera|106.0|Blink|120.0|desktop||";
        android_chrome_with_model: "Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A.231005.007) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36"
            => "AND|Android|14|browser|CH|Chrome|120.0|Blink|120.0|smartphone|Samsung|SM-S918B";
        samsung_internet_on_android_tablet: "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Safari/537.36"
            => "AND|Android|13|browser|SB|Samsung Browser|23.0|Blink|115.0|tablet||";
        chrome_os: "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
            => "COS|Chrome OS||browser|CH|Chrome|120.0|Blink|120.0|desktop||";
        curl_keeps_whole_version: "curl/8.1.2" => "|||library||curl|8.1.2|||||";
        python_requests: "python-requests/2.31.0" => "|||library||Python Requests|2.31.0|||||";
        okhttp: "okhttp/4.12.0" => "|||library||OkHttp|4.12.0|||||";
        dart: "Dart/3.2 (dart:io)" => "|||library||Dart|3.2|||||";
        node_fetch: "node" => "|||library||Node Fetch||||||";
        undici: "undici" => "|||library||Node Fetch||||||";
        appwrite_node_sdk: "AppwriteNodeJSSDK/27.1.0 (linux; x64) Node.js/v20.20.2"
            => "LIN|GNU/Linux||library||Appwrite Node.js SDK|27.1.0|||||";
        appwrite_cli: "AppwriteCLI/6.1.0 (darwin 23.1.0; arm64)"
            => "MAC|Mac||desktop|cli|Appwrite CLI|6.1.0|||||";
        multibyte_version_is_dropped: "Chrome/é" => "|||browser|CH|Chrome||Blink||||";
    }

    #[test]
    fn empty_and_unknown_are_default() {
        for ua in [
            "",
            "   ",
            "SomethingElse/1.0",
            "nodejs-ish",
            "ÄppwriteNodeJSSDK/💥",
        ] {
            assert_eq!(parse(ua), Device::default(), "{ua:?}");
        }
    }

    #[test]
    fn garbage_never_panics() {
        let inputs = "Edg/|Windows NT |Android | Build/|; Build/|Appwrite|AppwriteSDK/|AppwriteCLI/日本|iPhone OS 😀_1|Mac OS X 10_ü|curl/\u{0}|nodé/1|日本語 Build/x; 😀|\u{feff}Firefox/٣|(;|/";
        for ua in inputs.split('|') {
            let _ = parse(ua);
        }
        assert_eq!(parse("AppwriteCLI/日本").client_version, "");
    }
}
