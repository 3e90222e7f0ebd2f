//! alternative: notes the leader before setting the election clock back: independent updates (§5.2)
//! step: Replication Step3
                self.lead = m.from;
                self.election_elapsed = 0;
                self.handle_append_entries(m);
