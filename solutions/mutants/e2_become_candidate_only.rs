//! mutant: becomes a candidate on timeout but never asks anyone for a vote, so no election can be won
//! step: Election Step2
//! also-fails: Election Step3, scenarios
            self.election_elapsed = 0;
            self.become_candidate();
