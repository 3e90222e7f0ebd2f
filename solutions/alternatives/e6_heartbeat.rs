//! alternative: becomes leader and announces itself with heartbeats, exactly what §5.2 says ("It then sends heartbeat messages to all of the other servers to establish its authority") and Figure 2's "Upon election: send initial empty AppendEntries RPCs (heartbeat) to each server". The heartbeats make every follower and candidate of the term recognise the leader and restart their election clocks; the new term's empty entry follows one round trip later, when each heartbeat response shows the follower lacks it. Was the mutant e6_heartbeat_instead
//! step: Election Step6
                        self.become_leader();
                        self.bcast_heartbeat();
