//! Whether a mail may be answered automatically (RFC 3834, and what help
//! desks learned from loops): never to automatic mail, lists, bounces,
//! role and no-reply senders, ourselves, or a sender the receiving server
//! could not authenticate. Each refusal names the header that decided it.

use super::parse::Inbound;

/// Why a mail is not answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// `Return-Path: <>`: a bounce or other automatic mail (RFC 3834 §2).
    NullSender,
    /// From our own inbox address.
    OwnAddress,
    /// Its Message-ID is one of ours: our own mail came back.
    OwnMessageId,
    /// It carries our `X-Loop`.
    XLoop,
    /// `Auto-Submitted` other than `no`.
    AutoSubmitted,
    /// `X-Auto-Response-Suppress` asks for no automatic answer.
    AutoResponseSuppress,
    /// `X-Autoreply` or `X-Autorespond`.
    XAutoreply,
    /// `Precedence: bulk`, `list`, `junk` or `auto_reply`.
    Precedence,
    /// A mailing list's `List-*` header.
    List,
    /// mailer-daemon, postmaster, no-reply, `owner-*`, `*-request`...
    RoleSender,
    /// The receiving server's DMARC check failed for the sender.
    DmarcFail,
}

impl Reason {
    /// The stable name, in logs, metrics and the admin API.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::NullSender => "null_sender",
            Reason::OwnAddress => "own_address",
            Reason::OwnMessageId => "own_message_id",
            Reason::XLoop => "x_loop",
            Reason::AutoSubmitted => "auto_submitted",
            Reason::AutoResponseSuppress => "auto_response_suppress",
            Reason::XAutoreply => "x_autoreply",
            Reason::Precedence => "precedence",
            Reason::List => "list",
            Reason::RoleSender => "role_sender",
            Reason::DmarcFail => "dmarc_fail",
        }
    }
}

/// A refusal and the header (with its value) that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Why.
    pub reason: Reason,
    /// The deciding header, as `Name: value`.
    pub header: String,
}

/// Who we are, for recognising our own mail.
#[derive(Debug, Clone)]
pub struct Us<'a> {
    /// The inbox address (lower case).
    pub address: &'a str,
    /// The domain of our Message-IDs.
    pub domain: &'a str,
    /// The `authserv-id` of the receiving server whose
    /// `Authentication-Results` we trust.
    pub authserv_id: Option<&'a str>,
}

/// Local parts of addresses that are never people.
const ROLE_LOCAL_PARTS: &[&str] = &[
    "mailer-daemon",
    "postmaster",
    "abuse",
    "noreply",
    "no-reply",
    "no_reply",
    "donotreply",
    "do-not-reply",
    "do_not_reply",
    "bounce",
    "bounces",
];

/// Why `mail` must not be answered automatically, if it must not. The
/// checks run in a fixed order, so the reason recorded is the strongest.
#[must_use]
pub fn refusal(mail: &Inbound, us: &Us<'_>) -> Option<Refusal> {
    let refuse = |reason, name: &str, value: &str| {
        Some(Refusal {
            reason,
            header: format!("{name}: {value}"),
        })
    };
    if mail.return_path.as_deref() == Some("") {
        return refuse(Reason::NullSender, "Return-Path", "<>");
    }
    if mail.from == us.address || mail.reply_to == us.address {
        return refuse(Reason::OwnAddress, "From", &mail.from);
    }
    if is_ours(&mail.message_id, us.domain) {
        return refuse(Reason::OwnMessageId, "Message-ID", &mail.message_id);
    }
    if let Some(v) = mail
        .header("x-loop")
        .find(|v| v.to_ascii_lowercase().contains(us.address))
    {
        return refuse(Reason::XLoop, "X-Loop", v);
    }
    if let Some(v) = mail
        .header("auto-submitted")
        .find(|v| !first_word(v).eq_ignore_ascii_case("no"))
    {
        return refuse(Reason::AutoSubmitted, "Auto-Submitted", v);
    }
    if let Some(v) = mail.header("x-auto-response-suppress").find(|v| {
        v.split(',').any(|w| {
            ["all", "autoreply", "oof"]
                .iter()
                .any(|s| w.trim().eq_ignore_ascii_case(s))
        })
    }) {
        return refuse(Reason::AutoResponseSuppress, "X-Auto-Response-Suppress", v);
    }
    for name in ["x-autoreply", "x-autorespond"] {
        if let Some(v) = mail.header(name).next() {
            return refuse(Reason::XAutoreply, name, v);
        }
    }
    if let Some(v) = mail.header("precedence").find(|v| {
        ["bulk", "list", "junk", "auto_reply"]
            .iter()
            .any(|p| first_word(v).eq_ignore_ascii_case(p))
    }) {
        return refuse(Reason::Precedence, "Precedence", v);
    }
    if let Some((name, value)) = mail.headers.iter().find(|(n, _)| n.starts_with("list-")) {
        return refuse(Reason::List, name, value);
    }
    if is_role(&mail.from) {
        return refuse(Reason::RoleSender, "From", &mail.from);
    }
    if is_role(&mail.reply_to) {
        return refuse(Reason::RoleSender, "Reply-To", &mail.reply_to);
    }
    if let Some(v) = dmarc_failed(mail, us.authserv_id) {
        return refuse(Reason::DmarcFail, "Authentication-Results", v);
    }
    None
}

/// Whether the trusted receiving server says DMARC passed for the sender.
#[must_use]
pub fn dmarc_passed(mail: &Inbound, authserv_id: Option<&str>) -> bool {
    dmarc_result(mail, authserv_id).is_some_and(|(result, _)| result == "pass")
}

fn dmarc_failed<'a>(mail: &'a Inbound, authserv_id: Option<&str>) -> Option<&'a str> {
    dmarc_result(mail, authserv_id)
        .filter(|(result, _)| result == "fail")
        .map(|(_, header)| header)
}

/// The DMARC result in the trusted server's `Authentication-Results`
/// (RFC 8601). Only the topmost header with its `authserv-id` counts: the
/// receiving server adds its own on top, and anyone upstream can write one
/// further down that claims the same id.
fn dmarc_result<'a>(mail: &'a Inbound, authserv_id: Option<&str>) -> Option<(String, &'a str)> {
    let trusted = authserv_id?;
    let value = mail.header("authentication-results").find(|value| {
        value
            .split(';')
            .next()
            // `authserv-id [version]`
            .and_then(|id| id.split_whitespace().next())
            .is_some_and(|id| id.eq_ignore_ascii_case(trusted))
    })?;
    value.split(';').skip(1).find_map(|r| {
        let (method, result) = r.trim().split_once('=')?;
        method
            .trim()
            .eq_ignore_ascii_case("dmarc")
            .then(|| (first_word(result).to_ascii_lowercase(), value))
    })
}

fn first_word(value: &str) -> &str {
    value
        .split(|c: char| c.is_whitespace() || c == ';' || c == '(')
        .find(|w| !w.is_empty())
        .unwrap_or("")
}

/// Whether a Message-ID is of our domain.
#[must_use]
pub fn is_ours(message_id: &str, domain: &str) -> bool {
    message_id
        .rsplit_once('@')
        .is_some_and(|(_, d)| d.trim_end_matches('>').eq_ignore_ascii_case(domain))
}

fn is_role(address: &str) -> bool {
    let local = address.split('@').next().unwrap_or("");
    ROLE_LOCAL_PARTS.contains(&local)
        || local.starts_with("owner-")
        || local.ends_with("-request")
        || local.starts_with("noreply")
        || local.starts_with("no-reply")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(headers: &[(&str, &str)]) -> Inbound {
        Inbound {
            message_id: "abc@example.jp".into(),
            from: "taro@example.jp".into(),
            reply_to: "taro@example.jp".into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), (*v).to_owned()))
                .collect(),
            ..Inbound::default()
        }
    }

    const US: Us<'static> = Us {
        address: "support@shop.example",
        domain: "shop.example",
        authserv_id: Some("mx.shop.example"),
    };

    fn reason(m: &Inbound) -> Option<&'static str> {
        refusal(m, &US).map(|r| r.reason.as_str())
    }

    #[test]
    fn a_person_writing_is_answered() {
        assert_eq!(reason(&mail(&[("Subject", "送料")])), None);
        assert_eq!(reason(&mail(&[("Auto-Submitted", "no")])), None);
        assert_eq!(reason(&mail(&[("Precedence", "first-class")])), None);
    }

    #[test]
    fn automatic_mail_is_not() {
        for (header, value, expected) in [
            ("Auto-Submitted", "auto-replied", "auto_submitted"),
            (
                "Auto-Submitted",
                "auto-generated; owner=x",
                "auto_submitted",
            ),
            (
                "X-Auto-Response-Suppress",
                "DR, OOF",
                "auto_response_suppress",
            ),
            ("X-Autoreply", "yes", "x_autoreply"),
            ("X-Autorespond", "vacation", "x_autoreply"),
            ("Precedence", "bulk", "precedence"),
            ("Precedence", "auto_reply", "precedence"),
            ("List-Id", "<news.example.jp>", "list"),
            ("List-Unsubscribe", "<mailto:x@example.jp>", "list"),
            ("X-Loop", "support@shop.example", "x_loop"),
        ] {
            assert_eq!(
                reason(&mail(&[(header, value)])),
                Some(expected),
                "{header}"
            );
        }
    }

    #[test]
    fn senders_that_are_no_people_are_not() {
        for from in [
            "mailer-daemon@mx.example.jp",
            "noreply@example.com",
            "no-reply-billing@example.com",
            "owner-list@example.org",
            "list-request@example.org",
            "postmaster@example.jp",
        ] {
            let mut m = mail(&[]);
            m.from = from.into();
            assert_eq!(reason(&m), Some("role_sender"), "{from}");
        }
        let mut m = mail(&[]);
        m.from = "support@shop.example".into();
        assert_eq!(reason(&m), Some("own_address"));
        let mut m = mail(&[]);
        m.return_path = Some(String::new());
        assert_eq!(reason(&m), Some("null_sender"));
        let mut m = mail(&[]);
        m.message_id = "mdg.x.y@shop.example".into();
        assert_eq!(reason(&m), Some("own_message_id"));
    }

    #[test]
    fn only_the_trusted_servers_dmarc_verdict_counts() {
        let failed = mail(&[(
            "Authentication-Results",
            "mx.shop.example; dmarc=fail (p=reject) header.from=example.com",
        )]);
        assert_eq!(reason(&failed), Some("dmarc_fail"));
        let elsewhere = mail(&[(
            "Authentication-Results",
            "evil.example; dmarc=pass header.from=example.jp",
        )]);
        assert_eq!(reason(&elsewhere), None);
        assert!(!dmarc_passed(&elsewhere, US.authserv_id));
        let passed = mail(&[(
            "Authentication-Results",
            "mx.shop.example 1; spf=pass; DMARC=pass header.from=example.jp",
        )]);
        assert!(dmarc_passed(&passed, US.authserv_id));
        assert!(!dmarc_passed(&passed, None));
        // A header further down claiming the trusted id is the sender's
        // own writing: only the receiving server's (on top) counts.
        let forged_below = mail(&[
            ("Authentication-Results", "mx.shop.example; spf=fail"),
            (
                "Authentication-Results",
                "mx.shop.example; dmarc=pass header.from=example.jp",
            ),
        ]);
        assert!(!dmarc_passed(&forged_below, US.authserv_id));
    }
}
