//! election scenarios (written next).

use crate::case::Case;

pub fn cases() -> Vec<Case> {
    Vec::new()
}
