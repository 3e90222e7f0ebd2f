//! mutant: forgets to vote for itself, so the vote of its own term stays free for another candidate (§5.2: "It then votes for itself")
//! step: Election Step3
//! also-fails: Election Step1, Election Step2, Election Step4, Election Step6, scenarios, search
        self.step = Raft::step_candidate;
        self.reset(self.term + 1);
        self.tick = Raft::tick_election;
        self.state = StateType::Candidate;
