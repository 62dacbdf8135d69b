//! Building the service from its configuration, then running it.
//!
//! [`Application::build`] does everything that can fail — rules, database,
//! webhook client, listener — so that a mistake stops the start with a
//! clear message; [`Application::run_until_stopped`] then serves until the
//! shutdown signal, finishes the requests in flight, ends live event
//! streams, lets the outbox worker and the retention task finish what they
//! are doing, and closes the database.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::channels::email::Inbox;
use crate::channels::email::send::MailOutbox;
use crate::check::Reloader;
use crate::config::{Config, EmailConfig};
use crate::conversation::Events;
use crate::diagnostic::LoadError;
use crate::handoff::Schedule;
use crate::handoff::bundle::Bounds;
use crate::handoff::{Outbox, SystemClock};
use crate::http::{AppState, Connections, RateLimits, Settings, router, serve};
use crate::rules::LiveRules;
use crate::store::{Store, StoreError};

/// A built service, ready to run.
pub struct Application {
    listener: TcpListener,
    router: Router,
    store: Store,
    stop: watch::Sender<bool>,
    address: SocketAddr,
    connections: Connections,
    /// The tasks that run beside the router: the outbox worker, the
    /// retention purge. Each ends when `stop` says so.
    tasks: Vec<JoinHandle<()>>,
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The rules did not load.
    #[error("the rules at {path} do not load:\n{errors}")]
    Rules {
        /// Where they are.
        path: String,
        /// Every problem.
        errors: LoadError,
    },
    /// The database could not be reached or migrated.
    #[error("database {url}")]
    Database {
        /// The URL, without its password.
        url: String,
        /// What went wrong.
        source: StoreError,
    },
    /// The SMTP relay cannot be used.
    #[error(transparent)]
    Relay(#[from] crate::channels::email::send::RelayError),
    /// The webhook client could not be built.
    #[error("the webhook client: {0}")]
    Client(#[from] reqwest::Error),
    /// The address cannot be listened on.
    #[error("cannot listen on {address}")]
    Listen {
        /// The address.
        address: SocketAddr,
        /// What went wrong.
        source: std::io::Error,
    },
}

impl Application {
    /// Loads the rules, connects to the database, and binds the listener.
    ///
    /// # Errors
    /// [`StartError`] saying what cannot start.
    pub async fn build(config: &Config) -> Result<Self, StartError> {
        if crate::telemetry::recorder().is_none() {
            tracing::warn!("another metrics recorder is installed: /metrics stays empty");
        }
        for warning in config.warnings() {
            tracing::warn!("{warning}");
        }
        // Listening for reloads starts before the rules are read, so that
        // no change after the read is missed.
        let hangups = hangups();
        let watched = if config.rules_watch {
            watch_rules(&config.rules)
        } else {
            None
        };
        let loaded = crate::check::load(&config.rules).map_err(|errors| StartError::Rules {
            path: config.rules.display().to_string(),
            errors,
        })?;
        for warning in &loaded.warnings {
            tracing::warn!(%warning, "rule set");
        }
        let store = Store::connect(&config.database_url, config.sqlite_synchronous)
            .await
            .map_err(|source| StartError::Database {
                url: config.database_url.to_string(),
                source,
            })?;
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StartError::Listen {
                    address: config.listen,
                    source,
                })?;
        let address = listener.local_addr().map_err(|source| StartError::Listen {
            address: config.listen,
            source,
        })?;
        let (stop, stopping) = watch::channel(false);
        let events = Events::new(config.limits.max_streams_per_conversation.get() as usize);
        crate::telemetry::rules_in_force(
            loaded.rules.version(),
            None,
            loaded.rules.intents().len(),
        );
        let rules = Arc::new(LiveRules::new(loaded.rules));
        let wake = Arc::new(Notify::new());
        let mut tasks = Vec::new();
        if let Some(target) = &config.target {
            let worker = Outbox::new(
                store.clone(),
                Arc::clone(&rules),
                events.clone(),
                target.clone(),
                config.webhook_timeout,
                config.schedule.clone(),
                Arc::new(SystemClock),
            )?
            .bounded(Bounds {
                max_messages: config.limits.max_handoff_messages.get() as usize,
                public_url: config.public_url.clone(),
            });
            tasks.push(tokio::spawn(
                worker.run(stopping.clone(), Arc::clone(&wake)),
            ));
        } else {
            tracing::warn!("no webhook_url: handoffs wait in the outbox until one is set");
        }
        if config.retention_days > 0 {
            tasks.push(tokio::spawn(retention(
                store.clone(),
                config.retention_days,
                stopping.clone(),
            )));
        }
        let inbox = config
            .email
            .as_ref()
            .map(|email| email_channel(email, &store, &rules, &events, &stopping, &mut tasks))
            .transpose()?;
        // Live events that other replicas store reach this one's listeners;
        // listening starts before the service answers.
        let (listening, listens) = tokio::sync::oneshot::channel();
        tasks.push(tokio::spawn(crate::conversation::relay_other_replicas(
            store.clone(),
            events.clone(),
            stopping.clone(),
            listening,
        )));
        let _ = listens.await;
        let reloader = Arc::new(Reloader::new(config.rules.clone(), Arc::clone(&rules)));
        if let Some(hangups) = hangups {
            tasks.push(tokio::spawn(reload_on_sighup(
                Arc::clone(&reloader),
                hangups,
                stopping.clone(),
            )));
        }
        if let Some(watched) = watched {
            tasks.push(tokio::spawn(reload_on_change(
                Arc::clone(&reloader),
                watched,
                stopping.clone(),
            )));
        }
        let limits = Arc::new(RateLimits::new(&config.limits));
        tasks.push(tokio::spawn(forget_quiet_clients(
            Arc::clone(&limits),
            stopping.clone(),
        )));
        let state = AppState {
            rules,
            store: store.clone(),
            events,
            outbox: wake,
            limits,
            inbox,
            reloader,
            settings: Arc::new(Settings {
                admin_token: config.admin_token.clone(),
                identity_secret: config.identity_secret.clone(),
                max_message_chars: config.max_message_chars,
                max_messages_per_conversation: config.limits.max_messages_per_conversation,
                cors_origins: config.cors_origins.clone(),
                email_inbound_secret: config.email.as_ref().and_then(|e| e.inbound_secret.clone()),
                email_max_bytes: config.email.as_ref().map_or(0, |e| e.max_bytes),
                metrics_token: config.metrics_token.clone(),
                metrics_here: config.metrics_listen.is_none(),
                analytics_silence_minutes: config.analytics_silence_minutes,
                conversation_tests: config.conversation_tests.clone(),
            }),
            stopping,
        };
        if let Some(address) = config.metrics_listen {
            let listener = TcpListener::bind(address)
                .await
                .map_err(|source| StartError::Listen { address, source })?;
            let router = crate::http::metrics_router(state.clone());
            let mut stopping = state.stopping.clone();
            tasks.push(tokio::spawn(async move {
                let stopped = async move {
                    let _ = stopping.changed().await;
                };
                if let Err(err) = axum::serve(listener, router)
                    .with_graceful_shutdown(stopped)
                    .await
                {
                    tracing::error!(error = %err, "the metrics listener failed");
                }
            }));
        }
        Ok(Application {
            listener,
            router: router(state, config.max_body_bytes, config.limits.body_timeout),
            connections: Connections {
                max: config.limits.max_connections.get() as usize,
                header_timeout: config.limits.header_timeout,
            },
            store,
            stop,
            address,
            tasks,
        })
    }

    /// The address the service listens on (with the port chosen, when the
    /// configuration asked for port 0).
    #[must_use]
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The router it serves. Its `Debug` form names every route: the
    /// `OpenAPI` test holds the document to it.
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// Serves until `shutdown` completes, then stops gracefully: no new
    /// connections, requests in flight finish, live streams end, the
    /// background tasks finish their step, and the database is closed.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let stop = self.stop;
        let signal = async move {
            shutdown.await;
            tracing::info!("stopping: finishing requests in flight");
            // Live event streams and the background tasks never finish by
            // themselves.
            let _ = stop.send(true);
        };
        tracing::info!(address = %self.address, database = self.store.backend_name(), "listening");
        serve(self.listener, self.router, self.connections, signal).await?;
        for task in self.tasks {
            // The outbox worker finishes the delivery it is in; the
            // retention task the purge it is in.
            let _ = task.await;
        }
        self.store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// The e-mail channel: its inbox, the mail outbox worker when a relay is
/// configured, and the mailbox poller when an IMAP server is.
fn email_channel(
    email: &EmailConfig,
    store: &Store,
    rules: &Arc<LiveRules>,
    events: &Events,
    stopping: &watch::Receiver<bool>,
    tasks: &mut Vec<JoinHandle<()>>,
) -> Result<Inbox, StartError> {
    let settings = Arc::new(email.settings.clone());
    let wake = Arc::new(Notify::new());
    if let Some(url) = &email.smtp_url {
        let worker = MailOutbox::new(
            store.clone(),
            url.expose(),
            Arc::clone(&settings),
            Schedule::default(),
            Arc::new(SystemClock),
        )?;
        tasks.push(tokio::spawn(
            worker.run(stopping.clone(), Arc::clone(&wake)),
        ));
    } else {
        tracing::warn!("no smtp_url: answers to mail are kept (status held), not sent");
    }
    let inbox = Inbox {
        store: store.clone(),
        rules: Arc::clone(rules),
        events: events.clone(),
        settings,
        wake,
    };
    if let Some(imap) = &email.imap {
        let settings = crate::channels::email::imap::ImapSettings {
            host: imap.host.clone(),
            port: imap.port,
            username: imap.user.clone(),
            password: imap.password.clone(),
            mailbox: imap.mailbox.clone(),
            done_mailbox: imap.done_mailbox.clone(),
            poll: imap.poll,
            ca_file: imap.ca_file.clone(),
        };
        tasks.push(tokio::spawn(crate::channels::email::poll::run(
            settings,
            inbox.clone(),
            stopping.clone(),
        )));
    }
    Ok(inbox)
}

/// Lets the rate limits forget quiet clients once a minute, until the
/// service stops.
async fn forget_quiet_clients(limits: Arc<RateLimits>, mut stopping: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_mins(1));
    loop {
        tokio::select! {
            _ = tick.tick() => limits.forget_quiet(),
            _ = stopping.changed() => return,
        }
    }
}

/// Purges conversations past the retention once an hour, until the service
/// stops.
async fn retention(store: Store, days: u32, mut stopping: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_hours(1));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopping.changed() => return,
        }
        let cutoff = jiff::Timestamp::now()
            .checked_sub(jiff::SignedDuration::from_hours(24 * i64::from(days)))
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        match store.purge_before(cutoff.as_millisecond()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(conversations = n, "purged past the retention"),
            Err(err) => tracing::warn!(error = %err, "retention purge failed"),
        }
    }
}

/// What a SIGHUP is listened with: set up while the service is built, so
/// that one sent as soon as the service answers reloads the rules instead
/// of ending the process (the default action).
#[cfg(unix)]
type Hangups = tokio::signal::unix::Signal;
#[cfg(not(unix))]
type Hangups = ();

#[cfg(unix)]
fn hangups() -> Option<Hangups> {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::hangup()) {
        Ok(hangups) => Some(hangups),
        Err(err) => {
            tracing::warn!(error = %err, "SIGHUP cannot be listened for: reload by the API or by changing the files");
            None
        }
    }
}

#[cfg(not(unix))]
fn hangups() -> Option<Hangups> {
    None
}

/// Reloads the rules on SIGHUP, until the service stops.
async fn reload_on_sighup(
    reloader: Arc<Reloader>,
    hangups: Hangups,
    mut stopping: watch::Receiver<bool>,
) {
    #[cfg(unix)]
    {
        let mut hangups = hangups;
        loop {
            tokio::select! {
                Some(()) = hangups.recv() => {
                    // A refusal is logged by the reloader.
                    let _ = reloader.reload("sighup").await;
                }
                _ = stopping.changed() => return,
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (reloader, hangups, stopping.changed().await);
    }
}

/// How long the rule files must be quiet before a change is reloaded: an
/// editor or a deployment writes several files, and one reload should
/// take them all.
const RELOAD_QUIET: Duration = Duration::from_millis(500);

/// A watch on the rule files, and the notices of their changes.
struct RuleWatch {
    /// Watches while it lives.
    _debouncer: notify_debouncer_full::Debouncer<
        notify::RecommendedWatcher,
        notify_debouncer_full::RecommendedCache,
    >,
    changes: tokio::sync::mpsc::Receiver<()>,
}

/// Whether an event changes what the rules say: reading them (which the
/// reload itself does) is no change, nor is a change of permissions.
fn is_change(event: &notify::Event) -> bool {
    use notify::EventKind;
    use notify::event::ModifyKind;
    match event.kind {
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Create(_) | EventKind::Remove(_) | EventKind::Modify(_) => true,
        _ => false,
    }
}

/// Starts watching the rules at `path` (set up while the service is built,
/// so that no change after the rules were read is missed). A single file is
/// watched through its folder, since an editor saves it as a new file
/// renamed over the old one.
fn watch_rules(path: &std::path::Path) -> Option<RuleWatch> {
    use notify::RecursiveMode;
    let single = path
        .is_file()
        .then(|| path.file_name().map(ToOwned::to_owned))
        .flatten();
    let (notice, changes) = tokio::sync::mpsc::channel::<()>(1);
    let name = single.clone();
    let debouncer = notify_debouncer_full::new_debouncer(
        RELOAD_QUIET,
        None,
        move |events: notify_debouncer_full::DebounceEventResult| {
            let Ok(events) = events else { return };
            let rewritten = events.iter().any(|e| {
                is_change(e)
                    && name.as_ref().is_none_or(|name| {
                        e.paths
                            .iter()
                            .any(|p| p.file_name() == Some(name.as_os_str()))
                    })
            });
            // A full channel already holds a reload to do.
            if rewritten {
                let _ = notice.try_send(());
            }
        },
    );
    let mut debouncer = match debouncer {
        Ok(debouncer) => debouncer,
        Err(err) => {
            tracing::warn!(error = %err, "the rule files cannot be watched: reload by SIGHUP or the API");
            return None;
        }
    };
    let (watched, mode) = match (&single, path.parent()) {
        (Some(_), Some(folder)) => (
            if folder.as_os_str().is_empty() {
                std::path::Path::new(".")
            } else {
                folder
            },
            RecursiveMode::NonRecursive,
        ),
        _ => (path, RecursiveMode::Recursive),
    };
    if let Err(err) = debouncer.watch(watched, mode) {
        tracing::warn!(error = %err, path = %path.display(), "the rule files cannot be watched: reload by SIGHUP or the API");
        return None;
    }
    Some(RuleWatch {
        _debouncer: debouncer,
        changes,
    })
}

/// Reloads the rules when their files change, until the service stops.
async fn reload_on_change(
    reloader: Arc<Reloader>,
    mut watched: RuleWatch,
    mut stopping: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            Some(()) = watched.changes.recv() => {
                let _ = reloader.reload("file_change").await;
            }
            _ = stopping.changed() => return,
        }
    }
}
