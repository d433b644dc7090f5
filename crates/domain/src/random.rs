//! Turning random bytes into strings over an alphabet, without modulo bias.
//!
//! The caller supplies the bytes (from the operating system's CSPRNG in the server), which keeps this crate free
//! of I/O and makes generation testable.

/// Base62: the alphabet of org API key secrets.
pub const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A source of random bytes: fills the buffer, or reports why it could not.
pub type RandomFill<'a, E> = &'a mut dyn FnMut(&mut [u8]) -> Result<(), E>;

/// Draws `len` characters from `alphabet`, pulling bytes from `fill` as needed.
///
/// Bytes that would bias the draw (those at or above the largest multiple of the alphabet's size) are discarded.
pub fn random_string<E>(alphabet: &[u8], len: usize, fill: RandomFill<'_, E>) -> Result<String, E> {
    assert!(!alphabet.is_empty() && alphabet.len() <= 256, "alphabet must have 1-256 symbols");
    let size = alphabet.len();
    let unbiased_limit = 256 - (256 % size);
    let mut out = String::with_capacity(len);
    let mut buffer = [0u8; 64];
    while out.len() < len {
        fill(&mut buffer)?;
        for &byte in &buffer {
            if usize::from(byte) < unbiased_limit && out.len() < len {
                out.push(char::from(alphabet[usize::from(byte) % size]));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_only_from_the_alphabet_and_skips_biased_bytes() {
        let mut next = 0u8;
        let mut fill = |buf: &mut [u8]| {
            for byte in buf {
                *byte = next;
                next = next.wrapping_add(1);
            }
            Ok::<(), ()>(())
        };
        let text = random_string(b"ab", 10, &mut fill).unwrap();
        assert_eq!(text, "ababababab");
        // 248..=255 are above the largest multiple of 62 and must never map to a symbol.
        let mut calls = 0;
        let mut mixed = |buf: &mut [u8]| {
            calls += 1;
            buf.fill(if calls == 1 { 250 } else { 1 });
            Ok::<(), ()>(())
        };
        assert_eq!(random_string(BASE62, 3, &mut mixed).unwrap(), "111");
        assert_eq!(
            random_string(BASE62, 3, &mut |_: &mut [u8]| Err("no entropy")),
            Err("no entropy")
        );
    }
}
