//! Threading: which conversation an inbound mail continues. By the
//! Message-IDs it refers to (`References`, `In-Reply-To`), kept in or out;
//! by the conversation token in the Message-IDs we send; and, for clients
//! that drop those headers, by a reply's subject to a mail we sent the
//! sender lately. Each way counts only for the sender's own
//! conversations, so a stranger quoting an id joins nothing.

use crate::store::{MailKind, Store, StoreError};

/// Our Message-IDs: `mdg.<conversation>.<random>@<domain>`.
const PREFIX: &str = "mdg.";

/// A Message-ID of ours for a mail of `conversation`.
#[must_use]
pub fn message_id(conversation: &str, domain: &str) -> String {
    format!("{PREFIX}{conversation}.{}@{domain}", crate::ids::new_id())
}

/// The conversation named in one of our Message-IDs.
#[must_use]
pub fn conversation_in<'a>(message_id: &'a str, domain: &str) -> Option<&'a str> {
    let (local, at) = message_id.rsplit_once('@')?;
    if !at.eq_ignore_ascii_case(domain) {
        return None;
    }
    let (conversation, _) = local.strip_prefix(PREFIX)?.split_once('.')?;
    (!conversation.is_empty()).then_some(conversation)
}

/// A `References` list cut to `max` ids: the first (the thread's start) and
/// the latest (RFC 5322 §3.6.4 allows trimming the middle).
#[must_use]
pub fn first_and_latest(mut ids: Vec<String>, max: usize) -> Vec<String> {
    if ids.len() <= max || max < 2 {
        return ids;
    }
    let keep_from = ids.len() - (max - 1);
    ids.drain(1..keep_from);
    ids
}

/// A subject without its reply and forward prefixes (`Re:`, `RE[2]:`,
/// `Fwd:`, `返信:`, `転送:`...), for comparing a reply with what it
/// answers.
#[must_use]
pub fn base_subject(subject: &str) -> String {
    let mut rest = subject.trim();
    loop {
        let lower = rest.to_lowercase();
        let prefix = ["re", "fw", "fwd", "aw", "返信", "転送", "回复"]
            .iter()
            .find_map(|p| {
                let after = lower.strip_prefix(p)?;
                // `RE[2]:`, `Re:`, `Re：`
                let after = after
                    .strip_prefix('[')
                    .and_then(|a| a.split_once(']'))
                    .map_or(after, |(_, a)| a);
                let after = after
                    .strip_prefix(':')
                    .or_else(|| after.strip_prefix('：'))?;
                Some(lower.len() - after.len())
            });
        match prefix {
            Some(cut) => rest = rest.get(cut..).unwrap_or("").trim_start(),
            None => return rest.to_owned(),
        }
    }
}

/// How far back a reply that lost its headers is matched by its subject.
const SUBJECT_WINDOW: jiff::SignedDuration = jiff::SignedDuration::from_hours(30 * 24);

/// The conversation `sender`'s mail continues, if any.
///
/// # Errors
/// When the store fails.
pub async fn find(
    store: &Store,
    sender: &str,
    refers_to: &[String],
    subject: &str,
    domain: &str,
    now: jiff::Timestamp,
) -> Result<Option<String>, StoreError> {
    if let Some(found) = store.mail_thread(sender, refers_to).await? {
        return Ok(Some(found));
    }
    for id in refers_to.iter().rev() {
        if let Some(conversation) = conversation_in(id, domain)
            && store.conversation_of(conversation, sender).await?
        {
            return Ok(Some(conversation.to_owned()));
        }
    }
    let base = base_subject(subject);
    if base.is_empty() || base == subject.trim() && refers_to.is_empty() {
        // Not a reply: a new question.
        return Ok(None);
    }
    let since = now.checked_sub(SUBJECT_WINDOW).unwrap_or(now);
    let sent = store.mails_sent_to(sender, since.as_millisecond()).await?;
    // The answer went where the mail said to reply; the conversation must
    // still be the sender's own.
    for mail in sent
        .into_iter()
        .filter(|m| m.kind != MailKind::Bounce && base_subject(&m.subject) == base)
    {
        if let Some(conversation) = mail.conversation_id
            && store.conversation_of(&conversation, sender).await?
        {
            return Ok(Some(conversation));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_ids_carry_their_conversation() {
        let id = message_id("c0ffee", "shop.example");
        assert_eq!(conversation_in(&id, "shop.example"), Some("c0ffee"));
        assert_eq!(conversation_in(&id, "other.example"), None);
        assert_eq!(conversation_in("abc@shop.example", "shop.example"), None);
    }

    #[test]
    fn a_long_reference_list_keeps_its_start_and_its_latest() {
        let ids: Vec<String> = (0..30).map(|i| i.to_string()).collect();
        let kept = first_and_latest(ids, 5);
        assert_eq!(kept, ["0", "26", "27", "28", "29"]);
        assert_eq!(first_and_latest(vec!["a".into()], 5), ["a"]);
    }

    #[test]
    fn reply_prefixes_are_not_the_subject() {
        assert_eq!(base_subject("Re: Re: 送料について"), "送料について");
        assert_eq!(base_subject("RE[2]: Order 1234"), "Order 1234");
        assert_eq!(base_subject("返信：Fwd: 返品"), "返品");
        assert_eq!(base_subject("Regarding my order"), "Regarding my order");
    }
}
