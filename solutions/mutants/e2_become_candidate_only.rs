//! mutant: becomes a candidate on timeout but never asks anyone for a vote, so no election can be won (§5.2: "It then votes for itself and issues RequestVote RPCs in parallel to each of the other servers")
//! step: Election Step2
//! also-fails: Election Step3, scenarios, search
            self.election_elapsed = 0;
            self.become_candidate();
