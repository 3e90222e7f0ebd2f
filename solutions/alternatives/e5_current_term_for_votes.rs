//! alternative: names each case: a real vote is answered with MsgVoteResp and the node's current term (Figure 2's RequestVote result "term: currentTerm"; the term check at the top of step has already made it the request's term), a pre-vote with MsgPreVoteResp and the term it asked about, which this node has not entered
//! step: Election Step5
                    let is_real_vote = m.msg_type == MessageType::MsgVote;
                    let (resp_type, resp_term) = if is_real_vote {
                        (MessageType::MsgVoteResp, self.term)
                    } else {
                        (MessageType::MsgPreVoteResp, m.term)
                    };
                    let mut resp = Message::new(resp_type, self.id, m.from);
                    resp.term = resp_term;
                    resp.reject = false;
                    self.send(resp);
                    if is_real_vote {
                        self.vote = m.from;
                        self.election_elapsed = 0;
                    }
