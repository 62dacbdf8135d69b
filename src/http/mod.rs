//! The HTTP service: one router, one application state, built before it
//! runs and stopped gracefully.
//!
//! [`Application::build`] does everything that can fail — configuration,
//! rules, database, listener — so that a mistake stops the start with a
//! clear message; [`Application::run_until_stopped`] then serves until the
//! shutdown signal, finishes the requests in flight, ends live event
//! streams, and closes the database.

mod admin;
pub(crate) mod auth;
pub(crate) mod error;

pub use auth::user_hash;
pub use error::ApiError;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::config::{Config, Secret};
use crate::conversation::Events;
use crate::handoff::{Outbox, SystemClock};
use crate::rules::RuleSet;
use crate::store::{Durability, Store};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The rule set in use.
    pub rules: Arc<RuleSet>,
    /// The database.
    pub store: Store,
    /// Live listeners of conversations.
    pub events: Events,
    /// Deployment settings the handlers need.
    pub settings: Arc<Settings>,
    /// Becomes `true` when the service is stopping: live streams end.
    pub stopping: watch::Receiver<bool>,
    /// Wakes the outbox worker when a handoff is written.
    pub outbox: Arc<Notify>,
}

/// The settings handlers read.
#[derive(Debug)]
pub struct Settings {
    /// The agent API's token.
    pub admin_token: Option<Secret>,
    /// The secret behind `user_hash`.
    pub identity_secret: Option<Secret>,
    /// The longest message accepted, in characters.
    pub max_message_chars: usize,
}

/// A built service, ready to run.
pub struct Application {
    listener: TcpListener,
    router: Router,
    store: Store,
    stop: watch::Sender<bool>,
    address: SocketAddr,
    outbox: Option<JoinHandle<()>>,
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
        errors: crate::rules::LoadError,
    },
    /// The database could not be reached or migrated.
    #[error("database {url}: {source}")]
    Database {
        /// The URL, without its password.
        url: String,
        /// What went wrong.
        source: crate::store::StoreError,
    },
    /// The configuration cannot be used.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The webhook client could not be built.
    #[error("the webhook client: {0}")]
    Client(#[from] reqwest::Error),
    /// The address cannot be listened on.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// The address.
        address: SocketAddr,
        /// What went wrong.
        source: std::io::Error,
    },
}

/// How often a live stream sends a comment so that proxies keep it open.
const HEARTBEAT: Duration = Duration::from_secs(15);

impl Application {
    /// Loads the rules, connects to the database, and binds the listener.
    ///
    /// # Errors
    /// [`StartError`] saying what cannot start.
    pub async fn build(config: &Config) -> Result<Self, StartError> {
        let rules = RuleSet::load(&config.rules).map_err(|errors| StartError::Rules {
            path: config.rules.display().to_string(),
            errors,
        })?;
        let durability = if config.sqlite_synchronous == "full" {
            Durability::Full
        } else {
            Durability::Normal
        };
        let store = Store::connect(&config.database_url, durability)
            .await
            .map_err(|source| StartError::Database {
                url: without_password(&config.database_url),
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
        let events = Events::default();
        let rules = Arc::new(rules.rules);
        let wake = Arc::new(Notify::new());
        let outbox = if let Some(target) = config.target()? {
            let worker = Outbox::new(
                store.clone(),
                Arc::clone(&rules),
                events.clone(),
                target,
                Duration::from_secs(config.webhook_timeout_seconds),
                config.schedule()?,
                Arc::new(SystemClock),
            )?;
            Some(tokio::spawn(
                worker.run(stopping.clone(), Arc::clone(&wake)),
            ))
        } else {
            tracing::warn!("no webhook_url: handoffs wait in the outbox until one is set");
            None
        };
        let state = AppState {
            rules,
            store: store.clone(),
            events,
            outbox: wake,
            settings: Arc::new(Settings {
                admin_token: config.admin_token.clone(),
                identity_secret: config.identity_secret.clone(),
                max_message_chars: config.max_message_chars,
            }),
            stopping,
        };
        if config.retention_days > 0 {
            spawn_retention(store.clone(), config.retention_days, state.stopping.clone());
        }
        let router = router(state, config.max_body_bytes);
        Ok(Application {
            listener,
            router,
            store,
            stop,
            address,
            outbox,
        })
    }

    /// The address the service listens on (with the port chosen, when the
    /// configuration asked for port 0).
    #[must_use]
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Serves until `shutdown` completes, then stops gracefully: no new
    /// connections, requests in flight finish, live streams end, and the
    /// database is closed.
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
            // Live event streams never finish by themselves.
            let _ = stop.send(true);
        };
        tracing::info!(address = %self.address, database = self.store.backend_name(), "listening");
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(signal)
            .await?;
        if let Some(outbox) = self.outbox {
            // The worker finishes the delivery it is in.
            let _ = outbox.await;
        }
        self.store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

fn router(state: AppState, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(crate::channels::chat::routes())
        .merge(admin::routes())
        .fallback(|| async { ApiError::not_found("endpoint") })
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

async fn healthz() -> impl IntoResponse {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    state
        .store
        .ping()
        .await
        .map_err(|_| ApiError::unavailable("the database does not answer"))?;
    Ok((
        StatusCode::OK,
        axum::Json(serde_json::json!({
            "status": "ready",
            "database": state.store.backend_name(),
            "intents": state.rules.intents().len(),
        })),
    ))
}

/// Purges conversations past the retention once an hour.
fn spawn_retention(store: Store, days: u32, mut stopping: watch::Receiver<bool>) {
    tokio::spawn(async move {
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
    });
}

/// The database URL as it may be shown: without a password.
fn without_password(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The heartbeat interval of live streams.
#[must_use]
pub const fn heartbeat() -> Duration {
    HEARTBEAT
}
