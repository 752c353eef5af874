//! Random identifiers Kino hands out: asset, version and environment ids, API keys and
//! secrets. One place, so they all come from the same generator and have one shape each.

use rand::Rng;

/// An opaque id: 32 lowercase hex digits (asset ids, version ids, environment ids).
pub fn hex32() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// A fresh API key (15 digits, no leading zero) and secret (27 URL-safe characters), shaped
/// like Cloudinary's.
pub fn key_pair() -> (String, String) {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::thread_rng();
    let key = (0..15)
        .map(|i| char::from(b'0' + rng.gen_range(u8::from(i == 0)..10)))
        .collect();
    let secret = (0..27)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    (key, secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let id = hex32();
        assert_eq!(id.len(), 32);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        let (key, secret) = key_pair();
        assert_eq!((key.len(), secret.len()), (15, 27));
        assert!(key.chars().all(|c| c.is_ascii_digit()) && !key.starts_with('0'));
    }
}
