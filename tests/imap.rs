#![allow(clippy::unwrap_used)]
//! The IMAP poller against a real Dovecot, started for each test on a free
//! loopback port with a configuration, a certificate and an account of its
//! own; mail goes in with APPEND, as any client would put it there.

use std::fs;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;

use async_imap::types::Flag;
use futures_util::TryStreamExt as _;
use madoguchi::channels::email::imap::{
    self, Deliver, DeliverError, ImapError, ImapSettings, poll_once,
};
use madoguchi::secret::Secret;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

const DOVECOT: &str = "/usr/sbin/dovecot";
const USER: &str = "support@example.com";
const PASSWORD: &str = "s3cret-Mailbox-Pass";
const DONE: &str = "madoguchi-handled";
/// How long anything the poller should do in a moment may take, on a
/// loaded machine.
const DEADLINE: Duration = Duration::from_secs(30);

type Session = async_imap::Session<TlsStream<TcpStream>>;

// ---- a certificate authority, and a server certificate it signs ----

struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let cert = params.self_signed(&key).unwrap();
    Ca {
        pem: cert.pem(),
        issuer: Issuer::new(params, key),
    }
}

/// The server's certificate and key, PEM, for `localhost` and 127.0.0.1.
fn server_certificate(ca: &Ca) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let cert = params.signed_by(&key, &ca.issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

// ---- Dovecot ----

/// A Dovecot of the test's own, killed when dropped.
struct Dovecot {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
    ca_pem: String,
}

impl Dovecot {
    /// Starts Dovecot with every capability it has.
    fn start() -> Option<Dovecot> {
        Dovecot::start_with("")
    }

    /// Starts Dovecot with `extra` appended to its configuration; `None`
    /// (and a line saying why) where this machine cannot run it.
    fn start_with(extra: &str) -> Option<Dovecot> {
        if !Path::new(DOVECOT).exists() {
            eprintln!("SKIPPED: dovecot not installed (apt-get install dovecot-imapd)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        if fs::metadata(dir.path()).unwrap().uid() != 0 {
            eprintln!("SKIPPED: the Dovecot tests run as root, as CI does");
            return None;
        }
        // Dovecot's auth process runs as `dovecot` and reads the
        // passwd-file; its mail processes run as `nobody`, since Dovecot
        // never touches mail as root, and create the Maildir.
        chmod(dir.path(), 0o755);
        fs::create_dir(dir.path().join("mail")).unwrap();
        chmod(&dir.path().join("mail"), 0o777);

        let ca = ca("madoguchi test CA");
        let (cert, key) = server_certificate(&ca);
        fs::write(dir.path().join("server.pem"), cert).unwrap();
        fs::write(dir.path().join("server.key"), key).unwrap();
        fs::write(dir.path().join("ca.pem"), &ca.pem).unwrap();
        fs::write(
            dir.path().join("passwd"),
            format!("{USER}:{{PLAIN}}{PASSWORD}::::::\n"),
        )
        .unwrap();

        let port = free_port();
        let conf = dir.path().join("dovecot.conf");
        fs::write(&conf, config(dir.path(), port, extra)).unwrap();
        let output = fs::File::create(dir.path().join("output.log")).unwrap();
        let child = Command::new(DOVECOT)
            .arg("-F")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .unwrap();
        let mut dovecot = Dovecot {
            child,
            dir,
            port,
            ca_pem: ca.pem,
        };
        dovecot.wait_until_listening();
        Some(dovecot)
    }

    fn wait_until_listening(&mut self) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("dovecot exited ({status}):\n{}", self.logs());
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "dovecot does not listen on {}:\n{}",
                self.port,
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn logs(&self) -> String {
        ["output.log", "dovecot.log"]
            .iter()
            .map(|name| fs::read_to_string(self.dir.path().join(name)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// What the poller is given to read this server's INBOX.
    fn settings(&self) -> ImapSettings {
        ImapSettings {
            host: "127.0.0.1".to_owned(),
            port: self.port,
            username: USER.to_owned(),
            password: Secret::from(PASSWORD),
            mailbox: "INBOX".to_owned(),
            done_mailbox: DONE.to_owned(),
            poll: Duration::from_hours(1),
            ca_file: Some(self.dir.path().join("ca.pem")),
        }
    }

    /// A client of the test's own, logged in: what puts mail in and looks.
    async fn client(&self) -> Session {
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(self.ca_pem.as_bytes()).unwrap())
            .unwrap();
        let provider = tokio_rustls::rustls::crypto::aws_lc_rs::default_provider();
        let config = ClientConfig::builder_with_provider(Arc::new(provider))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let tcp = TcpStream::connect(("127.0.0.1", self.port)).await.unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        let tls = TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .unwrap();
        let mut client = async_imap::Client::new(tls);
        client.read_response().await.unwrap().unwrap();
        client
            .login(USER, PASSWORD)
            .await
            .map_err(|(err, _)| err)
            .unwrap()
    }

    async fn append(&self, messages: &[Vec<u8>]) {
        let mut session = self.client().await;
        for raw in messages {
            session.append("INBOX", None, None, raw).await.unwrap();
        }
        session.logout().await.unwrap();
    }

    /// The messages in `mailbox`, oldest first: raw bytes and whether
    /// \Seen; empty when the mailbox does not exist.
    async fn contents(&self, mailbox: &str) -> Vec<(Vec<u8>, bool)> {
        let mut session = self.client().await;
        let Ok(selected) = session.examine(mailbox).await else {
            return Vec::new();
        };
        let mut found = Vec::new();
        if selected.exists > 0 {
            let fetched: Vec<_> = session
                .fetch("1:*", "(FLAGS BODY.PEEK[])")
                .await
                .unwrap()
                .try_collect()
                .await
                .unwrap();
            for fetch in &fetched {
                let seen = fetch.flags().any(|flag| flag == Flag::Seen);
                found.push((fetch.body().unwrap().to_vec(), seen));
            }
        }
        session.logout().await.unwrap();
        found
    }

    async fn raw_contents(&self, mailbox: &str) -> Vec<Vec<u8>> {
        self.contents(mailbox)
            .await
            .into_iter()
            .map(|(raw, _)| raw)
            .collect()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // Dovecot's other processes end when the master is gone.
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("dovecot's logs:\n{}", self.logs());
        }
    }
}

fn config(dir: &Path, port: u16, extra: &str) -> String {
    let dir = dir.display();
    format!(
        "base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = required
ssl_cert = <{dir}/server.pem
ssl_key = <{dir}/server.key
auth_mechanisms = plain login
mail_uid = nobody
mail_gid = nogroup
mail_location = maildir:{dir}/mail/Maildir
passdb {{
  driver = passwd-file
  args = {dir}/passwd
}}
userdb {{
  driver = passwd-file
  args = {dir}/passwd
  default_fields = home={dir}/mail/home
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
{extra}
"
    )
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

// ---- a deliverer that keeps what it gets ----

/// Keeps every message delivered; refuses those that contain `refuse`.
#[derive(Default)]
struct Collect {
    got: Mutex<Vec<Vec<u8>>>,
    refuse: Mutex<Option<Vec<u8>>>,
}

impl Collect {
    fn refusing(needle: &[u8]) -> Collect {
        let collect = Collect::default();
        collect.refuse_containing(Some(needle));
        collect
    }

    fn refuse_containing(&self, needle: Option<&[u8]>) {
        *self.refuse.lock().unwrap() = needle.map(<[u8]>::to_vec);
    }

    fn got(&self) -> Vec<Vec<u8>> {
        self.got.lock().unwrap().clone()
    }
}

impl Deliver for Collect {
    async fn deliver(&self, raw: Vec<u8>) -> Result<(), DeliverError> {
        let refused = self
            .refuse
            .lock()
            .unwrap()
            .as_ref()
            .is_some_and(|needle| contains(&raw, needle));
        if refused {
            return Err(DeliverError("the store is away".to_owned()));
        }
        self.got.lock().unwrap().push(raw);
        Ok(())
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

async fn eventually(what: &str, check: impl Fn() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < DEADLINE,
            "{what}: not within {DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---- messages ----

fn message(id: &str, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Customer <customer@example.com>\r\n\
         To: Support <{USER}>\r\n\
         Subject: {subject}\r\n\
         Date: Tue, 02 Jun 2026 10:00:00 +0900\r\n\
         Message-ID: <{id}@example.com>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         {body}\r\n"
    )
    .into_bytes()
}

/// A Japanese message as Japanese mail programs still send it: ISO-2022-JP,
/// escape sequences and all ("ご注文の商品が届きません").
fn japanese_message() -> Vec<u8> {
    let mut raw = Vec::new();
    raw.extend_from_slice(
        b"From: taro@example.jp\r\n\
          To: support@example.com\r\n\
          Subject: =?ISO-2022-JP?B?GyRCJDRDbUo4JE4+JklKJCxGTyQtJF4kOyRzGyhC?=\r\n\
          Date: Tue, 02 Jun 2026 10:05:00 +0900\r\n\
          Message-ID: <jp-1@example.jp>\r\n\
          MIME-Version: 1.0\r\n\
          Content-Type: text/plain; charset=ISO-2022-JP\r\n\
          Content-Transfer-Encoding: 7bit\r\n\
          \r\n",
    );
    raw.extend_from_slice(b"\x1b$BCmJ8HV9f$O\x1b(B12345\x1b$B$G$9!#\x1b(B\r\n");
    raw.extend_from_slice(b"\x1b$BJVIJ$7$?$$$N$G$9$,!\"$I$&$9$l$P$h$$$G$9$+!#\x1b(B\r\n");
    raw
}

fn sorted(mut messages: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    messages.sort();
    messages
}

// ---- the tests ----

#[tokio::test]
async fn every_message_is_delivered_once_byte_for_byte_then_moved() {
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    let sent = vec![
        message(
            "order-1",
            "Where is my order?",
            "Order 1001 has not arrived.",
        ),
        japanese_message(),
        message("refund-2", "Refund", "I would like a refund, please."),
    ];
    dovecot.append(&sent).await;
    let collect = Collect::default();

    let delivered = poll_once(&dovecot.settings(), &collect).await.unwrap();

    assert_eq!(delivered, 3);
    assert_eq!(sorted(collect.got()), sorted(sent.clone()));
    assert!(dovecot.contents("INBOX").await.is_empty());
    assert_eq!(sorted(dovecot.raw_contents(DONE).await), sorted(sent));
    // Nothing is left to deliver again.
    assert_eq!(poll_once(&dovecot.settings(), &collect).await.unwrap(), 0);
    assert_eq!(collect.got().len(), 3);
}

#[tokio::test]
async fn a_refused_message_stays_unread_and_does_not_hold_up_the_others() {
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    let refused = message("later-1", "Later", "Deliver me later.");
    let accepted = message("now-2", "Now", "Deliver me now.");
    dovecot.append(&[refused.clone(), accepted.clone()]).await;
    let collect = Collect::refusing(b"later-1");

    let delivered = poll_once(&dovecot.settings(), &collect).await.unwrap();

    assert_eq!(delivered, 1);
    assert_eq!(collect.got(), vec![accepted.clone()]);
    assert_eq!(
        dovecot.contents("INBOX").await,
        vec![(refused.clone(), false)]
    );
    assert_eq!(dovecot.raw_contents(DONE).await, vec![accepted.clone()]);

    collect.refuse_containing(None);
    let delivered = poll_once(&dovecot.settings(), &collect).await.unwrap();

    assert_eq!(delivered, 1);
    assert_eq!(collect.got(), vec![accepted.clone(), refused.clone()]);
    assert!(dovecot.contents("INBOX").await.is_empty());
    assert_eq!(
        sorted(dovecot.raw_contents(DONE).await),
        sorted(vec![accepted, refused])
    );
}

#[tokio::test]
async fn a_mailbox_larger_than_a_batch_empties_in_one_pass() {
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    let sent: Vec<_> = (0..120)
        .map(|n| message(&format!("bulk-{n}"), "Bulk", &format!("Message {n}.")))
        .collect();
    dovecot.append(&sent).await;
    let collect = Collect::default();

    let delivered = poll_once(&dovecot.settings(), &collect).await.unwrap();

    assert_eq!(delivered, 120);
    assert_eq!(sorted(collect.got()), sorted(sent));
    assert!(dovecot.contents("INBOX").await.is_empty());
    assert_eq!(dovecot.contents(DONE).await.len(), 120);
}

#[tokio::test]
async fn run_waits_with_idle_and_takes_new_mail_at_once() {
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    let first = message("first-1", "First", "There before the poller.");
    let second = message("second-2", "Second", "Arrives while it waits.");
    dovecot.append(std::slice::from_ref(&first)).await;
    let collect = Arc::new(Collect::default());
    let (stop, stopping) = tokio::sync::watch::channel(false);
    // An hour between polls: only IDLE can bring the second message in time.
    let poller = tokio::spawn(imap::run(
        dovecot.settings(),
        Arc::clone(&collect),
        stopping,
    ));

    eventually("the first message delivered", || collect.got().len() == 1).await;
    dovecot.append(std::slice::from_ref(&second)).await;
    eventually("the message appended while idling delivered", || {
        collect.got().len() == 2
    })
    .await;

    stop.send_replace(true);
    let finished = tokio::time::timeout(DEADLINE, poller).await;
    assert!(
        matches!(finished, Ok(Ok(()))),
        "run did not return: {finished:?}"
    );
    assert_eq!(collect.got(), vec![first.clone(), second.clone()]);
    assert!(dovecot.contents("INBOX").await.is_empty());
    assert_eq!(dovecot.raw_contents(DONE).await, vec![first, second]);
}

#[tokio::test]
async fn without_idle_and_move_run_polls_and_moves_by_copy_and_uid_expunge() {
    let Some(dovecot) = Dovecot::start_with("imap_capability = IMAP4rev1 UIDPLUS") else {
        return;
    };
    let first = message("first-1", "First", "There before the poller.");
    let second = message("second-2", "Second", "Arrives between polls.");
    dovecot.append(std::slice::from_ref(&first)).await;
    let collect = Arc::new(Collect::default());
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let settings = ImapSettings {
        poll: Duration::from_secs(1),
        ..dovecot.settings()
    };
    let poller = tokio::spawn(imap::run(settings, Arc::clone(&collect), stopping));

    eventually("the first message delivered", || collect.got().len() == 1).await;
    dovecot.append(std::slice::from_ref(&second)).await;
    eventually("the second message delivered", || collect.got().len() == 2).await;

    stop.send_replace(true);
    let finished = tokio::time::timeout(DEADLINE, poller).await;
    assert!(
        matches!(finished, Ok(Ok(()))),
        "run did not return: {finished:?}"
    );
    assert!(dovecot.contents("INBOX").await.is_empty());
    assert_eq!(dovecot.raw_contents(DONE).await, vec![first, second]);
}

#[tokio::test]
async fn without_uidplus_moves_by_copy_and_expunge() {
    let Some(dovecot) = Dovecot::start_with("imap_capability = IMAP4rev1") else {
        return;
    };
    let sent = vec![message("a-1", "A", "One."), message("b-2", "B", "Two.")];
    dovecot.append(&sent).await;
    let collect = Collect::default();

    let delivered = poll_once(&dovecot.settings(), &collect).await.unwrap();

    assert_eq!(delivered, 2);
    assert!(dovecot.contents("INBOX").await.is_empty());
    assert_eq!(dovecot.raw_contents(DONE).await, sent);
}

#[tokio::test]
async fn a_wrong_password_is_a_refused_login_that_does_not_repeat_it() {
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    let wrong = "not-the-Password-42";
    let settings = ImapSettings {
        password: Secret::from(wrong),
        ..dovecot.settings()
    };

    let err = poll_once(&settings, &Collect::default()).await.unwrap_err();

    assert!(matches!(err, ImapError::LoginRefused { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("refused the login"), "{text}");
    assert!(
        !text.contains(wrong) && !format!("{err:?}").contains(wrong),
        "{text}"
    );
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused() {
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    let other = dovecot.dir.path().join("other-ca.pem");
    fs::write(&other, ca("some other CA").pem).unwrap();
    let settings = ImapSettings {
        ca_file: Some(other),
        ..dovecot.settings()
    };

    let err = poll_once(&settings, &Collect::default()).await.unwrap_err();

    assert!(matches!(err, ImapError::Tls { .. }), "{err:?}");
    // And with no CA file, the web's roots do not vouch for it either.
    let settings = ImapSettings {
        ca_file: None,
        ..dovecot.settings()
    };
    let err = poll_once(&settings, &Collect::default()).await.unwrap_err();
    assert!(matches!(err, ImapError::Tls { .. }), "{err:?}");
}

#[tokio::test]
async fn a_missing_mailbox_is_named() {
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    let settings = ImapSettings {
        mailbox: "Nowhere".to_owned(),
        ..dovecot.settings()
    };

    let err = poll_once(&settings, &Collect::default()).await.unwrap_err();

    assert!(matches!(err, ImapError::MailboxMissing { .. }), "{err:?}");
    assert!(err.to_string().contains("Nowhere"), "{err}");
}

/// The service polls the configured mailbox: a customer's mail becomes an
/// e-mail conversation and is moved out of the inbox.
#[tokio::test]
async fn the_service_takes_mail_from_its_mailbox() {
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    let overrides = format!(
        "email_from = 'support@shop.example'\nimap_host = '127.0.0.1'\nimap_port = {}\nimap_user = '{USER}'\nimap_password = '{PASSWORD}'\nimap_ca_file = '{}'\nimap_done_mailbox = '{DONE}'",
        dovecot.port,
        dovecot.dir.path().join("ca.pem").display()
    );
    let Some(app) = common::spawn_app_with(common::Db::Sqlite, &overrides).await else {
        return;
    };
    dovecot
        .append(&[message(
            "imap-e2e",
            "Shipping cost",
            "How much is shipping to Osaka?",
        )])
        .await;
    let deadline = Instant::now() + DEADLINE;
    let conversations = loop {
        let listed = app.admin_json("/v1/admin/conversations").await;
        let found = listed["conversations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !found.is_empty() || Instant::now() > deadline {
            break found;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(conversations.len(), 1, "the mail became a conversation");
    assert_eq!(conversations[0]["channel"], "email");
    let deadline = Instant::now() + DEADLINE;
    while !dovecot.contents("INBOX").await.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        dovecot.contents("INBOX").await.is_empty(),
        "moved out of the inbox"
    );
    assert_eq!(dovecot.contents(DONE).await.len(), 1);
    app.stop().await;
}
