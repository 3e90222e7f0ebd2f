//! mutant: raises the term by hand instead of calling reset, so the old leader, the clock, the old votes and the progress survive into the candidacy (§5.2, Figure 2: a new term starts with no leader and no votes counted, and the candidate restarts its randomized election timeout)
//! step: Election Step3
//! also-fails: Election Step2, Election Step4, Election Step6, scenarios, search
        self.step = Raft::step_candidate;
        self.term += 1;
        self.tick = Raft::tick_election;
        self.vote = self.id;
        self.state = StateType::Candidate;
