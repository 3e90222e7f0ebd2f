//! alternative: handles the append first and then notes the leader and restarts the election clock: handle_append_entries reads neither field, and nothing leaves the node before the step returns, so the result is the same (§5.2, §5.3)
//! step: Replication Step3
                let leader = m.from;
                self.handle_append_entries(m);
                self.lead = leader;
                self.election_elapsed = 0;
