//! The timeline page in a real browser: headless Chromium loads it from
//! disk, runs its script, and the rendered page must show a lane per node,
//! an arrow per message and the violation marked. A screenshot is saved
//! beside the page.
//!
//! Needs Debian's `chromium`; `instructor validate` runs it (and CI installs
//! the browser), so it is ignored in a plain `cargo test`.

use std::path::{Path, PathBuf};
use std::process::Command;

use grader::report::timeline::{Arrow, Fate, RoleBand, Shade, Timeline};
use raftpb::StateType;

/// A five-node run of 2,000 ticks: as large as the page must stay usable for.
fn run() -> Timeline {
    let mut t = Timeline {
        title: "browser test".into(),
        nodes: vec![1, 2, 3, 4, 5],
        ticks: 2000,
        ..Default::default()
    };
    for n in 1..=5 {
        t.roles.push(RoleBand {
            node: n,
            from_tick: 0,
            to_tick: 2000,
            role: if n == 1 {
                StateType::Leader
            } else {
                StateType::Follower
            },
            term: 2,
        });
    }
    for i in 0..4000u64 {
        let to = 2 + i % 4;
        t.arrows.push(Arrow {
            from: 1,
            to,
            send_tick: i / 2,
            deliver_tick: i / 2 + 1,
            msg_type: if i % 2 == 0 { "MsgApp" } else { "MsgHeartbeat" }.into(),
            label: format!("MsgApp 1→{to} term=2"),
            fate: if i % 13 == 0 {
                Fate::Dropped
            } else {
                Fate::Delivered
            },
        });
    }
    t.shades.push(Shade::Crash {
        node: 3,
        from_tick: 900,
        to_tick: 1000,
    });
    t.violation = Some((
        950,
        vec![2, 4],
        "t=950: state machine safety: n2 and n4 differ".into(),
    ));
    t
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .map(|name| Path::new("/usr/bin").join(name))
        .find(|p| p.is_file())
}

/// Runs headless Chromium on `page` with the flags a closed network needs.
fn browser(chromium: &Path, profile: &Path, extra: &[&str], page: &Path) -> std::process::Output {
    let mut cmd = Command::new(chromium);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1500,560",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(extra)
    .arg(format!("file://{}", page.display()));
    cmd.output().expect("chromium runs")
}

#[test]
#[ignore = "needs chromium; run by `instructor validate`"]
fn the_page_renders_lanes_arrows_and_the_violation() {
    let chromium = chromium().expect("chromium is installed (apt-get install chromium)");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("timeline-browser");
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("timeline.html");
    let t = run();
    std::fs::write(&page, t.to_html()).unwrap();

    let out = browser(&chromium, &dir.join("profile"), &["--dump-dom"], &page);
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("<svg"),
        "the script drew no SVG: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for n in 1..=5 {
        assert!(
            dom.contains(&format!(">n{n}</text>")),
            "lane n{n} has no label in the rendered page"
        );
    }
    assert!(
        dom.contains("id=\"violation-marker\""),
        "the violation is not marked"
    );
    assert!(
        dom.contains("t=950: state machine safety"),
        "the violation's message is not shown"
    );
    // The page opens zoomed around the violation: ticks 800..=1000.
    let shown: usize = dom
        .split("data-arrows=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|n| n.parse().ok())
        .expect("the SVG says how many arrows it drew");
    let expected = t
        .arrows
        .iter()
        .filter(|a| a.deliver_tick >= 800 && a.send_tick <= 1000)
        .count();
    assert_eq!(shown, expected, "arrows drawn in the opening tick range");

    let shot = dir.join("timeline.png");
    let _ = std::fs::remove_file(&shot);
    let arg = format!("--screenshot={}", shot.display());
    browser(&chromium, &dir.join("profile"), &[&arg], &page);
    let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 10_000,
        "a screenshot of the page was saved ({size} bytes at {})",
        shot.display()
    );
    println!("screenshot: {}", shot.display());
}
