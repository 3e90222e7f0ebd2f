//! CRC-32 (the IEEE polynomial, as in zip, PNG and Ethernet), written here
//! so the write-ahead log needs no dependency for its checksums.
//!
//! Table-driven, one byte at a time: about 1 GB/s, far more than an fsync
//! per batch lets the log write.

/// The reflected IEEE polynomial.
const POLYNOMIAL: u32 = 0xEDB8_8320;

/// `TABLE[b]` is the CRC of the single byte `b`, computed at compile time.
const TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut byte = 0;
    while byte < 256 {
        let mut crc = byte as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLYNOMIAL
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[byte] = crc;
        byte += 1;
    }
    table
};

/// A running CRC-32: feed it bytes with [`Crc32::update`], read it with
/// [`Crc32::finish`].
#[derive(Clone, Copy, Debug)]
pub struct Crc32 {
    state: u32,
}

impl Default for Crc32 {
    fn default() -> Self {
        Crc32::new()
    }
}

impl Crc32 {
    pub fn new() -> Crc32 {
        Crc32 { state: !0 }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        let mut crc = self.state;
        for &b in bytes {
            crc = TABLE[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8);
        }
        self.state = crc;
    }

    pub fn finish(self) -> u32 {
        !self.state
    }
}

/// The CRC-32 of `bytes`.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = Crc32::new();
    crc.update(bytes);
    crc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // The standard check value of CRC-32/ISO-HDLC, and two more from
        // common tools (`cksum -a crc32b`, Python's zlib.crc32).
        let cases: [(&[u8], u32); 4] = [
            (b"", 0),
            (b"123456789", 0xCBF4_3926),
            (b"a", 0xE8B7_BE43),
            (b"The quick brown fox jumps over the lazy dog", 0x414F_A339),
        ];
        for (input, want) in cases {
            let got = crc32(input);
            assert_eq!(
                got, want,
                "crc32({input:?}) = {got:#010x}, want {want:#010x}"
            );
        }
    }

    #[test]
    fn incremental_equals_one_shot() {
        let data = b"write-ahead log record";
        let mut crc = Crc32::new();
        crc.update(&data[..5]);
        crc.update(&data[5..]);
        assert_eq!(crc.finish(), crc32(data));
    }
}
