//! alternative: takes the request's term from the state the node will persist (hard_state), which become_candidate has just raised: the same term, read through the public view of the node's term and vote
//! step: Election Step4
            self.become_candidate();
            (MessageType::MsgVote, self.hard_state().term)
