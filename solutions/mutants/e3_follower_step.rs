//! mutant: keeps the follower's step function, so the candidate ignores vote responses and never wins, and does not step down on a leader's append (§5.2: a candidate wins with the votes of a majority, and "returns to follower state" on an AppendEntries from a leader of its term)
//! step: Election Step3
//! also-fails: Election Step6, scenarios, search
        self.step = Raft::step_follower;
        self.reset(self.term + 1);
        self.tick = Raft::tick_election;
        self.vote = self.id;
        self.state = StateType::Candidate;
