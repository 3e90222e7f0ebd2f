//! mutant: pathological: "forwards" the request by stepping it into itself again, which recurses until the stack overflows (the process aborts)
//! step: Election Step5
//! also-fails: scenarios, search
                    let again = m.clone();
                    if let Err(e) = self.step(again) {
                        debug!("{} could not handle the vote again: {e}", self.id);
                    }
