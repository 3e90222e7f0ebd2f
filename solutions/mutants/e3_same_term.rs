//! mutant: resets to the current term instead of term + 1, so a candidate campaigns in a term that may already have a leader (§5.2: "a follower increments its current term")
//! step: Election Step3
//! also-fails: Election Step1, Election Step2, Election Step4, Election Step6, scenarios, search
        self.step = Raft::step_candidate;
        self.reset(self.term);
        self.tick = Raft::tick_election;
        self.vote = self.id;
        self.state = StateType::Candidate;
