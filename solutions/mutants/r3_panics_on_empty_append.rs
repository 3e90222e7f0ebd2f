//! mutant: pathological but common: reads m.entries[0] to log the first new index, which panics on an append that carries no entries (a probe, or one that only moves the commit index)
//! step: Replication Step3
//! also-fails: scenarios, search
                self.election_elapsed = 0;
                self.lead = m.from;
                let first = m.entries[0].index;
                debug!("{} appending from index {first}", self.id);
                self.handle_append_entries(m);
