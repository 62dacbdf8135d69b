//! The IMAP mailbox poller: reads the support inbox (Gmail, Microsoft 365
//! or any IMAP server, over implicit TLS), hands every message in it to a
//! [`Deliver`], and moves each message the deliverer stored to a "done"
//! mailbox, so that the inbox holds only what is still to be taken in.
//!
//! Delivery is at least once: a message stored just before the connection
//! drops, and so not yet moved, is offered again on the next pass. The
//! deliverer recognises a message it already has (by its `Message-ID`).
//!
//! Mailbox names go to the server as given: a name outside ASCII needs the
//! server's modified UTF-7 spelling.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_imap::error::Error as ProtocolError;
use async_imap::extensions::idle::IdleResponse;
use async_imap::imap_proto::{Response, Status};
use async_imap::types::UnsolicitedResponse;
use futures_util::TryStreamExt as _;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use crate::secret::Secret;

type Session = async_imap::Session<TlsStream<TcpStream>>;

/// How many messages one `UID FETCH` asks for: what a pass holds in memory
/// at once, so that a large mailbox drains in steps.
const BATCH: usize = 50;
/// RFC 2177: a server may log out a client idle for 30 minutes, so IDLE is
/// ended and issued again before that.
const MAX_IDLE: Duration = Duration::from_mins(25);
/// Without IDLE every round logs in again; a shorter interval would only
/// hammer the server.
const MIN_POLL: Duration = Duration::from_secs(1);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest wait for the answer to one command: a connection that died
/// silently shows as this error instead of a hang.
const COMMAND_TIMEOUT: Duration = Duration::from_mins(5);
const LOGOUT_TIMEOUT: Duration = Duration::from_secs(10);
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_mins(1);

/// Where the inbox is and how to log in.
#[derive(Debug, Clone)]
pub struct ImapSettings {
    /// The server's name (or address), spoken to over implicit TLS.
    pub host: String,
    /// The server's port: 993 usually.
    pub port: u16,
    /// The account to log in as.
    pub username: String,
    /// The account's password, or an app password (Gmail, Microsoft 365).
    pub password: Secret,
    /// The mailbox read: usually `INBOX`.
    pub mailbox: String,
    /// Where handled mail is moved, created when missing; e.g.
    /// `madoguchi-handled`. Must differ from `mailbox`.
    pub done_mailbox: String,
    /// How often to look when the server has no IDLE; with IDLE, the
    /// longest wait before IDLE is issued again (at most 25 minutes, as
    /// RFC 2177 advises).
    pub poll: Duration,
    /// Extra PEM CA certificates to trust besides the web's roots, for a
    /// self-hosted server whose certificate a private CA signed.
    pub ca_file: Option<PathBuf>,
}

/// What the poller hands each message to: the raw RFC 5322 bytes, as the
/// server has them. `Ok` means stored, and the poller then moves the
/// message to the done mailbox; `Err` means try again later, and the
/// message stays in the mailbox for the next pass.
pub trait Deliver: Send + Sync {
    /// Stores one message.
    fn deliver(&self, raw: Vec<u8>) -> impl Future<Output = Result<(), DeliverError>> + Send;
}

impl<D: Deliver> Deliver for Arc<D> {
    fn deliver(&self, raw: Vec<u8>) -> impl Future<Output = Result<(), DeliverError>> + Send {
        (**self).deliver(raw)
    }
}

impl<D: Deliver> Deliver for &D {
    fn deliver(&self, raw: Vec<u8>) -> impl Future<Output = Result<(), DeliverError>> + Send {
        (**self).deliver(raw)
    }
}

/// Why a message could not be stored this time.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DeliverError(pub String);

/// Why a pass over the mailbox failed. None of them carries the password.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    /// No TCP connection to the server.
    #[error("cannot connect to {host}:{port}: {reason}")]
    Connect {
        /// The server's name.
        host: String,
        /// The server's port.
        port: u16,
        /// What went wrong.
        reason: String,
    },
    /// `ca_file` cannot be read or holds no certificate.
    #[error("cannot use the CA certificates in {}: {reason}", path.display())]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The TLS handshake failed: most often a certificate that is not
    /// trusted or not for this host.
    #[error("TLS with {host}:{port} failed: {reason}")]
    Tls {
        /// The server's name.
        host: String,
        /// The server's port.
        port: u16,
        /// What went wrong.
        reason: String,
    },
    /// The server refused the username and password.
    #[error("the server refused the login of {username}: {reason}")]
    LoginRefused {
        /// The account.
        username: String,
        /// The server's words.
        reason: String,
    },
    /// The mailbox to read cannot be selected: most often it does not
    /// exist.
    #[error("mailbox {mailbox:?} is missing or cannot be selected: {reason}")]
    MailboxMissing {
        /// The mailbox.
        mailbox: String,
        /// The server's words.
        reason: String,
    },
    /// `done_mailbox` names the mailbox read: handled mail would come back.
    #[error("the done mailbox must differ from the mailbox read ({0:?})")]
    DoneIsSource(String),
    /// The server did not answer in time.
    #[error("the server did not answer {what} within {} s", after.as_secs())]
    Timeout {
        /// The command.
        what: &'static str,
        /// How long it was given.
        after: Duration,
    },
    /// The server refused a command or answered what the client could not
    /// read, or the connection broke.
    #[error("IMAP protocol error in {what}: {reason}")]
    Protocol {
        /// The command.
        what: &'static str,
        /// What went wrong.
        reason: String,
    },
}

/// Polls until `stopping` turns true (or its sender is gone): connects,
/// logs in, selects the mailbox, delivers and moves every message in it,
/// then waits with IDLE when the server offers it, or sleeps `poll`. A
/// failure is logged at warn and followed by a reconnection after a back-off
/// (1 s, doubling to 60 s, back to 1 s once a pass goes through).
pub async fn run(
    settings: ImapSettings,
    deliver: impl Deliver,
    mut stopping: watch::Receiver<bool>,
) {
    let mut backoff = FIRST_BACKOFF;
    while !*stopping.borrow() {
        let Err(err) = serve(&settings, &deliver, &mut stopping, &mut backoff).await else {
            return;
        };
        tracing::warn!(
            error = %err,
            retry_in_s = backoff.as_secs(),
            "IMAP mailbox poll failed; reconnecting"
        );
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = stopped(&mut stopping) => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One pass, what `run` does each round without the wait: connects, logs
/// in, delivers every message in the mailbox, moves the stored ones, logs
/// out. Returns how many were delivered (and moved). For a one-shot run,
/// and for tests.
pub async fn poll_once(
    settings: &ImapSettings,
    deliver: &impl Deliver,
) -> Result<usize, ImapError> {
    let mut inbox = Inbox::open(settings).await?;
    let delivered = inbox.drain(settings, deliver).await;
    inbox.logout().await;
    delivered
}

/// One connection's life: passes and waits until stopping (`Ok`) or a
/// failure.
async fn serve(
    settings: &ImapSettings,
    deliver: &impl Deliver,
    stopping: &mut watch::Receiver<bool>,
    backoff: &mut Duration,
) -> Result<(), ImapError> {
    let mut inbox = Inbox::open(settings).await?;
    loop {
        inbox.drain(settings, deliver).await?;
        *backoff = FIRST_BACKOFF;
        if inbox.can.idle {
            let (idled, woke) = inbox.idle(settings.poll, stopping).await?;
            inbox = idled;
            if woke == Woke::Stopping {
                inbox.logout().await;
                return Ok(());
            }
        } else {
            // Servers log out quiet clients, so no session is held over a
            // sleep that may be long.
            inbox.logout().await;
            tokio::select! {
                () = tokio::time::sleep(settings.poll.max(MIN_POLL)) => {}
                () = stopped(stopping) => return Ok(()),
            }
            inbox = Inbox::open(settings).await?;
        }
    }
}

/// Resolves once `stopping` is true, or its sender is gone (nothing could
/// stop the poller any more).
async fn stopped(stopping: &mut watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
}

/// What ended an IDLE.
#[derive(Debug, PartialEq, Eq)]
enum Woke {
    /// The server reported a change, or the wait ran out: look again.
    Look,
    /// The poller is stopping.
    Stopping,
}

/// What the server can do beyond the base protocol, of what the poller
/// uses.
#[derive(Debug, Clone, Copy)]
struct Can {
    idle: bool,
    move_: bool,
    uidplus: bool,
}

/// A logged-in session with the mailbox selected.
struct Inbox {
    session: Session,
    can: Can,
    /// The server reported new messages since the last search.
    news: bool,
}

impl Inbox {
    /// Connects, logs in, makes sure the done mailbox exists and selects
    /// the mailbox.
    async fn open(settings: &ImapSettings) -> Result<Inbox, ImapError> {
        if same_mailbox(&settings.mailbox, &settings.done_mailbox) {
            return Err(ImapError::DoneIsSource(settings.mailbox.clone()));
        }
        let mut session = connect(settings).await?;
        match prepare(&mut session, settings).await {
            Ok(can) => Ok(Inbox {
                session,
                can,
                news: false,
            }),
            Err(err) => {
                logout(session).await;
                Err(err)
            }
        }
    }

    /// Delivers and moves every message in the mailbox, searching again
    /// while the server reports new ones.
    async fn drain(
        &mut self,
        settings: &ImapSettings,
        deliver: &impl Deliver,
    ) -> Result<usize, ImapError> {
        let mut delivered = 0;
        loop {
            self.note_news();
            self.news = false;
            delivered += self.pass(settings, deliver).await?;
            self.note_news();
            if !self.news {
                return Ok(delivered);
            }
        }
    }

    /// Delivers and moves the messages one search finds, a batch at a time.
    async fn pass(
        &mut self,
        settings: &ImapSettings,
        deliver: &impl Deliver,
    ) -> Result<usize, ImapError> {
        let uids = self.pending().await?;
        let mut delivered = 0;
        for batch in uids.chunks(BATCH) {
            let messages = self.fetch(batch).await?;
            let stored = hand_over(messages, deliver).await;
            if !stored.is_empty() {
                self.move_to(&stored, &settings.done_mailbox).await?;
                delivered += stored.len();
            }
            // The channel of unsolicited responses is bounded: read it
            // while a long pass goes on so that no EXISTS is lost.
            self.note_news();
        }
        Ok(delivered)
    }

    /// The UIDs in the mailbox, oldest first. Messages flagged \Deleted
    /// are skipped: they were moved by a pass whose EXPUNGE did not happen.
    async fn pending(&mut self) -> Result<Vec<u32>, ImapError> {
        let session = &mut self.session;
        let found = within(
            "UID SEARCH",
            COMMAND_TIMEOUT,
            session.uid_search("UNDELETED"),
        )
        .await?;
        let mut uids: Vec<u32> = found.into_iter().collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// The raw messages of `uids`; BODY.PEEK so that a message whose
    /// delivery fails stays unread.
    async fn fetch(&mut self, uids: &[u32]) -> Result<Vec<(u32, Vec<u8>)>, ImapError> {
        let set = uid_set(uids);
        let session = &mut self.session;
        let fetched: Vec<_> = within("UID FETCH", COMMAND_TIMEOUT, async {
            session
                .uid_fetch(&set, "BODY.PEEK[]")
                .await?
                .try_collect()
                .await
        })
        .await?;
        // The server may interleave flag updates of other messages, which
        // have no body.
        Ok(fetched
            .iter()
            .filter_map(|fetch| Some((fetch.uid?, fetch.body()?.to_vec())))
            .filter(|(uid, _)| uids.contains(uid))
            .collect())
    }

    /// Moves `uids` to `done`: MOVE where the server has it, else COPY,
    /// \Deleted and EXPUNGE (of these UIDs only when the server has UIDPLUS).
    async fn move_to(&mut self, uids: &[u32], done: &str) -> Result<(), ImapError> {
        let set = uid_set(uids);
        let session = &mut self.session;
        if self.can.move_ {
            within("UID MOVE", COMMAND_TIMEOUT, session.uid_mv(&set, done)).await?;
        } else {
            within("UID COPY", COMMAND_TIMEOUT, session.uid_copy(&set, done)).await?;
            within("UID STORE", COMMAND_TIMEOUT, async {
                let flagged = session.uid_store(&set, "+FLAGS.SILENT (\\Deleted)").await?;
                flagged.try_collect::<Vec<_>>().await
            })
            .await?;
            if self.can.uidplus {
                within("UID EXPUNGE", COMMAND_TIMEOUT, async {
                    session
                        .uid_expunge(&set)
                        .await?
                        .try_collect::<Vec<_>>()
                        .await
                })
                .await?;
            } else {
                within("EXPUNGE", COMMAND_TIMEOUT, async {
                    session.expunge().await?.try_collect::<Vec<_>>().await
                })
                .await?;
            }
        }
        for uid in uids {
            tracing::debug!(uid, to = done, "moved the delivered message");
        }
        Ok(())
    }

    /// Reads the unsolicited responses so far, noting whether any said the
    /// mailbox grew.
    fn note_news(&mut self) {
        while let Ok(response) = self.session.unsolicited_responses.try_recv() {
            if matches!(response, UnsolicitedResponse::Exists(_)) {
                self.news = true;
            }
        }
    }

    /// Waits with IDLE for the server to report a change, at most
    /// `poll` (and 25 minutes), or until stopping.
    async fn idle(
        self,
        poll: Duration,
        stopping: &mut watch::Receiver<bool>,
    ) -> Result<(Inbox, Woke), ImapError> {
        let Inbox { session, can, news } = self;
        let limit = poll.clamp(MIN_POLL, MAX_IDLE);
        let mut handle = session.idle();
        within("IDLE", COMMAND_TIMEOUT, handle.init()).await?;
        let woke = {
            let (change, _interrupt) = handle.wait_with_timeout(limit);
            tokio::select! {
                answer = change => match answer {
                    // ManualInterrupt here means the server closed the
                    // stream, which DONE below reports.
                    Ok(IdleResponse::NewData(_) | IdleResponse::Timeout | IdleResponse::ManualInterrupt) => Woke::Look,
                    Err(err) => return Err(protocol("IDLE", &err)),
                },
                // The wait above restarts at every keep-alive the server
                // sends; this one does not.
                () = tokio::time::sleep(limit) => Woke::Look,
                () = stopped(stopping) => Woke::Stopping,
            }
        };
        let session = within("DONE", COMMAND_TIMEOUT, handle.done()).await?;
        Ok((Inbox { session, can, news }, woke))
    }

    async fn logout(self) {
        logout(self.session).await;
    }
}

/// Says LOGOUT, as a courtesy: a failure changes nothing.
async fn logout(mut session: Session) {
    if let Err(err) = within("LOGOUT", LOGOUT_TIMEOUT, session.logout()).await {
        tracing::debug!(error = %err, "IMAP logout failed");
    }
}

/// The capabilities used, then the done mailbox, then the mailbox selected.
async fn prepare(session: &mut Session, settings: &ImapSettings) -> Result<Can, ImapError> {
    let capabilities = within("CAPABILITY", COMMAND_TIMEOUT, session.capabilities()).await?;
    let can = Can {
        idle: capabilities.has_str("IDLE"),
        move_: capabilities.has_str("MOVE"),
        uidplus: capabilities.has_str("UIDPLUS"),
    };
    ensure_mailbox(session, &settings.done_mailbox).await?;
    select(session, &settings.mailbox).await?;
    Ok(can)
}

/// Creates `name` unless STATUS finds it.
async fn ensure_mailbox(session: &mut Session, name: &str) -> Result<(), ImapError> {
    match tokio::time::timeout(COMMAND_TIMEOUT, session.status(name, "(MESSAGES)")).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(ProtocolError::No(_))) => {
            within("CREATE", COMMAND_TIMEOUT, session.create(name)).await?;
            tracing::info!(mailbox = name, "created the mailbox for handled mail");
            Ok(())
        }
        Ok(Err(err)) => Err(protocol("STATUS", &err)),
        Err(_) => Err(timeout("STATUS", COMMAND_TIMEOUT)),
    }
}

async fn select(session: &mut Session, name: &str) -> Result<(), ImapError> {
    match tokio::time::timeout(COMMAND_TIMEOUT, session.select(name)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(ProtocolError::No(reason) | ProtocolError::Bad(reason))) => {
            Err(ImapError::MailboxMissing {
                mailbox: name.to_owned(),
                reason,
            })
        }
        Ok(Err(err)) => Err(protocol("SELECT", &err)),
        Err(_) => Err(timeout("SELECT", COMMAND_TIMEOUT)),
    }
}

/// Hands each message to the deliverer; returns the UIDs it stored. A
/// refusal only leaves that message for the next pass.
async fn hand_over(messages: Vec<(u32, Vec<u8>)>, deliver: &impl Deliver) -> Vec<u32> {
    let mut stored = Vec::with_capacity(messages.len());
    for (uid, raw) in messages {
        let bytes = raw.len();
        match deliver.deliver(raw).await {
            Ok(()) => {
                tracing::debug!(uid, bytes, "delivered a message from the mailbox");
                stored.push(uid);
            }
            Err(err) => tracing::warn!(
                uid,
                error = %err,
                "a message could not be delivered; it stays in the mailbox for the next pass"
            ),
        }
    }
    stored
}

/// TCP, TLS, the server's greeting and LOGIN.
async fn connect(settings: &ImapSettings) -> Result<Session, ImapError> {
    let tls = TlsConnector::from(Arc::new(tls_config(settings.ca_file.as_deref())?));
    let name = ServerName::try_from(settings.host.as_str())
        .map_err(|err| tls_error(settings, err.to_string()))?
        .to_owned();
    let address = (settings.host.as_str(), settings.port);
    let tcp = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(address)).await {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(err)) => return Err(connect_error(settings, err.to_string())),
        Err(_) => return Err(connect_error(settings, no_answer(CONNECT_TIMEOUT))),
    };
    let stream = match tokio::time::timeout(CONNECT_TIMEOUT, tls.connect(name, tcp)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(err)) => return Err(tls_error(settings, err.to_string())),
        Err(_) => return Err(tls_error(settings, no_answer(CONNECT_TIMEOUT))),
    };
    let mut client = async_imap::Client::new(stream);
    greeting(&mut client, settings).await?;
    login(client, settings).await
}

/// Reads the server's first line; a server that greets with BYE is
/// refusing the connection.
async fn greeting(
    client: &mut async_imap::Client<TlsStream<TcpStream>>,
    settings: &ImapSettings,
) -> Result<(), ImapError> {
    let greeting = match tokio::time::timeout(CONNECT_TIMEOUT, client.read_response()).await {
        Ok(Ok(Some(greeting))) => greeting,
        Ok(Ok(None)) => return Err(connect_error(settings, "closed before its greeting".into())),
        Ok(Err(err)) => return Err(connect_error(settings, err.to_string())),
        Err(_) => return Err(connect_error(settings, no_answer(CONNECT_TIMEOUT))),
    };
    if let Response::Data {
        status: Status::Bye,
        outcome,
    } = greeting.parsed()
    {
        let said = outcome.information.as_deref().unwrap_or_default();
        return Err(connect_error(
            settings,
            format!("the server said BYE: {said}"),
        ));
    }
    Ok(())
}

async fn login(
    client: async_imap::Client<TlsStream<TcpStream>>,
    settings: &ImapSettings,
) -> Result<Session, ImapError> {
    let password = settings.password.expose();
    let login = client.login(&settings.username, password);
    match tokio::time::timeout(COMMAND_TIMEOUT, login).await {
        Ok(Ok(session)) => Ok(session),
        Ok(Err((ProtocolError::No(reason) | ProtocolError::Bad(reason), _))) => {
            Err(ImapError::LoginRefused {
                username: settings.username.clone(),
                reason: redact(&reason, password),
            })
        }
        Ok(Err((err, _))) => Err(ImapError::Protocol {
            what: "LOGIN",
            reason: redact(&err.to_string(), password),
        }),
        Err(_) => Err(timeout("LOGIN", COMMAND_TIMEOUT)),
    }
}

/// The web's roots and, when given, the CA certificates in `ca_file`; TLS
/// through aws-lc-rs, the crate's one crypto provider.
fn tls_config(ca_file: Option<&Path>) -> Result<ClientConfig, ImapError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        add_ca_file(&mut roots, path)?;
    }
    let provider = tokio_rustls::rustls::crypto::aws_lc_rs::default_provider();
    let config = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .map_err(|err| ImapError::Protocol {
            what: "TLS setup",
            reason: err.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

fn add_ca_file(roots: &mut RootCertStore, path: &Path) -> Result<(), ImapError> {
    let bad = |reason: String| ImapError::CaFile {
        path: path.to_owned(),
        reason,
    };
    let mut added = 0;
    for cert in CertificateDer::pem_file_iter(path).map_err(|err| bad(err.to_string()))? {
        let cert = cert.map_err(|err| bad(err.to_string()))?;
        roots.add(cert).map_err(|err| bad(err.to_string()))?;
        added += 1;
    }
    if added == 0 {
        return Err(bad("no PEM certificate in it".into()));
    }
    Ok(())
}

/// Runs one command within `limit`.
async fn within<T>(
    what: &'static str,
    limit: Duration,
    command: impl Future<Output = Result<T, ProtocolError>>,
) -> Result<T, ImapError> {
    match tokio::time::timeout(limit, command).await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(err)) => Err(protocol(what, &err)),
        Err(_) => Err(timeout(what, limit)),
    }
}

fn protocol(what: &'static str, err: &ProtocolError) -> ImapError {
    ImapError::Protocol {
        what,
        reason: err.to_string(),
    }
}

fn timeout(what: &'static str, after: Duration) -> ImapError {
    ImapError::Timeout { what, after }
}

fn connect_error(settings: &ImapSettings, reason: String) -> ImapError {
    ImapError::Connect {
        host: settings.host.clone(),
        port: settings.port,
        reason,
    }
}

fn tls_error(settings: &ImapSettings, reason: String) -> ImapError {
    ImapError::Tls {
        host: settings.host.clone(),
        port: settings.port,
        reason,
    }
}

fn no_answer(after: Duration) -> String {
    format!("no answer within {} s", after.as_secs())
}

/// `text` without `secret` in it: a server may echo what it was sent.
fn redact(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        text.to_owned()
    } else {
        text.replace(secret, "[redacted]")
    }
}

/// An IMAP sequence set of `uids`.
fn uid_set(uids: &[u32]) -> String {
    let mut set = String::new();
    for uid in uids {
        if !set.is_empty() {
            set.push(',');
        }
        set.push_str(&uid.to_string());
    }
    set
}

/// Whether two mailbox names are one mailbox: INBOX is case-insensitive
/// (RFC 3501), other names are compared as given.
fn same_mailbox(a: &str, b: &str) -> bool {
    if a.eq_ignore_ascii_case("INBOX") {
        b.eq_ignore_ascii_case("INBOX")
    } else {
        a == b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Nowhere;

    impl Deliver for Nowhere {
        async fn deliver(&self, _raw: Vec<u8>) -> Result<(), DeliverError> {
            Err(DeliverError("nowhere to store".into()))
        }
    }

    fn settings() -> ImapSettings {
        ImapSettings {
            host: "127.0.0.1".into(),
            port: 1,
            username: "support@example.com".into(),
            password: Secret::from("hunter2"),
            mailbox: "INBOX".into(),
            done_mailbox: "madoguchi-handled".into(),
            poll: Duration::from_mins(1),
            ca_file: None,
        }
    }

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn the_poller_can_be_spawned() {
        let (_tx, rx) = watch::channel(false);
        let poller = run(settings(), Nowhere, rx);
        assert_send(&poller);
        let once = async { poll_once(&settings(), &Arc::new(Nowhere)).await };
        assert_send(&once);
    }

    #[test]
    fn uid_sets_list_the_uids() {
        assert_eq!(uid_set(&[3, 4, 10]), "3,4,10");
        assert_eq!(uid_set(&[7]), "7");
    }

    #[test]
    fn inbox_is_one_mailbox_in_any_case() {
        assert!(same_mailbox("INBOX", "inbox"));
        assert!(same_mailbox("Support", "Support"));
        assert!(!same_mailbox("Support", "support"));
        assert!(!same_mailbox("INBOX", "madoguchi-handled"));
    }

    #[tokio::test]
    async fn handled_mail_cannot_go_back_to_the_mailbox_read() {
        let mut same = settings();
        same.done_mailbox = "Inbox".into();
        let err = poll_once(&same, &Nowhere).await.err();
        assert!(matches!(err, Some(ImapError::DoneIsSource(_))), "{err:?}");
    }

    #[test]
    fn a_password_echoed_by_the_server_is_not_repeated() {
        assert_eq!(
            redact("LOGIN alice hunter2 failed", "hunter2"),
            "LOGIN alice [redacted] failed"
        );
        assert_eq!(redact("failed", ""), "failed");
    }

    #[test]
    fn debug_output_hides_the_password() {
        assert!(!format!("{:?}", settings()).contains("hunter2"));
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let err = tls_config(Some(&empty)).err();
        assert!(matches!(err, Some(ImapError::CaFile { .. })), "{err:?}");
        let missing = dir.path().join("missing.pem");
        let err = tls_config(Some(&missing)).err();
        assert!(matches!(err, Some(ImapError::CaFile { .. })), "{err:?}");
    }

    #[tokio::test]
    async fn a_closed_port_is_a_connection_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut closed = settings();
        closed.port = listener.local_addr().unwrap().port();
        drop(listener);
        let err = poll_once(&closed, &Nowhere).await.err();
        assert!(matches!(err, Some(ImapError::Connect { .. })), "{err:?}");
        let text = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            text.contains(&format!("127.0.0.1:{}", closed.port)),
            "{text}"
        );
    }

    #[tokio::test]
    async fn run_returns_when_stopped_while_backing_off() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut closed = settings();
        closed.port = listener.local_addr().unwrap().port();
        drop(listener);
        let (tx, rx) = watch::channel(false);
        let poller = tokio::spawn(run(closed, Nowhere, rx));
        tx.send_replace(true);
        let finished = tokio::time::timeout(Duration::from_secs(30), poller).await;
        assert!(matches!(finished, Ok(Ok(()))), "{finished:?}");
    }
}
