//! alternative: sends every follower an append before becoming leader. The node's progress was reset when it became a candidate, so each append is empty, carries the term and the entry before the new leader's empty entry, and leaves the node with the next Ready, after the role change: Figure 2's "Upon election: send initial empty AppendEntries RPCs (heartbeat) to each server". The empty entry follows one round trip later, when each follower's answer moves its progress to Replicate. Was the mutant e6_broadcast_before_become
//! step: Election Step6
                        self.bcast_append();
                        self.become_leader();
