//! mutant: copies the pre-vote branch's `term + 1` after become_candidate already raised the term, so requests ask for a term the candidate is not in (Figure 2: RequestVote carries the "candidate's term")
//! step: Election Step4
//! also-fails: Election Step2, Election Step3, Election Step6, scenarios, search
            self.become_candidate();
            (MessageType::MsgVote, self.term + 1)
