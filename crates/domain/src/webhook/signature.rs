//! The signature of a delivery (spec §12), the scheme Stripe's users know: `Traceline-Signature:
//! t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, keyed with the whole `whsec_…` secret. The
//! timestamp is inside the signed text, so a receiver can refuse old deliveries replayed at it.

use sha2::{Digest, Sha256};

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Traceline-Signature";
/// The header carrying the event's id, the same on every retry, so a receiver can drop duplicates.
pub const EVENT_ID_HEADER: &str = "Traceline-Event-Id";

/// The value of [`SIGNATURE_HEADER`] for `body` sent at `unix_seconds`.
pub fn signature_header(secret: &str, unix_seconds: i64, body: &[u8]) -> String {
    let digest = hmac_sha256(secret.as_bytes(), &[unix_seconds.to_string().as_bytes(), b".", body]);
    let mut hex = String::with_capacity(digest.len() * 2);
    for byte in digest {
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte & 0xf)]));
    }
    format!("t={unix_seconds},v1={hex}")
}

/// HMAC-SHA256 (RFC 2104) of the concatenation of `parts`: a dozen lines over the SHA-256 the crate already has,
/// pinned by RFC 4231's vectors below, rather than one more dependency.
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|byte| byte ^ 0x36));
    for part in parts {
        inner.update(part);
    }
    let mut outer = Sha256::new();
    outer.update(block.map(|byte| byte ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    #[test]
    fn rfc_4231_vectors() {
        assert_eq!(
            hex(&hmac_sha256(&[0x0b; 20], &[b"Hi There"])),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        // A key longer than the block is hashed first.
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                &[b"Test Using Larger Than ", b"Block-Size Key - Hash Key First"]
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn matches_an_independent_hmac() {
        // python3 -c 'import hmac,hashlib; print(hmac.new(b"whsec_test", b"1775000000.{\"id\":\"e1\"}",
        //     hashlib.sha256).hexdigest())'
        assert_eq!(
            signature_header("whsec_test", 1_775_000_000, br#"{"id":"e1"}"#),
            "t=1775000000,v1=ceeb4ce76a41a286ef6f0b7c7ef26469dbccf0c6ca69475498a4551c480cd401"
        );
    }
}
