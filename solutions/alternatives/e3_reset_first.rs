//! alternative: the same five updates in another order (reset first, then the role, the vote, and the functions). Only the vote must come after reset, which clears the vote when the term changes; the rest are independent. §5.2 asks for the result: the next term, a vote for itself, the candidate's role
//! step: Election Step3
        self.reset(self.term + 1);
        self.state = StateType::Candidate;
        self.vote = self.id;
        self.tick = Raft::tick_election;
        self.step = Raft::step_candidate;
