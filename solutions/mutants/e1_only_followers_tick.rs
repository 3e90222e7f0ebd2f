//! mutant: only followers count ticks, so a candidate whose election was split never starts a new one (§5.2: "each candidate will time out and start a new election")
//! step: Election Step1
//! also-fails: Election Step2, Election Step3, scenarios
        if self.state == StateType::Follower {
            self.election_elapsed += 1;
        }
