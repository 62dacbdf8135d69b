//! The service's one typed configuration: defaults, then a TOML file, then
//! `MADOGUCHI_*` environment variables, then command-line flags. It holds
//! only deployment matters (addresses, database, secrets, limits); the
//! support policy lives in the rule set.

use std::net::SocketAddr;
use std::path::PathBuf;

use std::num::NonZeroU32;
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::handoff::{MAX_TIMEOUT, Schedule, Target};
use crate::secret::{Secret, WebhookSecret};
use crate::store::{DatabaseUrl, Durability, InvalidDatabaseUrl};

/// The configuration as written: every key, before its values are parsed
/// into [`Config`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Written {
    /// Where to listen (`127.0.0.1:8080`).
    pub listen: SocketAddr,
    /// `sqlite://madoguchi.db` (created if missing) or `postgres://...`.
    pub database_url: String,
    /// The rule set: a YAML file or a folder of them.
    pub rules: PathBuf,
    /// `on` or `off`: reload the rules when their files change (SIGHUP and
    /// the agent API reload them either way).
    pub rules_watch: Switch,
    /// The conversation tests rule suggestions are replayed against.
    pub conversation_tests: PathBuf,
    /// The bearer token of `/metrics`; without it `/metrics` is open.
    pub metrics_token: Option<Secret>,
    /// Serve `/metrics` on this address instead of the main one.
    pub metrics_listen: Option<SocketAddr>,
    /// The bearer token of the agent API; without it the agent API answers
    /// 401 to everyone.
    pub admin_token: Option<Secret>,
    /// The secret shared with the shop's backend: `user_hash` is
    /// HMAC-SHA256 of the customer's `external_id` with it.
    pub identity_secret: Option<Secret>,
    /// Where handoffs are posted.
    pub webhook_url: Option<String>,
    /// The Standard Webhooks signing secret (`whsec_...`).
    pub webhook_secret: Option<Secret>,
    /// What `webhook_url` is: `webhook` (the generic signed event),
    /// `zendesk` or `freshdesk` (the help desk's base URL).
    pub ticket_system: TicketSystem,
    /// Zendesk: the agent's e-mail address for the API.
    pub ticket_user: Option<String>,
    /// Zendesk's API token, or Freshdesk's API key.
    pub ticket_api_token: Option<Secret>,
    /// Freshdesk: the requester when the bot collected no e-mail address.
    pub ticket_fallback_email: Option<String>,
    /// How long to wait for the ticket system, in seconds.
    pub webhook_timeout_seconds: u64,
    /// The waits before each retry (`5s`, `5m`, `2h`...); when they are
    /// spent, the handoff is dead-lettered.
    pub webhook_retry_schedule: Vec<String>,
    /// Each wait is lengthened by up to this fraction, at random.
    pub webhook_jitter: f64,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The longest message text accepted, in characters.
    pub max_message_chars: usize,
    /// Conversations not updated for this many days are purged (0: never).
    pub retention_days: u32,
    /// After a bot answer, this many minutes of silence from the customer
    /// count the conversation as settled by the bot (the analytics).
    pub analytics_silence_minutes: u32,
    /// SQLite's `synchronous`: `normal` (durable across a process crash) or
    /// `full` (also across a power loss).
    pub sqlite_synchronous: Durability,
    /// Log lines as `text` or `json`.
    pub log_format: LogFormat,
    /// `on` or `off`: every rate limit at once (off for a load generator
    /// that sends from one address).
    pub rate_limits: Switch,
    /// Requests to the chat API per client address and minute.
    pub rate_limit_requests_per_minute: u32,
    /// New conversations per client address and minute.
    pub rate_limit_starts_per_minute: u32,
    /// Customer messages per conversation and minute.
    pub rate_limit_messages_per_minute: u32,
    /// Proxies whose `X-Forwarded-For` names the client (IP addresses).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The most messages a conversation holds (customer, bot and agent).
    pub max_messages_per_conversation: u32,
    /// The most live event streams open on one conversation; a new one
    /// closes the oldest.
    pub max_streams_per_conversation: u32,
    /// The most transcript messages a handoff carries; a longer one is
    /// trimmed, with a link to the whole.
    pub max_handoff_messages: u32,
    /// Where the service is reached from outside (`https://chat.shop.example`),
    /// for links in handoffs.
    pub public_url: Option<String>,
    /// The web origins (`https://shop.example`) whose pages may call the
    /// chat API from a browser (the widget on the shop's site).
    pub cors_origins: Vec<String>,
    /// Connections open at once; more are closed at once.
    pub max_connections: u32,
    /// Seconds a client has to send a request's headers, and that an idle
    /// kept-alive connection stays open.
    pub header_timeout_seconds: u64,
    /// Seconds a client has to send a request's body.
    pub body_timeout_seconds: u64,
    /// The bearer secret of `POST /v1/email/inbound`; without it the
    /// endpoint answers 401 to everyone.
    pub email_inbound_secret: Option<Secret>,
    /// The address the inbox answers from (`support@shop.example`); the
    /// e-mail channel is on when it is set.
    pub email_from: Option<String>,
    /// The name shown with `email_from`.
    pub email_from_name: Option<String>,
    /// The SMTP relay (`smtp://127.0.0.1:25`, `smtps://user:pass@host`);
    /// without one, answers are kept (status `held`) and logged, not sent.
    pub smtp_url: Option<Secret>,
    /// The receiving server's `authserv-id`, whose
    /// `Authentication-Results` are trusted for DMARC.
    pub email_authserv_id: Option<String>,
    /// The largest inbound mail accepted, in bytes.
    pub email_max_bytes: usize,
    /// At most one automatic answer per sender in this many minutes.
    pub email_reply_window_minutes: u64,
    /// This many mails in one conversation within
    /// `email_burst_window_minutes` stop automatic answers there and hand
    /// it to a person.
    pub email_burst_mails: u32,
    /// See `email_burst_mails`.
    pub email_burst_window_minutes: u64,
    /// Days an address that bounced for good is not mailed.
    pub email_bounce_hold_days: u64,
    /// The IMAP server of the inbox (implicit TLS); the poller runs when it
    /// is set.
    pub imap_host: Option<String>,
    /// Its port.
    pub imap_port: u16,
    /// The login.
    pub imap_user: Option<String>,
    /// The password or app password.
    pub imap_password: Option<Secret>,
    /// The folder read.
    pub imap_mailbox: String,
    /// The folder handled mail is moved to.
    pub imap_done_mailbox: String,
    /// Seconds between looks when the server has no IDLE.
    pub imap_poll_seconds: u64,
    /// Extra CA certificates (PEM) for a server with a private CA.
    pub imap_ca_file: Option<PathBuf>,
}

/// The e-mail channel's configuration.
#[derive(Debug, Clone)]
pub struct EmailConfig {
    /// How the inbox behaves.
    pub settings: crate::channels::email::MailSettings,
    /// The bearer secret of the inbound endpoint.
    pub inbound_secret: Option<Secret>,
    /// The SMTP relay.
    pub smtp_url: Option<Secret>,
    /// The largest inbound mail accepted, in bytes.
    pub max_bytes: usize,
    /// The mailbox to poll, if any.
    pub imap: Option<ImapConfig>,
}

/// The mailbox the poller reads.
#[derive(Debug, Clone)]
pub struct ImapConfig {
    /// Host.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Login.
    pub user: String,
    /// Password.
    pub password: Secret,
    /// Folder read.
    pub mailbox: String,
    /// Folder handled mail goes to.
    pub done_mailbox: String,
    /// Poll interval without IDLE.
    pub poll: Duration,
    /// Extra CA certificates.
    pub ca_file: Option<PathBuf>,
}

/// On or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Switch {
    /// On.
    On,
    /// Off.
    Off,
}

/// The service's limits: what one client, conversation or stream may take.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Whether rate limits apply at all.
    pub rate_limits: bool,
    /// Requests to the chat API per client address and minute.
    pub requests_per_minute: NonZeroU32,
    /// New conversations per client address and minute.
    pub starts_per_minute: NonZeroU32,
    /// Customer messages per conversation and minute.
    pub messages_per_minute: NonZeroU32,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The most messages a conversation holds.
    pub max_messages_per_conversation: u32,
    /// The most live event streams open on one conversation.
    pub max_streams_per_conversation: NonZeroU32,
    /// The most transcript messages a handoff carries.
    pub max_handoff_messages: NonZeroU32,
    /// Connections open at once.
    pub max_connections: NonZeroU32,
    /// How long a client has to send a request's headers, and how long an
    /// idle kept-alive connection stays open.
    pub header_timeout: Duration,
    /// How long a client has to send a request's body.
    pub body_timeout: Duration,
}

/// The configuration of `madoguchi serve`, parsed: every value is known to
/// be usable.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen (`127.0.0.1:8080`).
    pub listen: SocketAddr,
    /// `sqlite://madoguchi.db` (created if missing) or `postgres://...`.
    pub database_url: DatabaseUrl,
    /// The rule set: a YAML file or a folder of them.
    pub rules: PathBuf,
    /// Whether the rules are reloaded when their files change.
    pub rules_watch: bool,
    /// The conversation tests rule suggestions are replayed against (a
    /// file or a folder; none run when it does not exist).
    pub conversation_tests: PathBuf,
    /// The bearer token of `/metrics`.
    pub metrics_token: Option<Secret>,
    /// Where `/metrics` is served, when not on `listen`.
    pub metrics_listen: Option<SocketAddr>,
    /// The bearer token of the agent API; without it the agent API answers
    /// 401 to everyone.
    pub admin_token: Option<Secret>,
    /// The secret shared with the shop's backend: `user_hash` is
    /// HMAC-SHA256 of the customer's `external_id` with it.
    pub identity_secret: Option<Secret>,
    /// Where and how handoffs are delivered; `None` keeps them in the
    /// outbox until a `webhook_url` is set.
    pub target: Option<Target>,
    /// How long to wait for the ticket system.
    pub webhook_timeout: Duration,
    /// When failed deliveries are tried again.
    pub schedule: Schedule,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The longest message text accepted, in characters.
    pub max_message_chars: usize,
    /// Conversations not updated for this many days are purged (0: never).
    pub retention_days: u32,
    /// After a bot answer, this many minutes of silence from the customer
    /// count the conversation as settled by the bot (the analytics).
    pub analytics_silence_minutes: u32,
    /// SQLite's durability.
    pub sqlite_synchronous: Durability,
    /// How log lines are written.
    pub log_format: LogFormat,
    /// What one client, conversation or stream may take.
    pub limits: Limits,
    /// Where the service is reached from outside, if set: links in handoffs
    /// are built on it.
    pub public_url: Option<String>,
    /// The origins whose pages may call the chat API from a browser, as
    /// `scheme://host[:port]`.
    pub cors_origins: Vec<String>,
    /// The e-mail channel, when `email_from` is set.
    pub email: Option<EmailConfig>,
}

/// What `webhook_url` points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TicketSystem {
    /// Any endpoint, sent the signed `handoff.created` event.
    Webhook,
    /// A Zendesk account's base URL.
    Zendesk,
    /// A Freshdesk account's base URL.
    Freshdesk,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// For a person at a terminal.
    Text,
    /// One JSON object per line, for a log collector.
    Json,
}

/// Every key of the configuration.
const KEYS: &[&str] = &[
    "listen",
    "database_url",
    "rules",
    "rules_watch",
    "conversation_tests",
    "metrics_token",
    "metrics_listen",
    "admin_token",
    "identity_secret",
    "webhook_url",
    "webhook_secret",
    "ticket_system",
    "ticket_user",
    "ticket_api_token",
    "ticket_fallback_email",
    "webhook_timeout_seconds",
    "webhook_retry_schedule",
    "webhook_jitter",
    "max_body_bytes",
    "max_message_chars",
    "retention_days",
    "analytics_silence_minutes",
    "sqlite_synchronous",
    "log_format",
    "rate_limits",
    "rate_limit_requests_per_minute",
    "rate_limit_starts_per_minute",
    "rate_limit_messages_per_minute",
    "trusted_proxies",
    "max_messages_per_conversation",
    "max_streams_per_conversation",
    "max_handoff_messages",
    "public_url",
    "cors_origins",
    "max_connections",
    "header_timeout_seconds",
    "body_timeout_seconds",
    "email_inbound_secret",
    "email_from",
    "email_from_name",
    "smtp_url",
    "email_authserv_id",
    "email_max_bytes",
    "email_reply_window_minutes",
    "email_burst_mails",
    "email_burst_window_minutes",
    "email_bounce_hold_days",
    "imap_host",
    "imap_port",
    "imap_user",
    "imap_password",
    "imap_mailbox",
    "imap_done_mailbox",
    "imap_poll_seconds",
    "imap_ca_file",
];

/// The defaults: a fresh machine runs with no configuration at all.
#[derive(Serialize)]
struct Defaults {
    listen: &'static str,
    ticket_system: &'static str,
    webhook_timeout_seconds: u64,
    webhook_retry_schedule: [&'static str; 9],
    webhook_jitter: f64,
    database_url: &'static str,
    rules: &'static str,
    rules_watch: &'static str,
    conversation_tests: &'static str,
    max_body_bytes: usize,
    max_message_chars: usize,
    retention_days: u32,
    analytics_silence_minutes: u32,
    sqlite_synchronous: &'static str,
    log_format: &'static str,
    rate_limits: &'static str,
    rate_limit_requests_per_minute: u32,
    rate_limit_starts_per_minute: u32,
    rate_limit_messages_per_minute: u32,
    trusted_proxies: [&'static str; 0],
    cors_origins: [&'static str; 0],
    max_messages_per_conversation: u32,
    max_streams_per_conversation: u32,
    max_handoff_messages: u32,
    max_connections: u32,
    header_timeout_seconds: u64,
    body_timeout_seconds: u64,
    email_max_bytes: usize,
    email_reply_window_minutes: u64,
    email_burst_mails: u32,
    email_burst_window_minutes: u64,
    email_bounce_hold_days: u64,
    imap_port: u16,
    imap_mailbox: &'static str,
    imap_done_mailbox: &'static str,
    imap_poll_seconds: u64,
}

const DEFAULTS: Defaults = Defaults {
    listen: "127.0.0.1:8080",
    ticket_system: "webhook",
    webhook_timeout_seconds: 10,
    // Standard Webhooks' schedule after the first attempt: about three days.
    webhook_retry_schedule: ["5s", "5m", "30m", "2h", "5h", "10h", "14h", "20h", "24h"],
    webhook_jitter: 0.1,
    database_url: "sqlite://madoguchi.db",
    rules: "rules",
    rules_watch: "on",
    conversation_tests: "conversations",
    max_body_bytes: 64 * 1024,
    max_message_chars: 4_000,
    retention_days: 365,
    analytics_silence_minutes: 30,
    sqlite_synchronous: "normal",
    log_format: "text",
    rate_limits: "on",
    rate_limit_requests_per_minute: 600,
    rate_limit_starts_per_minute: 20,
    rate_limit_messages_per_minute: 30,
    trusted_proxies: [],
    cors_origins: [],
    max_messages_per_conversation: 1_000,
    max_streams_per_conversation: 3,
    max_handoff_messages: 200,
    max_connections: 1_000,
    header_timeout_seconds: 10,
    body_timeout_seconds: 15,
    // Photos of damaged items are common.
    email_max_bytes: 25 * 1024 * 1024,
    email_reply_window_minutes: 10,
    email_burst_mails: 5,
    email_burst_window_minutes: 10,
    email_bounce_hold_days: 7,
    imap_port: 993,
    imap_mailbox: "INBOX",
    imap_done_mailbox: "madoguchi-handled",
    imap_poll_seconds: 60,
};

/// Values given on the command line, over everything else.
#[derive(Debug, Default, Serialize)]
pub struct Flags {
    /// `--listen`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// `--database`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// `--rules`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules: Option<PathBuf>,
}

/// A configuration that cannot be used; the message names the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value could not be read.
    #[error("configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Settings that work but leave something off or unsafe, said at
    /// start: no `admin_token` (the agent API is then off), a webhook
    /// without `webhook_secret` (handoffs then go unsigned).
    #[must_use]
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.admin_token.is_none() {
            warnings.push(
                "no admin_token: the agent API (/v1/admin/...) answers 401 to everyone".to_owned(),
            );
        }
        if let Some(Target::Webhook { secret: None, .. }) = &self.target {
            warnings.push(
                "webhook_url without webhook_secret: handoffs are sent unsigned, and the receiver cannot tell them from forgeries".to_owned(),
            );
        }
        warnings
    }

    /// Reads the configuration: defaults, then `file` (if given), then the
    /// environment (`MADOGUCHI_LISTEN`, `MADOGUCHI_DATABASE_URL`...), then
    /// `flags`.
    ///
    /// # Errors
    /// [`ConfigError`] naming the key whose value is wrong.
    pub fn load(file: Option<&std::path::Path>, flags: &Flags) -> Result<Self, ConfigError> {
        // Only the configuration's own keys are taken from the environment:
        // other `MADOGUCHI_*` variables (a test's database, say) are not
        // configuration, and a typo there cannot be told from them.
        if let Some(file) = file
            && let Err(err) = std::fs::metadata(file)
        {
            return Err(ConfigError::Invalid(format!(
                "cannot read {}: {err}",
                file.display()
            )));
        }
        let env = Env::prefixed("MADOGUCHI_").only(KEYS);
        Self::from_figment(&Self::figment(file, flags, env))
    }

    fn figment(
        file: Option<&std::path::Path>,
        flags: &Flags,
        env: impl figment::Provider,
    ) -> Figment {
        let mut figment = Figment::from(Serialized::defaults(DEFAULTS));
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        figment.merge(env).merge(Serialized::defaults(flags))
    }

    fn from_figment(figment: &Figment) -> Result<Self, ConfigError> {
        let written: Written = figment.extract().map_err(|errors| {
            let messages: Vec<String> = errors.into_iter().map(|e| describe(&e)).collect();
            ConfigError::Invalid(messages.join("; "))
        })?;
        written.parse()
    }
}

fn invalid(key: &str, why: &str) -> ConfigError {
    ConfigError::Invalid(format!("`{key}` {why}"))
}

impl Written {
    /// Checks every value and builds what is built from them once: the
    /// delivery target and its retry schedule.
    fn parse(self) -> Result<Config, ConfigError> {
        let database_url: DatabaseUrl = self
            .database_url
            .parse()
            .map_err(|e: InvalidDatabaseUrl| invalid("database_url", &e.to_string()))?;
        if self.max_body_bytes < 1024 {
            return Err(invalid("max_body_bytes", "must be at least 1024"));
        }
        let webhook_timeout = Duration::from_secs(self.webhook_timeout_seconds);
        if self.webhook_timeout_seconds == 0 || webhook_timeout > MAX_TIMEOUT {
            return Err(invalid(
                "webhook_timeout_seconds",
                "must be from 1 to 60 (a delivery must end well within its two-minute lease)",
            ));
        }
        for (key, secret) in [
            ("admin_token", &self.admin_token),
            ("identity_secret", &self.identity_secret),
            ("metrics_token", &self.metrics_token),
        ] {
            if secret
                .as_ref()
                .is_some_and(|s| s.expose().chars().count() < 16)
            {
                return Err(invalid(key, "must be at least 16 characters"));
            }
        }
        if self.max_message_chars == 0 {
            return Err(invalid("max_message_chars", "must be at least 1"));
        }
        let webhook_secret = self
            .webhook_secret
            .clone()
            .map(WebhookSecret::parse)
            .transpose()
            .map_err(|_| {
                invalid(
                    "webhook_secret",
                    "must be a Standard Webhooks secret (`whsec_` and base64)",
                )
            })?;
        let target = self.target(webhook_secret)?;
        let schedule = self.schedule()?;
        let limits = self.limits()?;
        let public_url = self
            .public_url
            .as_deref()
            .map(|url| {
                let url = url.trim_end_matches('/');
                if url.starts_with("https://") || url.starts_with("http://") {
                    Ok(url.to_owned())
                } else {
                    Err(invalid("public_url", "must be an http:// or https:// URL"))
                }
            })
            .transpose()?;
        let cors_origins = self
            .cors_origins
            .iter()
            .map(|origin| web_origin(origin).ok_or_else(|| {
                invalid(
                    "cors_origins",
                    &format!("`{origin}` is not a web origin (`https://shop.example`, with a port if not the usual one, and no path)"),
                )
            }))
            .collect::<Result<Vec<_>, _>>()?;
        let email = self.email()?;
        Ok(Config {
            email,
            listen: self.listen,
            database_url,
            rules: self.rules,
            rules_watch: self.rules_watch == Switch::On,
            conversation_tests: self.conversation_tests,
            metrics_token: self.metrics_token.clone(),
            metrics_listen: self.metrics_listen,
            admin_token: self.admin_token,
            identity_secret: self.identity_secret,
            target,
            webhook_timeout,
            schedule,
            max_body_bytes: self.max_body_bytes,
            max_message_chars: self.max_message_chars,
            retention_days: self.retention_days,
            analytics_silence_minutes: self.analytics_silence_minutes,
            sqlite_synchronous: self.sqlite_synchronous,
            log_format: self.log_format,
            limits,
            public_url,
            cors_origins,
        })
    }

    /// The e-mail channel, on when `email_from` is set.
    fn email(&self) -> Result<Option<EmailConfig>, ConfigError> {
        let Some(from) = self.email_from.as_deref() else {
            if self.imap_host.is_some() || self.smtp_url.is_some() {
                return Err(invalid(
                    "email_from",
                    "must be set for the e-mail channel (imap_host or smtp_url is set)",
                ));
            }
            return Ok(None);
        };
        let from = from.trim();
        if from.parse::<lettre::Address>().is_err() {
            return Err(invalid("email_from", "must be an e-mail address"));
        }
        if self
            .email_inbound_secret
            .as_ref()
            .is_some_and(|s| s.expose().chars().count() < 16)
        {
            return Err(invalid(
                "email_inbound_secret",
                "must be at least 16 characters",
            ));
        }
        if let Some(url) = &self.smtp_url {
            let url = url.expose();
            if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                return Err(invalid("smtp_url", "must be an smtp:// or smtps:// URL"));
            }
        }
        if self.email_max_bytes < 1024 {
            return Err(invalid("email_max_bytes", "must be at least 1024"));
        }
        let mut settings = crate::channels::email::MailSettings::new(from);
        settings.display_name.clone_from(&self.email_from_name);
        settings.authserv_id.clone_from(&self.email_authserv_id);
        settings.reply_window = Duration::from_secs(self.email_reply_window_minutes * 60);
        settings.burst_window = Duration::from_secs(self.email_burst_window_minutes * 60);
        settings.burst_mails = i64::from(self.email_burst_mails.max(1));
        settings.bounce_hold = Duration::from_secs(self.email_bounce_hold_days * 24 * 3600);
        settings.relay = self.smtp_url.is_some();
        settings.max_chars = self.max_message_chars;
        let imap = match (&self.imap_host, &self.imap_user, &self.imap_password) {
            (None, _, _) => None,
            (Some(host), Some(user), Some(password)) => Some(ImapConfig {
                host: host.clone(),
                port: self.imap_port,
                user: user.clone(),
                password: password.clone(),
                mailbox: self.imap_mailbox.clone(),
                done_mailbox: self.imap_done_mailbox.clone(),
                poll: Duration::from_secs(self.imap_poll_seconds.max(1)),
                ca_file: self.imap_ca_file.clone(),
            }),
            (Some(_), _, _) => {
                return Err(invalid(
                    "imap_user",
                    "imap_user and imap_password must be set with imap_host",
                ));
            }
        };
        Ok(Some(EmailConfig {
            settings,
            inbound_secret: self.email_inbound_secret.clone(),
            smtp_url: self.smtp_url.clone(),
            max_bytes: self.email_max_bytes,
            imap,
        }))
    }

    /// The limits, each at least 1.
    fn limits(&self) -> Result<Limits, ConfigError> {
        let at_least_one = |key: &str, value: u32| {
            NonZeroU32::new(value).ok_or_else(|| invalid(key, "must be at least 1"))
        };
        let seconds = |key: &str, value: u64| {
            (1..=3_600)
                .contains(&value)
                .then(|| Duration::from_secs(value))
                .ok_or_else(|| invalid(key, "must be from 1 to 3600"))
        };
        Ok(Limits {
            rate_limits: self.rate_limits == Switch::On,
            requests_per_minute: at_least_one(
                "rate_limit_requests_per_minute",
                self.rate_limit_requests_per_minute,
            )?,
            starts_per_minute: at_least_one(
                "rate_limit_starts_per_minute",
                self.rate_limit_starts_per_minute,
            )?,
            messages_per_minute: at_least_one(
                "rate_limit_messages_per_minute",
                self.rate_limit_messages_per_minute,
            )?,
            trusted_proxies: self.trusted_proxies.clone(),
            max_messages_per_conversation: at_least_one(
                "max_messages_per_conversation",
                self.max_messages_per_conversation,
            )?
            .get()
            .max(2),
            max_streams_per_conversation: at_least_one(
                "max_streams_per_conversation",
                self.max_streams_per_conversation,
            )?,
            max_handoff_messages: at_least_one("max_handoff_messages", self.max_handoff_messages)?,
            max_connections: at_least_one("max_connections", self.max_connections)?,
            header_timeout: seconds("header_timeout_seconds", self.header_timeout_seconds)?,
            body_timeout: seconds("body_timeout_seconds", self.body_timeout_seconds)?,
        })
    }

    /// Where handoffs go, if anywhere.
    fn target(&self, secret: Option<WebhookSecret>) -> Result<Option<Target>, ConfigError> {
        let Some(url) = self.webhook_url.clone() else {
            return Ok(None);
        };
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(invalid("webhook_url", "must be an http:// or https:// URL"));
        }
        let token = || {
            self.ticket_api_token
                .clone()
                .ok_or_else(|| invalid("ticket_api_token", "is needed for this ticket_system"))
        };
        let target = match self.ticket_system {
            TicketSystem::Webhook => Target::Webhook { url, secret },
            TicketSystem::Zendesk => Target::Zendesk {
                base_url: url,
                email: self.ticket_user.clone().ok_or_else(|| {
                    invalid("ticket_user", "(the agent's e-mail) is needed for zendesk")
                })?,
                token: token()?,
            },
            TicketSystem::Freshdesk => Target::Freshdesk {
                base_url: url,
                api_key: token()?,
                fallback_email: self.ticket_fallback_email.clone().ok_or_else(|| {
                    invalid(
                        "ticket_fallback_email",
                        "is needed for freshdesk, which requires a requester e-mail",
                    )
                })?,
            },
        };
        Ok(Some(target))
    }

    /// The retry schedule.
    fn schedule(&self) -> Result<Schedule, ConfigError> {
        let delays = self
            .webhook_retry_schedule
            .iter()
            .map(|d| {
                crate::hours::parse_duration(d)
                    .ok()
                    .and_then(|d| d.try_into().ok())
                    .ok_or_else(|| {
                        ConfigError::Invalid(format!(
                            "`webhook_retry_schedule`: `{d}` is not a duration such as `5s`, `30m` or `2h`"
                        ))
                    })
            })
            .collect::<Result<Vec<Duration>, _>>()?;
        if !(0.0..=1.0).contains(&self.webhook_jitter) {
            return Err(ConfigError::Invalid(
                "`webhook_jitter` must be from 0 to 1".to_owned(),
            ));
        }
        Ok(Schedule {
            delays,
            jitter: self.webhook_jitter,
        })
    }
}

/// One configuration error, naming the key and where its value came from,
/// never the value itself (it may be a secret).
fn describe(error: &figment::Error) -> String {
    let key = if error.path.is_empty() {
        "configuration".to_owned()
    } else {
        format!("`{}`", error.path.join("."))
    };
    let source = error
        .metadata
        .as_ref()
        .map(|m| format!(" (from {})", m.name))
        .unwrap_or_default();
    let kind = match &error.kind {
        figment::error::Kind::InvalidType(_, expected)
        | figment::error::Kind::InvalidValue(_, expected) => format!("expected {expected}"),
        figment::error::Kind::UnknownField(field, _) => {
            return format!("unknown key `{field}`{source}");
        }
        figment::error::Kind::UnknownVariant(_, expected) => {
            let expected: Vec<String> = expected.iter().map(|e| format!("`{e}`")).collect();
            format!("must be one of {}", expected.join(", "))
        }
        other => other.to_string(),
    };
    format!("{key}{source}: {kind}")
}

/// `origin` as a browser sends it in `Origin` (`scheme://host[:port]`), if
/// it is an http(s) origin and nothing more.
fn web_origin(origin: &str) -> Option<String> {
    let url = reqwest::Url::parse(origin).ok()?;
    let bare = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some()
        && url.username().is_empty()
        && url.password().is_none()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none();
    bare.then(|| url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(toml: &str, env: &[(&str, &str)], flags: &Flags) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("madoguchi.toml");
        std::fs::write(&file, toml).expect("write");
        // The environment layer is given as a map rather than read from the
        // process, so that tests do not race on the process environment;
        // the key mapping is the one `Env::prefixed` applies.
        let env: std::collections::BTreeMap<String, String> = env
            .iter()
            .filter_map(|(k, v)| {
                Some((
                    k.strip_prefix("MADOGUCHI_")?.to_lowercase(),
                    (*v).to_owned(),
                ))
            })
            .collect();
        Config::from_figment(&Config::figment(
            Some(&file),
            flags,
            Serialized::defaults(env),
        ))
    }

    #[test]
    fn defaults_need_no_file() {
        let config = Config::from_figment(&Figment::from(Serialized::defaults(DEFAULTS)))
            .expect("defaults are valid");
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.database_url.to_string(), "sqlite://madoguchi.db");
        assert!(config.admin_token.is_none());
    }

    #[test]
    fn flags_beat_the_environment_which_beats_the_file() {
        let flags = Flags {
            listen: Some("127.0.0.1:9999".into()),
            ..Flags::default()
        };
        let config = load(
            "listen = '127.0.0.1:7000'\nrules = 'from-file'\ndatabase_url = 'sqlite://file.db'\n",
            &[
                ("MADOGUCHI_DATABASE_URL", "sqlite://env.db"),
                ("MADOGUCHI_LISTEN", "127.0.0.1:8000"),
            ],
            &flags,
        )
        .expect("valid");
        assert_eq!(config.rules, PathBuf::from("from-file"));
        assert_eq!(config.database_url.to_string(), "sqlite://env.db");
        assert_eq!(config.listen.to_string(), "127.0.0.1:9999");
    }

    #[test]
    fn a_wrong_value_names_its_key_and_not_its_value() {
        let err = load("listen = 'not an address'\n", &[], &Flags::default()).expect_err("invalid");
        let message = err.to_string();
        assert!(message.contains("`listen`"), "{message}");
        let err =
            load("webhook_secret = 'hunter2'\n", &[], &Flags::default()).expect_err("invalid");
        let message = err.to_string();
        assert!(message.contains("`webhook_secret`"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
        let err = load("log_format = 'xml-secret'\n", &[], &Flags::default()).expect_err("invalid");
        let message = err.to_string();
        assert!(
            message.contains("`log_format`") && message.contains("`json`"),
            "{message}"
        );
        assert!(!message.contains("xml-secret"), "{message}");
        let err = load("admin_tokn = 'x'\n", &[], &Flags::default()).expect_err("unknown");
        assert!(
            err.to_string().contains("unknown key `admin_tokn`"),
            "{err}"
        );
    }

    #[test]
    fn the_example_file_lists_every_key_and_is_valid() {
        let text = include_str!("../madoguchi.example.toml");
        for key in KEYS {
            assert!(
                text.contains(&format!("{key} =")),
                "`{key}` is not documented"
            );
        }
        load(text, &[], &Flags::default()).expect("the example is valid");
    }

    #[test]
    fn settings_that_leave_something_off_are_warned_about() {
        let defaults = load("", &[], &Flags::default()).expect("valid");
        let warnings = defaults.warnings().join("\n");
        assert!(warnings.contains("no admin_token"), "{warnings}");
        let unsigned = load(
            "admin_token = 's3cret-s3cret-s3cret'\nwebhook_url = 'https://tickets.example/hook'\n",
            &[],
            &Flags::default(),
        )
        .expect("valid");
        let warnings = unsigned.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("unsigned"), "{warnings:?}");
        let signed = load(
            "admin_token = 's3cret-s3cret-s3cret'\nwebhook_url = 'https://tickets.example/hook'\nwebhook_secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'\n",
            &[],
            &Flags::default(),
        )
        .expect("valid");
        assert!(signed.warnings().is_empty(), "{:?}", signed.warnings());
    }

    #[test]
    fn short_secrets_are_refused() {
        let err = load("admin_token = 'abc'\n", &[], &Flags::default()).expect_err("too short");
        assert!(
            err.to_string()
                .contains("`admin_token` must be at least 16"),
            "{err}"
        );
    }

    #[test]
    fn secrets_never_print() {
        let config = load(
            "admin_token = 's3cret-s3cret-s3cret'\n",
            &[],
            &Flags::default(),
        )
        .expect("valid");
        let printed = format!("{config:?}");
        assert!(!printed.contains("s3cret"), "{printed}");
        assert_eq!(
            config.admin_token.expect("set").expose(),
            "s3cret-s3cret-s3cret"
        );
    }

    #[test]
    fn cors_origins_are_bare_web_origins() {
        assert_eq!(
            web_origin("https://Shop.example:443/").as_deref(),
            Some("https://shop.example")
        );
        assert_eq!(
            web_origin("http://127.0.0.1:3000").as_deref(),
            Some("http://127.0.0.1:3000")
        );
        for wrong in [
            "shop.example",
            "https://shop.example/widget",
            "ftp://shop.example",
            "*",
            "https://u:p@shop.example",
        ] {
            assert_eq!(web_origin(wrong), None, "{wrong}");
        }
    }
}
