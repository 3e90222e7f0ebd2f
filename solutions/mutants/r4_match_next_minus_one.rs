//! mutant: takes the follower's match to be its next index minus one before committing; after optimistic sends in Replicate state the next index runs ahead of what the follower acknowledged, so entries are counted as replicated on servers that do not hold them yet (§5.3: committed once "replicated it on a majority of the servers"; Figure 2: matchIndex is the highest entry "known to be replicated")
//! step: Replication Step4
//! also-fails: scenarios, search
                    if let Some(pr) = self.prs.get_mut(m.from) {
                        pr.matched = pr.next_idx - 1;
                    }
                    if self.maybe_commit() {
                        self.bcast_append();
                    }
