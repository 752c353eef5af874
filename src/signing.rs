//! Cloudinary's signature algorithms, exactly as the official SDKs compute them.
//!
//! - Upload-API request signatures: sorted `key=value` pairs joined by `&`, secret appended,
//!   SHA-1 or SHA-256 hex (the algorithm is not sent; the digest length tells).
//! - Response signatures: version 1 over `public_id` and `version`.
//! - Delivery URL signatures: `s--XXXXXXXX--`, base64url of SHA-1/SHA-256, 8 or 32 chars.
//!
//! Pure functions, checked against the SDKs' own test vectors.

use base64::Engine;
use sha1::{Digest, Sha1};
use sha2::Sha256;

use crate::params::Params;

/// Parameters that are sent but never signed.
const UNSIGNED_KEYS: &[&str] = &[
    "file",
    "api_key",
    "signature",
    "cloud_name",
    "resource_type",
];

/// The hash behind a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Sha1,
    Sha256,
}

/// Signature version 2 escapes `&` inside values as `%26`; version 1 does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

/// The string the SDKs sign (without the secret).
pub fn string_to_sign(params: &Params, version: Version) -> String {
    let mut pairs: Vec<String> = params
        .iter()
        .filter(|(key, _)| !UNSIGNED_KEYS.contains(key))
        .filter_map(|(key, values)| {
            let joined = values
                .iter()
                .filter(|v| !v.is_empty())
                .cloned()
                .collect::<Vec<_>>()
                .join(",");
            if joined.is_empty() {
                return None;
            }
            let pair = format!("{key}={joined}");
            Some(match version {
                Version::V1 => pair,
                Version::V2 => pair.replace('&', "%26"),
            })
        })
        .collect();
    pairs.sort();
    pairs.join("&")
}

/// Hex digest of `text + secret`.
pub fn hex_digest(text: &str, secret: &str, algorithm: Algorithm) -> String {
    match algorithm {
        Algorithm::Sha1 => {
            let mut h = Sha1::new();
            h.update(text.as_bytes());
            h.update(secret.as_bytes());
            hex::encode(h.finalize())
        }
        Algorithm::Sha256 => {
            let mut h = Sha256::new();
            h.update(text.as_bytes());
            h.update(secret.as_bytes());
            hex::encode(h.finalize())
        }
    }
}

/// Outcome of checking a request signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    /// Carries the v2 string to sign, which Cloudinary echoes in its error message.
    Invalid {
        string_to_sign: String,
    },
}

/// Checks `signature` against `params` with either algorithm and either signature version.
pub fn verify_request(params: &Params, signature: &str, secret: &str) -> Verdict {
    let signature = signature.trim().to_ascii_lowercase();
    let algorithm = match signature.len() {
        40 => Some(Algorithm::Sha1),
        64 => Some(Algorithm::Sha256),
        _ => None,
    };
    let v2 = string_to_sign(params, Version::V2);
    if let Some(algorithm) = algorithm {
        let v1 = string_to_sign(params, Version::V1);
        for text in [&v2, &v1] {
            if constant_time_eq(&hex_digest(text, secret, algorithm), &signature) {
                return Verdict::Valid;
            }
        }
    }
    Verdict::Invalid { string_to_sign: v2 }
}

/// The `signature` field of upload responses: version 1 over public_id and version.
pub fn response_signature(public_id: &str, version: i64, secret: &str) -> String {
    let text = format!("public_id={public_id}&version={version}");
    hex_digest(&text, secret, Algorithm::Sha1)
}

/// The 8- or 32-character delivery URL signature over `to_sign` (see reference §1.11).
pub fn url_signature(to_sign: &str, secret: &str, algorithm: Algorithm, long: bool) -> String {
    let digest: Vec<u8> = match algorithm {
        Algorithm::Sha1 => {
            let mut h = Sha1::new();
            h.update(to_sign.as_bytes());
            h.update(secret.as_bytes());
            h.finalize().to_vec()
        }
        Algorithm::Sha256 => {
            let mut h = Sha256::new();
            h.update(to_sign.as_bytes());
            h.update(secret.as_bytes());
            h.finalize().to_vec()
        }
    };
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
    encoded[..if long { 32 } else { 8 }].to_string()
}

/// True when `signature` (the text between `s--` and `--`) signs `to_sign` by any SDK mode.
pub fn verify_url(to_sign: &str, signature: &str, secret: &str) -> bool {
    match signature.len() {
        8 => [Algorithm::Sha1, Algorithm::Sha256]
            .iter()
            .any(|a| constant_time_eq(&url_signature(to_sign, secret, *a, false), signature)),
        32 => constant_time_eq(
            &url_signature(to_sign, secret, Algorithm::Sha256, true),
            signature,
        ),
        _ => false,
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        let mut p = Params::new();
        for (k, v) in pairs {
            p.push(k, *v);
        }
        p
    }

    const SECRET: &str = "hdcixPpR2iKERPwqvH6sHdK9cyac";

    #[test]
    fn sdk_request_vectors() {
        let p = params(&[
            ("cloud_name", "dn6ot3ged"),
            ("timestamp", "1568810420"),
            ("username", "user@cloudinary.com"),
        ]);
        // cloud_name is excluded by servers, but this SDK vector signs it as a plain param.
        let text = "cloud_name=dn6ot3ged&timestamp=1568810420&username=user@cloudinary.com";
        assert_eq!(
            hex_digest(text, SECRET, Algorithm::Sha1),
            "14c00ba6d0dfdedbc86b316847d95b9e6cd46d94"
        );
        assert_eq!(
            hex_digest(text, SECRET, Algorithm::Sha256),
            "45ddaa4fa01f0c2826f32f669d2e4514faf275fe6df053f1a150e7beae58a3bd"
        );
        assert_eq!(
            string_to_sign(&p, Version::V2),
            "timestamp=1568810420&username=user@cloudinary.com"
        );
    }

    #[test]
    fn version_2_escapes_ampersands() {
        let text = string_to_sign(
            &params(&[
                ("timestamp", "1568810420"),
                (
                    "notification_url",
                    "https://fake.com/callback?a=1&tags=hello,world",
                ),
            ]),
            Version::V2,
        );
        let with_cloud = format!("cloud_name=dn6ot3ged&{text}");
        assert_eq!(
            hex_digest(&with_cloud, SECRET, Algorithm::Sha1),
            "4fdf465dd89451cc1ed8ec5b3e314e8a51695704"
        );
    }

    #[test]
    fn node_list_vector_and_excluded_keys() {
        let p = params(&[
            ("public_id", "a"),
            ("timestamp", "1"),
            ("tags[]", "x"),
            ("tags[]", "y"),
            ("eager", "w_1|w_2"),
            ("api_key", "k"),
            ("file", "data"),
            ("resource_type", "video"),
            ("empty", ""),
        ]);
        let text = string_to_sign(&p, Version::V2);
        assert_eq!(text, "eager=w_1|w_2&public_id=a&tags=x,y&timestamp=1");
        let sig = hex_digest(&text, "s", Algorithm::Sha1);
        assert_eq!(sig, "0a882fb7e6c4bb82ac7ec0163793276000bb87df");
        assert_eq!(verify_request(&p, &sig, "s"), Verdict::Valid);
        assert_eq!(verify_request(&p, &sig.to_uppercase(), "s"), Verdict::Valid);
        assert!(matches!(
            verify_request(&p, &sig, "t"),
            Verdict::Invalid { .. }
        ));
        assert!(matches!(
            verify_request(&p, "abc", "s"),
            Verdict::Invalid { .. }
        ));
    }

    #[test]
    fn url_signature_vectors() {
        let cases = [
            ("image.jpg", Algorithm::Sha1, false, "--SjmNDA"),
            (
                "c_crop,h_20,w_10/image.jpg",
                Algorithm::Sha1,
                false,
                "Ai4Znfl3",
            ),
            (
                "http://google.com/path/to/image.png",
                Algorithm::Sha1,
                false,
                "hH_YcbiS",
            ),
            ("sample.jpg", Algorithm::Sha1, false, "v2fTPYTu"),
            ("sample.jpg", Algorithm::Sha256, false, "2hbrSMPO"),
            (
                "sample.jpg",
                Algorithm::Sha256,
                true,
                "2hbrSMPOjj5BJ4xV7SgFbRDevFaQNUFf",
            ),
        ];
        for (text, algorithm, long, expected) in cases {
            assert_eq!(
                url_signature(text, "b", algorithm, long),
                expected,
                "{text}"
            );
            assert!(verify_url(text, expected, "b"));
        }
        assert_eq!(
            url_signature("c_scale,w_100/x.mp4", "s", Algorithm::Sha1, false),
            "oehn9quz"
        );
        assert!(!verify_url("sample.jpg", "v2fTPYTv", "b"));
    }
}
