//! mutant: handles the append but keeps the election clock running, so a follower of a healthy leader that only sends appends still times out and disrupts it (§5.2)
//! step: Replication Step3
//! also-fails: search
                self.lead = m.from;
                self.handle_append_entries(m);
