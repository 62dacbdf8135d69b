//! The `madoguchi` command line.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use madoguchi::classify::{classify, report_lines};
use madoguchi::config::{Config, Flags, LogFormat};
use madoguchi::conversation_test::TestSuite;
use madoguchi::diagnostic::LoadError;
use madoguchi::escalation::MessageReport;
use madoguchi::eval::{IntentMap, evaluate, read_labelled};
use madoguchi::secret::{Secret, WebhookSecret};
use madoguchi::startup::Application;

/// madoguchi (窓口): a rule-based support chatbot for Japanese and English.
#[derive(Debug, Parser)]
#[command(name = "madoguchi", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the chat service: the chat API, the agent API, health checks.
    /// With no arguments: 127.0.0.1:8080, `./rules`, `./madoguchi.db`.
    Serve {
        /// A TOML configuration file (`madoguchi.example.toml` lists every
        /// key); `MADOGUCHI_*` environment variables override it.
        #[arg(long)]
        config: Option<PathBuf>,
        /// The address to listen on (over `listen`).
        #[arg(long)]
        listen: Option<String>,
        /// The database URL (over `database_url`).
        #[arg(long)]
        database: Option<String>,
        /// The rule set (over `rules`).
        #[arg(long)]
        rules: Option<PathBuf>,
    },
    /// Check a rule set: exit 0 with a summary when it is valid, 1 with every
    /// problem as `path:line:column: message` otherwise.
    Check {
        /// The rule set: a YAML file or a folder of them.
        #[arg(long, default_value = "rules")]
        rules: PathBuf,
    },
    /// Classify messages read from standard input, one per line, printing
    /// one JSON object per line.
    Classify {
        /// The rule set: a YAML file or a folder of them.
        #[arg(long, default_value = "rules")]
        rules: PathBuf,
        /// Also render each matched intent's chat answer (`answer`).
        #[arg(long)]
        answers: bool,
    },
    /// Run conversation tests: YAML files of turns and what must come back.
    /// Prints each failing conversation, then `N passed, N failed`.
    Test {
        /// The rule set: a YAML file or a folder of them.
        #[arg(long, default_value = "rules")]
        rules: PathBuf,
        /// List the intents no conversation exercises.
        #[arg(long)]
        uncovered: bool,
        /// Print every conversation's transcript, not only the failing ones.
        #[arg(long)]
        transcripts: bool,
        /// Test files or folders.
        #[arg(default_value = "conversations")]
        paths: Vec<PathBuf>,
    },
    /// Measure a rule set on labelled messages (JSONL with `text`, `intent`,
    /// `complaint`): accuracy, per-intent precision/recall/F1, out-of-scope
    /// acceptance, complaint precision/recall/F1, frequent confusions.
    Eval {
        /// The rule set: a YAML file or a folder of them.
        #[arg(long, default_value = "rules")]
        rules: PathBuf,
        /// The labelled messages, one JSON object per line.
        #[arg(long)]
        data: PathBuf,
        /// A YAML map from the data's intent names to the rule set's ids
        /// (`null`: the rule set should not answer it).
        #[arg(long)]
        map: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Suggest rules from the stored messages the bot did not understand:
    /// near-duplicates grouped, keywords for an intent they are close to or
    /// a new intent, best supported first, each replayed over the stored
    /// conversations and the conversation tests.
    Suggest {
        /// A TOML configuration file for the database and rules (as `serve`).
        #[arg(long)]
        config: Option<PathBuf>,
        /// The rule set (over `rules`; default `rules`).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// The database URL (over `database_url`; default
        /// `sqlite://madoguchi.db`).
        #[arg(long)]
        database: Option<String>,
        /// The conversation tests to replay against (over
        /// `conversation_tests`; default `conversations`).
        #[arg(long)]
        conversations: Option<PathBuf>,
        /// Only messages written at or after this time (RFC 3339).
        #[arg(long)]
        from: Option<String>,
        /// Only messages written before this time (RFC 3339).
        #[arg(long)]
        to: Option<String>,
        /// The most suggestions shown.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Show every flipped decision and failing test, not only counts.
        #[arg(long)]
        details: bool,
        /// Print JSON: `{"suggestions": [...]}`, each with its `replay`.
        #[arg(long)]
        json: bool,
    },
    /// Hand one mail, read from standard input, to the running service
    /// (`POST /v1/email/inbound`): for a `.forward` or Postfix pipe. Exits 0
    /// once the service kept it, 75 (`EX_TEMPFAIL`) when it cannot be reached
    /// or cannot keep it now, so the MTA tries again, and 65 (`EX_DATAERR`)
    /// when the service refuses the message itself.
    Inbound {
        /// The configuration file: `listen` gives the address and
        /// `email_inbound_secret` the secret (also read from
        /// `MADOGUCHI_EMAIL_INBOUND_SECRET`).
        #[arg(long)]
        config: Option<PathBuf>,
        /// The service's inbound URL, over the one built from `listen`.
        #[arg(long)]
        url: Option<String>,
    },
    /// Receive handoffs on this machine, to watch them arrive: checks each
    /// signature, prints the event, answers with a ticket id (`LOCAL-1`...).
    /// Point `webhook_url` at it (`madoguchi.demo.toml` does).
    WebhookListen {
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1:9000")]
        listen: String,
        /// The `whsec_` secret the service signs with (its `webhook_secret`);
        /// without it, signatures are not checked. Also read from
        /// `MADOGUCHI_WEBHOOK_SECRET`.
        #[arg(long)]
        secret: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve {
            config,
            listen,
            database,
            rules,
        } => serve(
            config.as_deref(),
            &Flags {
                listen,
                database_url: database,
                rules,
            },
        ),
        Command::Check { rules } => check(&rules),
        Command::WebhookListen { listen, secret } => webhook_listen(&listen, secret),
        Command::Inbound { config, url } => Ok(inbound(config.as_deref(), url)),
        Command::Classify { rules, answers } => run_classify(&rules, answers),
        Command::Suggest {
            config,
            rules,
            database,
            conversations,
            from,
            to,
            limit,
            details,
            json,
        } => run_suggest(
            config.as_deref(),
            &Flags {
                listen: None,
                database_url: database,
                rules,
            },
            &SuggestOptions {
                conversations,
                from,
                to,
                limit,
                details,
                json,
            },
        ),
        Command::Test {
            rules,
            uncovered,
            transcripts,
            paths,
        } => run_tests(&rules, &paths, uncovered, transcripts),
        Command::Eval {
            rules,
            data,
            map,
            json,
        } => run_eval(&rules, &data, map.as_deref(), json),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("madoguchi: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(file: Option<&Path>, flags: &Flags) -> anyhow::Result<ExitCode> {
    let config = Config::load(file, flags)?;
    init_logging(config.log_format);
    let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
    runtime.block_on(async {
        let app = Application::build(&config).await?;
        app.run_until_stopped(shutdown_signal())
            .await
            .context("serving")?;
        Ok(ExitCode::SUCCESS)
    })
}

fn webhook_listen(listen: &str, secret: Option<String>) -> anyhow::Result<ExitCode> {
    let secret = secret
        .or_else(|| std::env::var("MADOGUCHI_WEBHOOK_SECRET").ok())
        .map(|s| WebhookSecret::parse(Secret::from(s.as_str())))
        .transpose()
        .context("--secret")?;
    let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        let address = listener.local_addr().context("the listening address")?;
        let checking = if secret.is_some() {
            "checking signatures"
        } else {
            "not checking signatures (no --secret)"
        };
        println!("listening on http://{address}/ for handoffs, {checking}");
        println!("set webhook_url = \"http://{address}/\" in the service's configuration\n");
        let router = madoguchi::handoff::listen::router(secret, Box::new(io::stdout()));
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("receiving")?;
        Ok(ExitCode::SUCCESS)
    })
}

/// `sysexits.h`: try again later; the input data was incorrect.
const EX_TEMPFAIL: u8 = 75;
const EX_DATAERR: u8 = 65;

fn inbound(file: Option<&Path>, url: Option<String>) -> ExitCode {
    match post_inbound(file, url) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("madoguchi inbound: {err:#}");
            ExitCode::from(EX_TEMPFAIL)
        }
    }
}

/// Posts standard input to the service. Every failure that is not the
/// message's own fault is a temporary one: the MTA keeps the mail and
/// tries again, so nothing is lost while the service is down or
/// misconfigured.
fn post_inbound(file: Option<&Path>, url: Option<String>) -> anyhow::Result<ExitCode> {
    use std::io::Read as _;
    let config = Config::load(file, &Flags::default())?;
    let secret = config
        .email
        .as_ref()
        .and_then(|e| e.inbound_secret.clone())
        // The pipe needs only the secret, not the whole channel's settings.
        .or_else(|| {
            std::env::var("MADOGUCHI_EMAIL_INBOUND_SECRET")
                .ok()
                .map(|s| Secret::from(s.as_str()))
        })
        .context(
            "no email_inbound_secret in the configuration or MADOGUCHI_EMAIL_INBOUND_SECRET",
        )?;
    let url = url.unwrap_or_else(|| format!("http://{}/v1/email/inbound", config.listen));
    let mut raw = Vec::new();
    io::stdin()
        .read_to_end(&mut raw)
        .context("reading the message from standard input")?;
    let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .post(&url)
            .bearer_auth(secret.expose())
            .header("content-type", "message/rfc822")
            .body(raw)
            .timeout(std::time::Duration::from_mins(2))
            .send()
            .await
            .with_context(|| format!("posting to {url}"))?;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        if status.is_success() {
            println!("{body}");
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!("madoguchi inbound: {url} answered {status}: {body}");
        let refused = matches!(status.as_u16(), 400 | 413 | 415 | 422);
        Ok(ExitCode::from(if refused {
            EX_DATAERR
        } else {
            EX_TEMPFAIL
        }))
    })
}

/// Logs as text or JSON lines; `RUST_LOG` sets the level (default `info`).
/// Message texts are never logged at info level.
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&io::stderr()));
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// Ctrl-C, or SIGTERM (what service managers send).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

fn check(path: &Path) -> anyhow::Result<ExitCode> {
    let loaded = match madoguchi::check::load(path) {
        Ok(loaded) => loaded,
        Err(err) => return Ok(report_load_error(&err)),
    };
    let rules = &loaded.rules;
    let mut warnings = loaded.warnings.clone();
    warnings.extend(madoguchi::check::lint_patterns(rules));
    let mut stderr = io::stderr().lock();
    for warning in &warnings {
        writeln!(stderr, "{warning}")?;
    }
    let locales: Vec<&str> = rules.locales().iter().map(|l| l.as_str()).collect();
    let examples: usize = rules.intents().iter().map(|i| i.examples.len()).sum();
    println!(
        "{}: ok: {} intents, {} patterns, {} examples, locales {}; {} warning{}",
        path.display(),
        rules.intents().len(),
        rules.matcher().patterns().len(),
        examples,
        locales.join(", "),
        warnings.len(),
        if warnings.len() == 1 { "" } else { "s" },
    );
    Ok(ExitCode::SUCCESS)
}

fn report_load_error(err: &LoadError) -> ExitCode {
    let mut stderr = io::stderr().lock();
    for diagnostic in &err.diagnostics {
        // Nothing better to do if stderr itself is gone.
        let _ = writeln!(stderr, "{diagnostic}");
    }
    let errors = err.errors().count();
    let _ = writeln!(
        stderr,
        "{errors} error{} in the rule set",
        if errors == 1 { "" } else { "s" }
    );
    ExitCode::FAILURE
}

fn run_classify(path: &Path, answers: bool) -> anyhow::Result<ExitCode> {
    let loaded = match madoguchi::check::load(path) {
        Ok(loaded) => loaded,
        Err(err) => return Ok(report_load_error(&err)),
    };
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let input = BufReader::with_capacity(1 << 16, io::stdin());
    let rules = &loaded.rules;
    report_lines(input, &mut out, |text, line| {
        let classification = classify(rules, text);
        let report = MessageReport::new(rules, &classification, text, answers);
        // Serializing plain data into memory cannot fail.
        serde_json::to_writer(line, &report).unwrap_or_default();
    })
    .context("classifying standard input")?;
    out.flush().context("writing standard output")?;
    Ok(ExitCode::SUCCESS)
}

fn run_tests(
    rules: &Path,
    paths: &[PathBuf],
    uncovered: bool,
    transcripts: bool,
) -> anyhow::Result<ExitCode> {
    let loaded = match madoguchi::check::load(rules) {
        Ok(loaded) => loaded,
        Err(err) => return Ok(report_load_error(&err)),
    };
    let paths: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let suite = match TestSuite::load(&paths) {
        Ok(suite) => suite,
        Err(problems) => {
            let mut stderr = io::stderr().lock();
            for problem in &problems {
                writeln!(stderr, "{problem}")?;
            }
            writeln!(
                stderr,
                "{} error(s) in the conversation tests",
                problems.len()
            )?;
            return Ok(ExitCode::FAILURE);
        }
    };
    let outcome = suite.run(&loaded.rules);
    let mut out = io::stdout().lock();
    outcome.write_transcripts(&loaded.rules, transcripts, &mut out)?;
    if uncovered {
        let missing = outcome.unexercised(&loaded.rules);
        if missing.is_empty() {
            writeln!(out, "every intent is exercised")?;
        } else {
            writeln!(
                out,
                "intents no conversation exercises: {}",
                missing.join(", ")
            )?;
        }
    }
    writeln!(
        out,
        "{} passed, {} failed",
        outcome.passed(),
        outcome.failed()
    )?;
    let ok = outcome.failed() == 0 && !suite.is_empty();
    if suite.is_empty() {
        eprintln!("madoguchi: no conversation test ran");
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `madoguchi suggest`'s own options.
struct SuggestOptions {
    conversations: Option<PathBuf>,
    from: Option<String>,
    to: Option<String>,
    limit: usize,
    details: bool,
    json: bool,
}

fn millis(flag: &str, value: Option<&str>) -> anyhow::Result<Option<i64>> {
    value
        .map(|v| {
            v.parse::<jiff::Timestamp>()
                .map(jiff::Timestamp::as_millisecond)
                .with_context(|| format!("{flag} is not an RFC 3339 time"))
        })
        .transpose()
}

fn run_suggest(
    file: Option<&Path>,
    flags: &Flags,
    options: &SuggestOptions,
) -> anyhow::Result<ExitCode> {
    use madoguchi::suggest::{Settings, Suggestion, replay_suggestion, suggest};
    let config = Config::load(file, flags)?;
    let loaded = match madoguchi::check::load(&config.rules) {
        Ok(loaded) => loaded,
        Err(err) => return Ok(report_load_error(&err)),
    };
    let rules = &loaded.rules;
    let from = millis("--from", options.from.as_deref())?;
    let to = millis("--to", options.to.as_deref())?;
    let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
    let stored = runtime.block_on(async {
        let store =
            madoguchi::store::Store::connect(&config.database_url, config.sqlite_synchronous)
                .await
                .context("opening the database")?;
        let found = store
            .customer_messages(from, to, 50_000)
            .await
            .context("reading the messages");
        store.close().await;
        found
    })?;
    let messages: Vec<madoguchi::suggest::Message> = stored.into_iter().map(Into::into).collect();
    let tests_path = options
        .conversations
        .clone()
        .unwrap_or_else(|| config.conversation_tests.clone());
    let tests = if tests_path.exists() {
        match TestSuite::load(&[tests_path.as_path()]) {
            Ok(suite) => Some(suite),
            Err(problems) => {
                let mut stderr = io::stderr().lock();
                for problem in &problems {
                    writeln!(stderr, "{problem}")?;
                }
                return Ok(ExitCode::FAILURE);
            }
        }
    } else {
        None
    };
    let settings = Settings {
        limit: options.limit,
        ..Settings::default()
    };
    let suggestions = suggest(rules, &messages, &settings);
    let mut replayed: Vec<(Suggestion, madoguchi::suggest::Replay)> = Vec::new();
    for suggestion in suggestions {
        let replay = replay_suggestion(rules, &suggestion, &messages, tests.as_ref())
            .map_err(|e| anyhow::anyhow!("suggestion {}: {e}", suggestion.id))?;
        replayed.push((suggestion, replay));
    }
    let mut out = io::stdout().lock();
    if options.json {
        let suggestions: Vec<serde_json::Value> = replayed
            .iter()
            .map(|(s, r)| {
                let mut value = serde_json::to_value(s).unwrap_or_default();
                value["replay"] = serde_json::to_value(r).unwrap_or_default();
                value
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "suggestions": suggestions }))?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let unmatched = messages.len();
    if replayed.is_empty() {
        writeln!(out, "no suggestions from {unmatched} customer messages")?;
    }
    for (suggestion, replay) in &replayed {
        write_suggestion(&mut out, suggestion, replay, options.details)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn write_suggestion(
    out: &mut impl Write,
    s: &madoguchi::suggest::Suggestion,
    replay: &madoguchi::suggest::Replay,
    details: bool,
) -> io::Result<()> {
    use madoguchi::suggest::Kind;
    let keywords = s.keywords.join(", ");
    match s.kind {
        Kind::Keyword => writeln!(
            out,
            "{}  keywords for {}: {keywords}",
            s.id,
            s.intent.as_deref().unwrap_or("?")
        )?,
        Kind::Intent => writeln!(
            out,
            "{}  new intent {}{}: {keywords}",
            s.id,
            s.name.as_deref().unwrap_or("?"),
            s.locale.map_or_else(String::new, |l| format!(" ({l})"))
        )?,
    }
    writeln!(
        out,
        "    support: {} messages in {} conversations",
        s.support, s.conversations
    )?;
    for m in s.messages.iter().take(if details { usize::MAX } else { 3 }) {
        writeln!(out, "    > {}", m.text)?;
    }
    let regressions = replay
        .conversation_tests
        .failed
        .iter()
        .filter(|f| f.regression)
        .count();
    writeln!(
        out,
        "    replay: {} of {} decisions change; conversation tests: {} passed, {} failed ({} broken by it)",
        replay.flipped.len(),
        replay.replayed,
        replay.conversation_tests.passed,
        replay.conversation_tests.failed.len(),
        regressions
    )?;
    for failure in replay
        .conversation_tests
        .failed
        .iter()
        .filter(|f| details || f.regression)
    {
        writeln!(out, "    FAIL {}: {}", failure.name, failure.message)?;
    }
    if details {
        let show = |d: &madoguchi::suggest::Decided| {
            format!("{} ({})", d.intent.as_deref().unwrap_or("-"), d.outcome)
        };
        for flip in &replay.flipped {
            writeln!(
                out,
                "    {} #{}: {}: {} -> {}",
                flip.conversation_id,
                flip.seq,
                flip.text,
                show(&flip.before),
                show(&flip.after)
            )?;
        }
    }
    writeln!(out)
}

fn run_eval(rules: &Path, data: &Path, map: Option<&Path>, json: bool) -> anyhow::Result<ExitCode> {
    let loaded = match madoguchi::check::load(rules) {
        Ok(loaded) => loaded,
        Err(err) => return Ok(report_load_error(&err)),
    };
    let map: IntentMap = match map {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            serde_saphyr::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        None => IntentMap::new(),
    };
    let file = File::open(data).with_context(|| format!("opening {}", data.display()))?;
    let items = read_labelled(&data.display().to_string(), BufReader::new(file))?;
    let bar = ProgressBar::with_draw_target(Some(items.len() as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} messages ({eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let report = evaluate(&loaded.rules, &items, &map, || bar.inc(1))?;
    bar.finish_and_clear();
    let mut out = io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        write!(out, "{}: ", data.display())?;
        report.write_text(&mut out)?;
    }
    Ok(ExitCode::SUCCESS)
}
