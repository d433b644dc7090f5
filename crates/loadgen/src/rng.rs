//! A seeded generator for load and workloads: cheap enough to run in every client thread, reproducible from a
//! printed seed, and the UUID v4 text every generated event needs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The variable whose value, when set, seeds a run (so a failing one can be replayed).
pub const SEED_VAR: &str = "TRACELINE_TEST_SEED";

/// splitmix64: a few arithmetic operations per draw, plenty random for ids and payload variety.
pub struct Rng(u64);

impl Rng {
    /// A generator seeded from `seed`; different seeds give unrelated streams.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5851_F42D_4C95_7F2D)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (slightly biased for huge bounds, which the bench never uses).
    pub fn below(&mut self, bound: u32) -> u32 {
        let wide = (self.next_u64() >> 32) * u64::from(bound);
        u32::try_from(wide >> 32).unwrap_or(0)
    }

    /// A duration of `from..to` milliseconds.
    pub fn millis(&mut self, from: u32, to: u32) -> Duration {
        Duration::from_millis(u64::from(from + self.below(to - from)))
    }

    /// A random UUID v4, lower-case and hyphenated.
    pub fn uuid(&mut self) -> String {
        let (high, low) = (self.next_u64(), self.next_u64());
        let mut out = String::with_capacity(36);
        push_uuid(&mut out, high, low);
        out
    }
}

/// Appends the 128 bits `high:low` as a UUID (8-4-4-4-12 lower-case hex), with the version 4 and RFC 4122
/// variant bits set.
pub fn push_uuid(out: &mut String, high: u64, low: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let high = (high & !0xF000) | 0x4000;
    let low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
    let bits = (u128::from(high) << 64) | u128::from(low);
    for nibble in 0..32 {
        if matches!(nibble, 8 | 12 | 16 | 20) {
            out.push('-');
        }
        let shift = 124 - 4 * nibble;
        out.push(char::from(HEX[usize::try_from((bits >> shift) & 0xF).unwrap_or(0)]));
    }
}

/// The seed of a run: [`SEED_VAR`] when set, else the clock.
pub fn seed_from_env() -> u64 {
    std::env::var(SEED_VAR).ok().and_then(|seed| seed.parse().ok()).unwrap_or_else(|| {
        let now = SystemTime::now().duration_since(UNIX_EPOCH);
        now.map(|elapsed| elapsed.as_nanos() as u64).unwrap_or(7)
    })
}
