//! mutant: never notes the leader, so a follower cannot forward proposals and reports no leader (§5.1: "if a client contacts a follower, the follower redirects it to the leader")
//! step: Replication Step3
//! also-fails: search
                self.election_elapsed = 0;
                self.handle_append_entries(m);
