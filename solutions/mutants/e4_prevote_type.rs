//! mutant: copies the pre-vote branch's message type: a real election sends MsgPreVote, so no voter ever records a vote for it
//! step: Election Step4
//! also-fails: Election Step2, Election Step3, Election Step6, scenarios
            self.become_candidate();
            (MessageType::MsgPreVote, self.term)
