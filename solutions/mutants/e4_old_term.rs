//! mutant: reads the term before become_candidate raises it, so the vote requests carry the old term and voters reject or ignore them (Figure 2: RequestVote carries the "candidate's term")
//! step: Election Step4
//! also-fails: Election Step2, Election Step3, Election Step6, scenarios, search
            let term = self.term;
            self.become_candidate();
            (MessageType::MsgVote, term)
