//! Small helpers shared by the log modules.

use crate::types::Entry;

/// Keeps the longest prefix of `ents` whose total [`Entry::size`] is at most
/// `max`, but never fewer than one entry: a single entry larger than the
/// limit must still get through, or replication of it would stall forever.
pub(crate) fn limit_size(ents: &mut Vec<Entry>, max: u64) {
    if ents.is_empty() {
        return;
    }
    let mut size = ents[0].size();
    let mut keep = 1;
    while keep < ents.len() {
        size = size.saturating_add(ents[keep].size());
        if size > max {
            break;
        }
        keep += 1;
    }
    ents.truncate(keep);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ENTRY_HEADER_SIZE;

    #[test]
    fn limit_size_keeps_a_prefix_and_at_least_one_entry() {
        // Each entry here costs exactly ENTRY_HEADER_SIZE bytes.
        let ents: Vec<Entry> = (1..=5).map(|i| Entry::new(1, i, b"")).collect();
        let h = ENTRY_HEADER_SIZE;
        let cases = [
            (u64::MAX, 5),
            (0, 1),
            (h - 1, 1),
            (h, 1),
            (2 * h, 2),
            (2 * h + 1, 2),
            (3 * h - 1, 2),
            (5 * h, 5),
        ];
        for (i, &(max, want)) in cases.iter().enumerate() {
            let mut got = ents.clone();
            limit_size(&mut got, max);
            assert_eq!(
                got.len(),
                want,
                "case #{i} (max {max}): got {} entries, want {want}",
                got.len()
            );
        }
    }

    #[test]
    fn limit_size_of_nothing_is_nothing() {
        // An empty list stays empty whatever the limit.
        let mut ents = Vec::new();
        limit_size(&mut ents, 0);
        assert!(ents.is_empty());
    }
}
