//! alternative: a log's terms never decrease, so "newer than term" is false then true along the log: a binary search finds the last index where it is false, or first_index - 1 (§5.3)
//! step: Deep Step4
        let lowest = self.first_index() - 1;
        let newer = |i: Index| self.term(i).is_ok_and(|t| t > term);
        if index <= lowest || !newer(index) {
            return index;
        }
        // The answer is in [lo, hi): newer(hi) holds, and lo is lowest or
        // not newer.
        let (mut lo, mut hi) = (lowest, index);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if newer(mid) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        lo
