//! mutant: asks for votes for term + 1 without becoming a candidate: the node stays a follower of its old term, unvoted, and cannot count the replies (§5.2: "a follower increments its current term and transitions to candidate state")
//! step: Election Step4
//! also-fails: Election Step2, Election Step3, Election Step6, scenarios, search
            (MessageType::MsgVote, self.term + 1)
