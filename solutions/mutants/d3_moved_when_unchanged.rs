//! mutant: answers true whenever the majority's entry is of the leader's term, even when the commit index is already there: the leader then tells every follower of a commit that did not move, after every acknowledgement (maybe_commit answers whether the commit index moved; §5.3 sends the commit index when it has news)
//! step: Deep Step3
        if self.zero_term_on_err_compacted(self.term(max_index)) == term {
            self.commit_to(max_index);
            return true;
        }
        false
