//! alternative: reads the new term into a local after becoming a candidate. This step's answer is fully determined (the node must be a candidate of the new term, and the request must be MsgVote for that term, Figure 2's "candidate's term"): alternatives can only differ in form
//! step: Election Step4
            self.become_candidate();
            let term = self.term;
            let vote_msg = MessageType::MsgVote;
            (vote_msg, term)
