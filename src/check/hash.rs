//! The hasher of the compiler's internal maps, which are keyed by names the
//! program itself declares: SipHash (std's default) resists keys chosen to
//! collide, which buys nothing here and costs several times more per
//! lookup. This is rustc's FxHash (the `rustc-hash` crate), a word at a time.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A map with [`FxHasher`]; iterate it only where order does not matter.
pub(crate) type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

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
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
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

    #[test]
    fn a_map_finds_what_it_holds() {
        let map: FxHashMap<String, usize> = (0..1000).map(|i| (format!("s{i}"), i)).collect();
        assert!((0..1000).all(|i| map.get(&format!("s{i}")) == Some(&i)));
        assert_eq!(map.get("s1000"), None);
    }
}
