//! mutant: sets election_elapsed back to 0 on pre-votes as well; a pre-vote is only a question, and must not hold back the node's own election (Figure 2: a follower restarts its election timeout on "granting vote to candidate"; a pre-vote, §9.6, is not a vote)
//! step: Election Step5
//! also-fails: scenarios, search
                    let mut resp = Message::new(m.msg_type.vote_response(), self.id, m.from);
                    resp.term = m.term;
                    self.send(resp);
                    self.election_elapsed = 0;
                    if m.msg_type == MessageType::MsgVote {
                        self.vote = m.from;
                    }
