//! mutant: ignores the leader's commit index in appends, so followers learn what is committed only from heartbeats (§5.3: "the leader keeps track of the highest index it knows to be committed, and it includes that index in future AppendEntries")
//! step: Replication Step3
//! also-fails: search
                self.election_elapsed = 0;
                self.lead = m.from;
                m.commit = 0;
                self.handle_append_entries(m);
