//! Cases for r4 (written next).

use crate::case::Case;

pub fn cases() -> Vec<Case> {
    Vec::new()
}
