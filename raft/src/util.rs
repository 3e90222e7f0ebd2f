//! Small helpers shared by the log modules.

use crate::types::Entry;

/// Keeps the longest prefix of `ents` whose total [`Entry::size`] is at most
/// `max`, but never fewer than one entry: a single entry larger than the
/// limit must still get through, or replication of it would stall forever.
pub(crate) fn limit_size(ents: &mut Vec<Entry>, max: u64) {
    ents.truncate(fitting_prefix(ents, 0, max));
}

/// How many leading entries of `ents` fit within `max` bytes when `used`
/// bytes are already taken by entries before them: the count
/// [`limit_size`] would keep of those entries and `ents` together. With
/// nothing taken yet, at least one. Counting before copying lets a reader
/// copy only what it will send, not a whole lagging tail of the log.
pub(crate) fn fitting_prefix(ents: &[Entry], used: u64, max: u64) -> usize {
    let mut size = used;
    let mut keep = 0;
    for entry in ents {
        size = size.saturating_add(entry.size());
        // Every entry has a size, so `used == 0` means nothing is taken.
        if size > max && (keep > 0 || used > 0) {
            break;
        }
        keep += 1;
    }
    keep
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
    fn fitting_prefix_counts_what_is_already_taken() {
        // Entries after some already taken fit in what is left of the
        // limit, and need not include one: the one is already there.
        let ents: Vec<Entry> = (1..=3).map(|i| Entry::new(1, i, b"")).collect();
        let h = ENTRY_HEADER_SIZE;
        let cases = [
            (0, 0, 1),
            (0, 2 * h, 2),
            (h, 2 * h, 1),
            (h, 4 * h, 3),
            (2 * h, 2 * h, 0),
            (3 * h, 2 * h, 0),
            (h - 1, 2 * h, 1),
        ];
        for (i, &(used, max, want)) in cases.iter().enumerate() {
            let got = fitting_prefix(&ents, used, max);
            assert_eq!(
                got, want,
                "case #{i} (used {used}, max {max}): got {got} entries, want {want}"
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
