//! FxHash (as in rustc) for the engine's and the interner's hash tables:
//! fast for short keys. Keys are policy texts written by administrators, so
//! hash flooding is not a concern.

use std::hash::Hasher;

const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// FxHash.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// FxHash with its high bits folded into the low ones: a hash table takes
/// its bucket from the low bits, which in plain FxHash hardly depend on the
/// last bytes of a string (`user12_3`, `user12_4`).
#[derive(Default, Clone, Copy)]
pub struct Folded(FxHasher);

impl Hasher for Folded {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        self.0.write(bytes)
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.0.write_u8(i)
    }
    #[inline]
    fn finish(&self) -> u64 {
        let h = self.0.finish();
        h ^ (h >> 32)
    }
}
