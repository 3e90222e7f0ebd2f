//! mutant: never notes the leader, so a follower cannot forward proposals and reports no leader
//! step: Replication Step3
                self.election_elapsed = 0;
                self.handle_append_entries(m);
