//! mutant: becomes leader but sends its append only to the voter whose grant completed the majority; the other servers hear nothing until the first heartbeat, and one that did not vote for it may time out meanwhile and depose it (§5.2: "sends heartbeat messages to all of the other servers to establish its authority and prevent new elections")
//! step: Election Step6
//! also-fails: search
                        self.become_leader();
                        self.send_append(m.from);
