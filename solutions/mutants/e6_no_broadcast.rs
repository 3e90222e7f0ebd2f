//! mutant: becomes leader but tells nobody until its first heartbeat: a server that did not vote for it may time out meanwhile and depose it (§5.2: "sends heartbeat messages to all of the other servers to establish its authority")
//! step: Election Step6
//! also-fails: scenarios, search
                        self.become_leader();
