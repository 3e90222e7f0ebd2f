//! alternative: stops counting once the clock reaches the randomized timeout. A voter starts its election at that tick anyway (Step2 sets the clock back), so only a learner, which never campaigns, sees a difference: its clock stays at the timeout instead of counting on. §5.2 only asks that an election start once the timeout has passed without news from a leader, and every reader of the clock (the timeout check, the lease check in step) compares it with a value no larger than the randomized timeout, so they decide the same
//! step: Election Step1
        if self.election_elapsed < self.randomized_election_timeout {
            self.election_elapsed += 1;
        }
