//! mutant: hints at the refused index itself, skipping nothing: the leader backs up one entry per round trip through a follower's divergent entries of a newer term (§5.3: "one AppendEntries RPC will be required for each term with conflicting entries, rather than one RPC per entry")
//! step: Deep Step4
//! also-fails: scenarios, Deep Step5
        index
