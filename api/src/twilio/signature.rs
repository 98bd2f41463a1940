//! Verification of Twilio webhook signatures (`X-Twilio-Signature`).
//!
//! Twilio signs every webhook it sends: it takes the full URL it requested,
//! appends each POST parameter as `name` immediately followed by `value`
//! (parameters sorted by name, then by value, identical pairs counted once),
//! computes an HMAC of that string and sends it base64-encoded in the
//! `X-Twilio-Signature` header.
//!
//! Two schemes exist:
//! - the default one: HMAC-SHA1 keyed with the account's Auth Token;
//! - shared keys (Webhooks configuration API): when a Webhook Rule matches the
//!   URL, Twilio signs with the rule's `SharedKey` secret and the algorithm it
//!   names, and adds `X-Twilio-Webhooks-Signature-Settings:
//!   key=<key id>,algorithm=HMAC_SHA256`. The signed string is the same.
//!
//! Like Twilio's own helper libraries, [`verify`] accepts a signature computed
//! over the URL with its port removed or with the scheme's default port added
//! (443 for https, 80 otherwise), because Twilio is not consistent about which
//! form it signs.
//!
//! JSON bodies: Twilio does not sign a JSON body's fields; it adds a
//! `bodySHA256` query parameter (hex SHA-256 of the raw body) to the URL and
//! signs the URL alone. [`verify_json_body`] checks both.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";
/// Header Twilio adds when it signed with a shared key: `key=<id>,algorithm=<name>`.
pub const SIGNATURE_SETTINGS_HEADER: &str = "X-Twilio-Webhooks-Signature-Settings";
/// Query parameter carrying the hex SHA-256 of a JSON body.
pub const BODY_SHA256_PARAM: &str = "bodySHA256";

/// The HMAC used for a signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `HMAC_SHA1`: the default, always used with the Auth Token.
    HmacSha1,
    /// `HMAC_SHA256`: available for shared keys.
    HmacSha256,
}

impl Algorithm {
    /// The name Twilio uses in the settings header.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::HmacSha1 => "HMAC_SHA1",
            Algorithm::HmacSha256 => "HMAC_SHA256",
        }
    }

    /// Parses an algorithm name, ignoring ASCII case (as Twilio's libraries do).
    pub fn from_name(name: &str) -> Option<Self> {
        let name = name.trim();
        if name.eq_ignore_ascii_case("HMAC_SHA1") {
            Some(Algorithm::HmacSha1)
        } else if name.eq_ignore_ascii_case("HMAC_SHA256") {
            Some(Algorithm::HmacSha256)
        } else {
            None
        }
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The secrets a webhook may be signed with.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SignatureKeys {
    /// The account's Auth Token: used when the request carries no settings header.
    pub auth_token: Option<String>,
    /// The `SharedKey` secret: used when the request carries the settings header.
    pub shared_key: Option<String>,
}

impl std::fmt::Debug for SignatureKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |k: &Option<String>| {
            if usable(k.as_deref()).is_some() {
                "<set>"
            } else {
                "<unset>"
            }
        };
        f.debug_struct("SignatureKeys").field("auth_token", &shown(&self.auth_token)).field("shared_key", &shown(&self.shared_key)).finish()
    }
}

/// Why a webhook was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No (or an empty) `X-Twilio-Signature` header.
    #[error("missing X-Twilio-Signature header")]
    Missing,
    /// The signature header is not canonical standard base64.
    #[error("malformed X-Twilio-Signature header")]
    Malformed,
    /// The settings header names an algorithm this code does not know.
    #[error("unsupported webhook signature algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// The key the request calls for (Auth Token, or shared key when the
    /// settings header is present) is not configured. A server-side problem.
    #[error("no {0} configured to verify this webhook")]
    NoKeyConfigured(&'static str),
    /// The signature does not match the URL and parameters.
    #[error("webhook signature does not match")]
    Mismatch,
    /// A JSON body whose URL lacks `bodySHA256`, or whose hash differs.
    #[error("request body does not match the bodySHA256 query parameter")]
    BodyHashMismatch,
}

fn usable(key: Option<&str>) -> Option<&str> {
    key.filter(|k| !k.is_empty())
}

fn present(header: Option<&str>) -> Option<&str> {
    header.map(str::trim).filter(|h| !h.is_empty())
}

/// The algorithm named by a `X-Twilio-Webhooks-Signature-Settings` value.
///
/// A missing or empty header, or one without a non-empty `algorithm=`, means
/// HMAC-SHA1. The first `algorithm=` part wins. Names are case-insensitive.
pub fn signature_algorithm(settings_header: Option<&str>) -> Result<Algorithm, SignatureError> {
    let named = settings_header.unwrap_or("").split(',').find_map(|part| {
        let (name, value) = part.split_once('=')?;
        let value = value.trim();
        (name.trim() == "algorithm" && !value.is_empty()).then_some(value)
    });
    match named {
        None => Ok(Algorithm::HmacSha1),
        Some(name) => Algorithm::from_name(name).ok_or_else(|| SignatureError::UnsupportedAlgorithm(name.to_owned())),
    }
}

/// The value of the settings header Twilio sends with a shared-key signature.
pub fn settings_header_value(key_id: &str, algorithm: Algorithm) -> String {
    format!("key={key_id},algorithm={algorithm}")
}

/// Chooses the secret and algorithm for a request, as Twilio's libraries do:
/// no settings header → Auth Token and HMAC-SHA1; settings header → shared key
/// and the header's algorithm.
pub fn select_key<'k>(keys: &'k SignatureKeys, settings_header: Option<&str>) -> Result<(&'k str, Algorithm), SignatureError> {
    match present(settings_header) {
        None => {
            usable(keys.auth_token.as_deref()).map(|k| (k, Algorithm::HmacSha1)).ok_or(SignatureError::NoKeyConfigured("Twilio auth token"))
        }
        Some(settings) => {
            let algorithm = signature_algorithm(Some(settings))?;
            usable(keys.shared_key.as_deref()).map(|k| (k, algorithm)).ok_or(SignatureError::NoKeyConfigured("Twilio webhook shared key"))
        }
    }
}

fn mac_of<M: Mac>(mut mac: M, url: &str, params: &[(String, String)]) -> Vec<u8> {
    let mut sorted: Vec<(&str, &str)> = params.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    // By name, then by value; a pair sent twice counts once (Twilio's libraries
    // sort `set(values)`).
    sorted.sort_unstable();
    sorted.dedup();
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac.finalize().into_bytes().to_vec()
}

/// The raw HMAC bytes of the signed string.
fn compute(key: &str, algorithm: Algorithm, url: &str, params: &[(String, String)]) -> Vec<u8> {
    // HMAC takes keys of any length, so the `Err` arms cannot be reached; an
    // empty result would simply never match.
    match algorithm {
        Algorithm::HmacSha1 => match Hmac::<Sha1>::new_from_slice(key.as_bytes()) {
            Ok(mac) => mac_of(mac, url, params),
            Err(_) => Vec::new(),
        },
        Algorithm::HmacSha256 => match Hmac::<Sha256>::new_from_slice(key.as_bytes()) {
            Ok(mac) => mac_of(mac, url, params),
            Err(_) => Vec::new(),
        },
    }
}

/// The `X-Twilio-Signature` value Twilio would send for this URL and these
/// POST parameters, signed with `key` (Auth Token or shared key secret).
pub fn sign(key: &str, algorithm: Algorithm, url: &str, params: &[(String, String)]) -> String {
    BASE64.encode(compute(key, algorithm, url, params))
}

/// Verifies a form-encoded webhook.
///
/// `url` is the full URL Twilio requested (scheme, host, path and query exactly
/// as configured at Twilio), `params` the decoded POST parameters in any order
/// (see [`super::params::form_pairs`]); for a GET webhook pass no parameters,
/// the query is part of `url`.
pub fn verify(
    keys: &SignatureKeys,
    url: &str,
    params: &[(String, String)],
    signature_header: Option<&str>,
    settings_header: Option<&str>,
) -> Result<(), SignatureError> {
    let signature = present(signature_header).ok_or(SignatureError::Missing)?;
    let (key, algorithm) = select_key(keys, settings_header)?;
    let expected = BASE64.decode(signature).map_err(|_| SignatureError::Malformed)?;
    let mut matched = subtle::Choice::from(0u8);
    for candidate in url_variants(url) {
        let computed = compute(key, algorithm, &candidate, params);
        // Lengths are public (they depend on the algorithm only).
        if computed.len() == expected.len() {
            matched |= computed.ct_eq(&expected);
        }
    }
    if bool::from(matched) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Verifies a webhook with a JSON body: the URL must carry `bodySHA256` equal
/// to the hex SHA-256 of `body`, and the signature is over the URL alone.
pub fn verify_json_body(
    keys: &SignatureKeys,
    url: &str,
    body: &[u8],
    signature_header: Option<&str>,
    settings_header: Option<&str>,
) -> Result<(), SignatureError> {
    verify(keys, url, &[], signature_header, settings_header)?;
    let claimed = query_param(url, BODY_SHA256_PARAM).ok_or(SignatureError::BodyHashMismatch)?;
    let actual = body_sha256_hex(body);
    if bool::from(actual.as_bytes().ct_eq(claimed.to_ascii_lowercase().as_bytes())) {
        Ok(())
    } else {
        Err(SignatureError::BodyHashMismatch)
    }
}

/// Lower-case hex SHA-256 of a body, as Twilio puts it in `bodySHA256`.
pub fn body_sha256_hex(body: &[u8]) -> String {
    Sha256::digest(body).iter().fold(String::with_capacity(64), |mut s, b| {
        s.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        s.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
        s
    })
}

/// The first value of query parameter `name` in `url`, form-decoded.
fn query_param(url: &str, name: &str) -> Option<String> {
    let without_fragment = url.split('#').next().unwrap_or(url);
    let (_, query) = without_fragment.split_once('?')?;
    query.split('&').find_map(|pair| {
        let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
        (form_decode(n) == name).then(|| form_decode(v))
    })
}

fn form_decode(s: &str) -> String {
    let plus_as_space = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_as_space).decode_utf8_lossy().into_owned()
}

/// The forms of `url` a signature is checked against: as given, without its
/// port, and with the scheme's default port when it has none. Twilio's
/// libraries strip any port (not only the default one) for the "without" form.
/// URLs that cannot be split into scheme and authority are used as given.
pub fn url_variants(url: &str) -> Vec<String> {
    let mut out = vec![url.to_owned()];
    if let Some(parts) = split_authority(url) {
        let without = format!("{}{}", &url[..parts.host_end], &url[parts.end..]);
        let with = if parts.has_port {
            url.to_owned()
        } else {
            let default = if parts.scheme.eq_ignore_ascii_case("https") { 443 } else { 80 };
            format!("{}:{default}{}", &url[..parts.end], &url[parts.end..])
        };
        for v in [without, with] {
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    out
}

struct Authority<'a> {
    scheme: &'a str,
    /// Byte index where the host ends (start of `:port`, or the authority end).
    host_end: usize,
    /// Byte index where the authority ends (start of path, query or fragment).
    end: usize,
    has_port: bool,
}

fn split_authority(url: &str) -> Option<Authority<'_>> {
    let scheme_end = url.find("://")?;
    let scheme = &url[..scheme_end];
    if scheme.is_empty() || !scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) {
        return None;
    }
    let start = scheme_end + 3;
    let authority_end = url[start..].find(['/', '?', '#']).map_or(url.len(), |i| start + i);
    let authority = &url[start..authority_end];
    // Credentials (`user:pass@`) stay untouched in every variant.
    let host_start = start + authority.rfind('@').map_or(0, |i| i + 1);
    let host_port = &url[host_start..authority_end];
    let colon = if host_port.starts_with('[') {
        // IPv6 literal: the port, if any, follows the closing bracket.
        let close = host_port.find(']')?;
        match &host_port[close + 1..] {
            "" => None,
            rest if rest.starts_with(':') => Some(close + 1),
            _ => return None,
        }
    } else {
        host_port.find(':')
    };
    match colon {
        None => Some(Authority { scheme, host_end: authority_end, end: authority_end, has_port: false }),
        Some(c) => {
            let port = &host_port[c + 1..];
            if !port.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some(Authority { scheme, host_end: host_start + c, end: authority_end, has_port: true })
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    fn token(t: &str) -> SignatureKeys {
        SignatureKeys { auth_token: Some(t.to_owned()), shared_key: None }
    }

    // Shared test data: /work/shared/twilio/signature-vectors.json, computed
    // with the official twilio Python library 9.13.0.
    const VECTORS: &str = include_str!("../../tests-data/signature-vectors.json");

    #[test]
    fn shared_vectors_sign_and_verify() {
        let doc: serde_json::Value = serde_json::from_str(VECTORS).unwrap();
        let vectors = doc["vectors"].as_array().unwrap();
        assert!(!vectors.is_empty());
        for v in vectors {
            let algorithm = Algorithm::from_name(v["algorithm"].as_str().unwrap()).unwrap();
            let key = v["auth_token"].as_str().unwrap();
            let url = v["url"].as_str().unwrap();
            let params: Vec<(String, String)> =
                v["params"].as_object().unwrap().iter().map(|(n, val)| (n.clone(), val.as_str().unwrap().to_owned())).collect();
            let expected = v["signature"].as_str().unwrap();
            assert_eq!(sign(key, algorithm, url, &params), expected, "vector for {url}");

            // Order of the pairs must not matter.
            let mut reversed = params.clone();
            reversed.reverse();
            assert_eq!(verify(&token(key), url, &reversed, Some(expected), None), Ok(()));
        }
    }

    #[test]
    fn documented_example() {
        // Twilio's documentation example (first vector of the shared file).
        let params = pairs(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]);
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(sign("12345", Algorithm::HmacSha1, url, &params), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
    }

    // Reference values below were computed once with the official twilio
    // Python library 9.13.0 (`RequestValidator(key).compute_signature(url,
    // params[, "HMAC_SHA256"])`, a MultiDict-like object for repeated names).

    #[test]
    fn repeated_names_sorted_by_value_and_deduplicated() {
        let params = pairs(&[("b", "2"), ("a", "z"), ("a", "y"), ("a", "y"), ("A", "x"), ("é", "ü"), ("Z", "")]);
        let url = "https://example.com/hook";
        assert_eq!(sign("12345", Algorithm::HmacSha1, url, &params), "zWUHTTsaEspTL/BiV0BbpK+DWoE=");
        assert_eq!(sign("12345", Algorithm::HmacSha256, url, &params), "/raJKH1dsfi9+/xu2cvGJExZPQMkufYH4BXXEEkcW3w=");
    }

    fn call_params() -> Vec<(String, String)> {
        pairs(&[("CallSid", "CA1"), ("From", "+1555"), ("To", "+1666")])
    }

    #[test]
    fn port_variants_as_python_library() {
        let p = call_params();
        // Signatures Twilio's library computes for each URL form.
        let no_port = "SH9r41x6rvRV/I1j2ZCPAqulEkM=";
        let port_443 = "kMBAFyCP6MbKiHEqXHH2rQkG8CU=";
        assert_eq!(sign("12345", Algorithm::HmacSha1, "https://example.com/hook", &p), no_port);
        assert_eq!(sign("12345", Algorithm::HmacSha1, "https://example.com:443/hook", &p), port_443);
        assert_eq!(sign("12345", Algorithm::HmacSha1, "http://example.com:80/hook", &p), "zUYiYg5mjBFjUbAFpgP4ZBIzG5c=");
        assert_eq!(sign("12345", Algorithm::HmacSha1, "https://example.com:8443/hook", &p), "dJahxyvBiZiNtfDK+e/kTPVVj4M=");
        let keys = token("12345");
        for url in ["https://example.com/hook", "https://example.com:443/hook"] {
            for sig in [no_port, port_443] {
                assert_eq!(verify(&keys, url, &p, Some(sig), None), Ok(()), "{url} / {sig}");
            }
        }
        // http: default port 80.
        let http_sig = sign("12345", Algorithm::HmacSha1, "http://example.com:80/hook", &p);
        assert_eq!(verify(&keys, "http://example.com/hook", &p, Some(&http_sig), None), Ok(()));
        // A non-default port is also stripped for the "without port" form, as
        // the Python and Node libraries do.
        assert_eq!(verify(&keys, "https://example.com:8443/hook", &p, Some(no_port), None), Ok(()));
        // But a port is never invented other than the default.
        assert_eq!(
            verify(&keys, "https://example.com/hook", &p, Some("dJahxyvBiZiNtfDK+e/kTPVVj4M="), None),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn url_variants_shapes() {
        assert_eq!(url_variants("https://h.example/p?q=1"), vec!["https://h.example/p?q=1", "https://h.example:443/p?q=1"]);
        assert_eq!(url_variants("https://h.example:443"), vec!["https://h.example:443", "https://h.example"]);
        assert_eq!(url_variants("http://h.example?x"), vec!["http://h.example?x", "http://h.example:80?x"]);
        assert_eq!(url_variants("https://u:p@h.example:8443/x#f"), vec!["https://u:p@h.example:8443/x#f", "https://u:p@h.example/x#f"]);
        assert_eq!(url_variants("https://[::1]:8443/x"), vec!["https://[::1]:8443/x", "https://[::1]/x"]);
        assert_eq!(url_variants("https://[::1]/x"), vec!["https://[::1]/x", "https://[::1]:443/x"]);
        // Unparseable: as given only.
        assert_eq!(url_variants("/relative/path"), vec!["/relative/path"]);
        assert_eq!(url_variants("https://h:abc/x"), vec!["https://h:abc/x"]);
    }

    #[test]
    fn tampered_param_wrong_key_and_header_problems() {
        let p = call_params();
        let url = "https://example.com/hook";
        let good = sign("12345", Algorithm::HmacSha1, url, &p);
        let keys = token("12345");
        assert_eq!(verify(&keys, url, &p, Some(&good), None), Ok(()));
        // Surrounding whitespace in the header is tolerated.
        assert_eq!(verify(&keys, url, &p, Some(&format!(" {good} ")), None), Ok(()));

        let mut tampered = p.clone();
        tampered[1].1 = "+1999".to_owned();
        assert_eq!(verify(&keys, url, &tampered, Some(&good), None), Err(SignatureError::Mismatch));
        let mut extra = p.clone();
        extra.push(("Digits".to_owned(), "1".to_owned()));
        assert_eq!(verify(&keys, url, &extra, Some(&good), None), Err(SignatureError::Mismatch));
        assert_eq!(verify(&keys, "https://example.com/other", &p, Some(&good), None), Err(SignatureError::Mismatch));
        assert_eq!(verify(&token("54321"), url, &p, Some(&good), None), Err(SignatureError::Mismatch));

        assert_eq!(verify(&keys, url, &p, None, None), Err(SignatureError::Missing));
        assert_eq!(verify(&keys, url, &p, Some("  "), None), Err(SignatureError::Missing));
        assert_eq!(verify(&keys, url, &p, Some("not base64!"), None), Err(SignatureError::Malformed));
        // Valid base64 of the wrong length is simply a mismatch.
        assert_eq!(verify(&keys, url, &p, Some("AAAA"), None), Err(SignatureError::Mismatch));
        assert_eq!(
            verify(&SignatureKeys::default(), url, &p, Some(&good), None),
            Err(SignatureError::NoKeyConfigured("Twilio auth token"))
        );
        let empty = SignatureKeys { auth_token: Some(String::new()), shared_key: None };
        assert!(matches!(verify(&empty, url, &p, Some(&good), None), Err(SignatureError::NoKeyConfigured(_))));
    }

    #[test]
    fn shared_key_sha256_scheme() {
        let p = call_params();
        let url = "https://example.com/hook?x=1";
        // twilio 9.13.0: RequestValidator("shared-secret-key").compute_signature(url, p, "HMAC_SHA256")
        let sig256 = "PbF8GmyWQoVmQ+k2pgMyCPewTn9kimQXFvrO4pRNMCc=";
        assert_eq!(sign("shared-secret-key", Algorithm::HmacSha256, url, &p), sig256);
        let keys = SignatureKeys { auth_token: Some("12345".into()), shared_key: Some("shared-secret-key".into()) };
        let settings = settings_header_value("webhooks_sharedkey_1", Algorithm::HmacSha256);
        assert_eq!(settings, "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256");
        assert_eq!(verify(&keys, url, &p, Some(sig256), Some(&settings)), Ok(()));
        // Port variants apply to this scheme too.
        assert_eq!(verify(&keys, "https://example.com:443/hook?x=1", &p, Some(sig256), Some(&settings)), Ok(()));
        // Without the settings header the Auth Token and SHA1 are expected.
        assert_eq!(verify(&keys, url, &p, Some(sig256), None), Err(SignatureError::Mismatch));
        // The shared key with SHA1 (settings header without algorithm).
        let sig1 = "o10RVhdDBLqjbWzDrsicxMaGZEI=";
        assert_eq!(sign("shared-secret-key", Algorithm::HmacSha1, url, &p), sig1);
        assert_eq!(verify(&keys, url, &p, Some(sig1), Some("key=webhooks_sharedkey_1")), Ok(()));
        // The Auth Token must not validate a request announcing a shared key.
        let by_token = sign("12345", Algorithm::HmacSha256, url, &p);
        assert_eq!(verify(&keys, url, &p, Some(&by_token), Some(&settings)), Err(SignatureError::Mismatch));
        // No shared key configured.
        assert_eq!(
            verify(&token("12345"), url, &p, Some(sig256), Some(&settings)),
            Err(SignatureError::NoKeyConfigured("Twilio webhook shared key"))
        );
        // Unknown algorithm.
        assert_eq!(
            verify(&keys, url, &p, Some(sig256), Some("key=k,algorithm=HMAC_MD5")),
            Err(SignatureError::UnsupportedAlgorithm("HMAC_MD5".into()))
        );
    }

    #[test]
    fn settings_header_parsing_like_python() {
        // Same answers as twilio.request_validator.get_signature_algorithm
        // (plus its case-insensitive support check).
        assert_eq!(signature_algorithm(None), Ok(Algorithm::HmacSha1));
        assert_eq!(signature_algorithm(Some("")), Ok(Algorithm::HmacSha1));
        assert_eq!(signature_algorithm(Some("key=abc")), Ok(Algorithm::HmacSha1));
        assert_eq!(signature_algorithm(Some("algorithm=")), Ok(Algorithm::HmacSha1));
        assert_eq!(signature_algorithm(Some("key=abc,algorithm=HMAC_SHA256")), Ok(Algorithm::HmacSha256));
        assert_eq!(signature_algorithm(Some(" algorithm = hmac_sha256 ")), Ok(Algorithm::HmacSha256));
        assert_eq!(
            signature_algorithm(Some("algorithm=FOO,algorithm=HMAC_SHA256")),
            Err(SignatureError::UnsupportedAlgorithm("FOO".into()))
        );
    }

    #[test]
    fn json_body_with_body_sha256() {
        // twilio 9.13.0: body '{"a":1}', url "https://example.com/hook?bodySHA256=<hex>",
        // compute_signature(url, {}) == "2e7mH/NA6FwzvUqLZxhsETU/4bw="
        let body = br#"{"a":1}"#;
        let hex = body_sha256_hex(body);
        assert_eq!(hex, "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862");
        let url = format!("https://example.com/hook?{BODY_SHA256_PARAM}={hex}");
        let sig = "2e7mH/NA6FwzvUqLZxhsETU/4bw=";
        assert_eq!(sign("12345", Algorithm::HmacSha1, &url, &[]), sig);
        let keys = token("12345");
        assert_eq!(verify_json_body(&keys, &url, body, Some(sig), None), Ok(()));
        assert_eq!(verify_json_body(&keys, &url, br#"{"a":2}"#, Some(sig), None), Err(SignatureError::BodyHashMismatch));
        // A URL without bodySHA256 cannot vouch for a body.
        let bare = "https://example.com/hook";
        let bare_sig = sign("12345", Algorithm::HmacSha1, bare, &[]);
        assert_eq!(verify_json_body(&keys, bare, body, Some(&bare_sig), None), Err(SignatureError::BodyHashMismatch));
        // The form verifier does not break on such a URL: it is signed like any other.
        assert_eq!(verify(&keys, &url, &[], Some(sig), None), Ok(()));
    }

    #[test]
    fn debug_hides_secrets() {
        let keys = SignatureKeys { auth_token: Some("topsecret".into()), shared_key: None };
        let shown = format!("{keys:?}");
        assert!(!shown.contains("topsecret"));
        assert!(shown.contains("<set>") && shown.contains("<unset>"));
    }
}
