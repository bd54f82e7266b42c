//! schemathesis against a devserver: it reads `/api/v1/openapi.json`, generates requests from it
//! (the document's examples, valid and invalid ones, then chains of them along the document's
//! links) and fails on any server error, any answer the document does not describe, or a valid
//! request refused. Then the coverage it reached is printed, and checked against the floor that
//! `docs/api.md` states.

use crate::server::Server;
use crate::{cache, python};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const PACKAGE: &str = "schemathesis==4.32.5";

/// Examples per operation and phase: about a minute on a 2-core machine.
const MAX_EXAMPLES: &str = "25";

/// Scenarios of the stateful phase (chains along the links), and the calls in each.
const STATEFUL_SCENARIOS: u32 = 100;
const SEED: &str = "20261127";
const STATEFUL_STEPS: u32 = 12;

/// The floor, as `docs/api.md` states it: every operation run with its examples, at least this
/// many links followed, at least this share of answers 2xx.
pub const MIN_LINKS_COVERED: u32 = 5;
pub const MIN_2XX_PERCENT: u32 = 8;
/// Operations with nothing to give an example for (no parameter, no body): schemathesis skips
/// them in the examples phase ("No examples in schema"); later phases still call them.
pub const SKIPPED_EXAMPLES: [&str; 1] = ["bot_state"];

/// Operations whose valid requests may still be refused with 400, for what JSON Schema cannot
/// say: `positive_data_acceptance` accepts 400 from these (and only these).
pub const REFUSE_VALID: [(&str, &str); 18] = [
    ("journal_audit", "a cursor this API did not issue"),
    ("journal_errors", "a cursor this API did not issue; `from` after `until`"),
    ("clients_list", "a cursor this API did not issue"),
    ("staff_list", "a cursor this API did not issue"),
    ("stocks_list", "a cursor this API did not issue"),
    ("processes_list", "a cursor this API did not issue"),
    ("clients_messages", "a cursor this API did not issue; `from` after `until`"),
    ("processes_trackers", "a cursor this API did not issue"),
    ("staff_create", "a `version` (the body is shared with the update)"),
    ("clients_create", "a `version`; a `representative` who does not exist; fund names that repeat"),
    ("staff_update", "no `version`; an `id` other than the path's"),
    ("clients_update", "no `version`; an `id` other than the path's; a `representative` who does not exist"),
    ("stocks_create", "KRX's date order; a band whose low is above its high"),
    ("stocks_amend", "KRX's date order"),
    ("processes_create", "a `stock_id` that does not exist, or none for a kind that needs one"),
    ("processes_load_advice", "rows that cannot be read (an empty CSV, say)"),
    ("processes_audience", "a notice's text for an allotment check, or none for a notice"),
    ("processes_confirm", "`lines` the tracker's phase does not take"),
];

/// A folder removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn run() -> Result<(), String> {
    let st = python::tool(PACKAGE, "st")?;
    let devserver = build_devserver()?;
    let token = format!("schemathesis-{}", random_hex()?);
    // Declared first, so dropped last: the server stops before its data goes.
    let data = Scratch(std::env::temp_dir().join(format!("ipo-advisory-schemathesis-{}", std::process::id())));
    let reports =
        Scratch(std::env::temp_dir().join(format!("ipo-advisory-schemathesis-report-{}", std::process::id())));
    std::fs::create_dir_all(&reports.0).map_err(|e| format!("creating {}: {e}", reports.0.display()))?;
    let config = reports.0.join("schemathesis.toml");
    std::fs::write(&config, config_toml()).map_err(|e| format!("writing {}: {e}", config.display()))?;
    let har = reports.0.join("answers.har");
    let server = Server::start("the devserver", "devserver-schemathesis.log", |port| {
        let mut cmd = Command::new(&devserver);
        cmd.args(["--port", &port.to_string(), "--demo", "--admin-token", &token, "--data-dir"])
            .arg(&data.0)
            // The built-in fake Telegram, whatever the caller's environment holds.
            .env_remove("TELEGRAM_BOT_TOKEN")
            .env_remove("DEVSERVER_ADMIN_TOKEN");
        cmd
    })?;

    let schema = format!("{}/api/v1/openapi.json", server.endpoint());
    let started = std::time::Instant::now();
    let mut child = Command::new(st)
        .arg("--config-file")
        .arg(&config)
        // One seed: the examples, coverage and fuzzing phases draw the same cases every run. The
        // stateful phase still varies with timing: 7 to 20 links covered, seeded or not, the low
        // end under a parallel build.
        .args(["run", &schema, "--seed", SEED, "--max-examples", MAX_EXAMPLES, "--no-color"])
        .args(["--report", "har", "--report-har-path"])
        .arg(&har)
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .current_dir(cache::dir()?)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("running schemathesis: {e}"))?;
    // Shown as it comes, and kept to read the coverage from.
    let mut summary = String::new();
    if let Some(out) = child.stdout.take() {
        let mut shown = std::io::stdout();
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = writeln!(shown, "{line}");
            summary.push_str(&line);
            summary.push('\n');
        }
    }
    let status = child.wait().map_err(|e| format!("waiting for schemathesis: {e}"))?;
    let seconds = started.elapsed().as_secs();
    if !status.success() {
        return Err(format!("schemathesis found failures ({status}); the devserver's log is {}", server.log.display()));
    }
    let coverage = Coverage::read(&summary, &har)?;
    println!("{} (in {seconds} s)", coverage.line());
    coverage.meets_floor()
}

/// `positive_data_acceptance` on, with 400 also accepted from the operations of [`REFUSE_VALID`];
/// the stateful phase long enough to follow the links.
fn config_toml() -> String {
    let mut toml = format!(
        "[checks.positive_data_acceptance]\nenabled = true\n\n[phases.stateful]\nmax-steps = {STATEFUL_STEPS}\n\n\
         [phases.stateful.generation]\nmax-examples = {STATEFUL_SCENARIOS}\n"
    );
    for (operation, _) in REFUSE_VALID {
        toml.push_str(&format!(
            "\n[[operations]]\ninclude-operation-id = \"{operation}\"\n\
             checks.positive_data_acceptance.expected-statuses = [\"2xx\", \"400\", \"401\", \"403\", \"404\", \"409\"]\n"
        ));
    }
    toml
}

/// What schemathesis reached, from its summary and the answers it recorded.
#[derive(Debug, Default, PartialEq, Eq)]
struct Coverage {
    operations: u32,
    with_examples: u32,
    links_covered: u32,
    links_total: u32,
    answers: u32,
    answers_2xx: u32,
}

impl Coverage {
    fn read(summary: &str, har: &Path) -> Result<Coverage, String> {
        let answers = std::fs::read_to_string(har).map_err(|e| format!("reading {}: {e}", har.display()))?;
        let mut coverage = Coverage::from_summary(summary)?;
        (coverage.answers, coverage.answers_2xx) = count_answers(&answers);
        Ok(coverage)
    }

    /// The operations, those run in the Examples phase (passed or failed, not skipped) and the
    /// links covered, from the summary schemathesis prints.
    fn from_summary(summary: &str) -> Result<Coverage, String> {
        let missing = |what: &str| format!("schemathesis' summary has no {what}; has its output changed?");
        let mut coverage = Coverage::default();
        let mut lines = summary.lines();
        let operations =
            summary.lines().find_map(|l| l.trim().strip_prefix("Operations:")).ok_or(missing("Operations"))?;
        coverage.operations = number_before(operations, "selected").ok_or(missing("operation count"))?;
        lines.find(|l| l.contains("Examples (in")).ok_or(missing("Examples phase"))?;
        let counts = lines.find(|l| !l.trim().is_empty()).ok_or(missing("Examples counts"))?;
        coverage.with_examples =
            number_before(counts, "passed").unwrap_or(0) + number_before(counts, "failed").unwrap_or(0);
        let links = summary.lines().find_map(|l| l.trim().strip_prefix("API Links:")).ok_or(missing("API Links"))?;
        coverage.links_covered = number_before(links, "covered").ok_or(missing("links covered"))?;
        coverage.links_total = number_before(links, "total").ok_or(missing("links total"))?;
        Ok(coverage)
    }

    fn percent_2xx(&self) -> u32 {
        (self.answers_2xx * 100).checked_div(self.answers).unwrap_or(0)
    }

    fn line(&self) -> String {
        format!(
            "schemathesis coverage: examples {}/{} operations, links {}/{}, 2xx {}% ({} of {} answers)",
            self.with_examples,
            self.operations,
            self.links_covered,
            self.links_total,
            self.percent_2xx(),
            self.answers_2xx,
            self.answers
        )
    }

    fn meets_floor(&self) -> Result<(), String> {
        let mut short = Vec::new();
        let skipped = u32::try_from(SKIPPED_EXAMPLES.len()).unwrap_or(u32::MAX);
        if self.with_examples.saturating_add(skipped) < self.operations {
            short.push(format!("{} of {} operations ran with examples", self.with_examples, self.operations));
        }
        if self.links_covered < MIN_LINKS_COVERED {
            short.push(format!("{} links covered, below {MIN_LINKS_COVERED}", self.links_covered));
        }
        if self.percent_2xx() < MIN_2XX_PERCENT {
            short.push(format!("{}% of answers 2xx, below {MIN_2XX_PERCENT}%", self.percent_2xx()));
        }
        if short.is_empty() {
            Ok(())
        } else {
            Err(format!("schemathesis coverage is below the floor in docs/api.md: {}", short.join("; ")))
        }
    }
}

/// The number right before `word`: `12` in `3 covered / 12 total`, for `total`.
fn number_before(text: &str, word: &str) -> Option<u32> {
    let mut previous = None;
    for token in text.split_whitespace() {
        if token == word {
            return previous;
        }
        previous = token.parse().ok();
    }
    None
}

/// Answers in a HAR file, and how many of them were 2xx.
fn count_answers(har: &str) -> (u32, u32) {
    let marker = "\"response\": {\"status\": ";
    let statuses = har.match_indices(marker).filter_map(|(at, _)| {
        let rest = &har[at + marker.len()..];
        rest[..rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len())].parse::<u16>().ok()
    });
    statuses.fold((0, 0), |(all, ok), status| (all + 1, ok + u32::from((200..300).contains(&status))))
}

/// The devserver as `cargo test` has just built it (a no-op build when so).
fn build_devserver() -> Result<PathBuf, String> {
    let root = cache::workspace_root();
    cache::run(
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "--quiet", "--package", "devserver"])
            .current_dir(&root),
    )?;
    let binary = cache::target_dir()?.join("debug").join("devserver");
    if binary.is_file() { Ok(binary) } else { Err(format!("no devserver at {}", binary.display())) }
}

fn random_hex() -> Result<String, String> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| format!("reading /dev/urandom: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUMMARY: &str = "     Operations:       33 selected / 33 total

 ✅  Examples (in 4.71s)

     ✅ 31 passed  ❌  1 failed  ⏭  1 skipped

 ✅  Stateful (in 4.94s)

     Scenarios:    32
     API Links:    3 covered / 188 selected / 188 total (165 inferred)
";

    #[test]
    fn reads_the_summary() {
        let coverage = Coverage::from_summary(SUMMARY).unwrap();
        let expected =
            Coverage { operations: 33, with_examples: 32, links_covered: 3, links_total: 188, ..Default::default() };
        assert_eq!(coverage, expected);
        assert!(Coverage::from_summary("Operations: 3 selected / 3 total").is_err());
    }

    #[test]
    fn counts_answers() {
        let har =
            r#"{"response": {"status": 201, "x": 1}}, {"response": {"status": 400}}, {"response": {"status": 200}}"#;
        assert_eq!(count_answers(har), (3, 2));
    }

    #[test]
    fn the_floor_is_the_one_docs_api_md_states() {
        // Read as one line: a claim may wrap.
        let docs = include_str!("../../../docs/api.md").split_whitespace().collect::<Vec<_>>().join(" ");
        for claim in [
            "examples on every operation".to_owned(),
            format!("at least {MIN_LINKS_COVERED} links"),
            format!("at least {MIN_2XX_PERCENT}% of its answers 2xx"),
        ] {
            assert!(docs.contains(&claim), "docs/api.md does not say {claim:?}");
        }
        for operation in SKIPPED_EXAMPLES {
            assert!(docs.contains(&format!("but `{operation}`")), "docs/api.md does not name {operation}");
        }
        for (operation, _) in REFUSE_VALID {
            assert!(docs.contains(&format!("`{operation}`")), "docs/api.md does not list {operation}");
        }
    }
}
