//! mutant: copies the pre-vote branch's message type: a real election sends MsgPreVote, so no voter ever records a vote for it (§5.2: a real election issues RequestVote RPCs; a pre-vote, §9.6, changes no voter's state)
//! step: Election Step4
//! also-fails: Election Step2, Election Step3, Election Step6, scenarios, search
            self.become_candidate();
            (MessageType::MsgPreVote, self.term)
