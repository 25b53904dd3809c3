//! The hasher of the compiler's internal maps, which are keyed by names the
//! program itself declares: SipHash (std's default) resists keys chosen to
//! collide, which buys nothing here and costs several times more per
//! lookup. This is rustc's FxHash (the `rustc-hash` crate), a word at a time.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A map with [`FxHasher`]; iterate it only where order does not matter.
pub(crate) type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// A set with [`FxHasher`]; iterate it only where order does not matter.
pub(crate) type FxHashSet<T> = HashSet<T, BuildHasherDefault<FxHasher>>;

/// FxHash: rotate, xor in a word, multiply.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

/// FxHash's multiplier (from Firefox, by way of rustc).
const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            if let Ok(word) = <[u8; 8]>::try_from(word) {
                self.add(u64::from_le_bytes(word));
            }
        }
        for &byte in words.remainder() {
            self.add(u64::from(byte));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    /// The multiply carries each input bit only upward, so the low bits,
    /// which pick a map's bucket, barely see a name's later bytes
    /// (`s1000` … `s1999` fell into a few buckets and a 400,000-step check
    /// spent a quarter of its time comparing names); the rotation brings
    /// the well-mixed high bits down, as `rustc-hash` 2 does.
    fn finish(&self) -> u64 {
        self.hash.rotate_left(26)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::Hash;

    fn hash(text: &str) -> u64 {
        let mut hasher = FxHasher::default();
        text.hash(&mut hasher);
        hasher.finish()
    }

    #[test]
    fn names_that_differ_hash_apart() {
        let names = [
            "s1",
            "s2",
            "s10",
            "s01",
            "train",
            "train_",
            "a_long_step_name_1",
        ];
        let mut hashes: Vec<u64> = names.iter().map(|n| hash(n)).collect();
        hashes.sort();
        hashes.dedup();
        assert_eq!(hashes.len(), names.len());
        assert_eq!(hash("train"), hash("train"));
    }

    /// Step names alike but for their digits spread over a map's buckets
    /// (the low bits): hashbrown picks the bucket from them.
    #[test]
    fn numbered_names_spread_over_the_low_bits() {
        let buckets: std::collections::HashSet<u64> =
            (0..4096).map(|i| hash(&format!("s{i}")) & 4095).collect();
        assert!(buckets.len() > 2048, "{} buckets of 4096", buckets.len());
    }

    #[test]
    fn a_map_finds_what_it_holds() {
        let map: FxHashMap<String, usize> = (0..1000).map(|i| (format!("s{i}"), i)).collect();
        assert!((0..1000).all(|i| map.get(&format!("s{i}")) == Some(&i)));
        assert_eq!(map.get("s1000"), None);
    }
}
