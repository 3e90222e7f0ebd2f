//! mutant: votes for itself before reset, which clears the vote when the term changes: the candidate ends up with no vote recorded (§5.2: "It then votes for itself")
//! step: Election Step3
//! also-fails: Election Step1, Election Step2, Election Step4, Election Step6, scenarios, search
        self.vote = self.id;
        self.step = Raft::step_candidate;
        self.reset(self.term + 1);
        self.tick = Raft::tick_election;
        self.state = StateType::Candidate;
