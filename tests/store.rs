//! The store, on SQLite and on PostgreSQL: the same tests against both.

mod common;

use common::{Db, random_hex, store, tamper};
use madoguchi::engine::{ConversationState, Status};
use madoguchi::rules::Channel;
use madoguchi::store::{
    Author, ConversationWrite, Identity, NewConversation, NewMessage, StoreError,
};

fn new_conversation(external_id: Option<&str>, at: i64) -> NewConversation {
    NewConversation {
        id: random_hex(16),
        token_hash: random_hex(32),
        customer_id: random_hex(16),
        external_id: external_id.map(str::to_owned),
        email: Some("hanako@example.jp".into()),
        name: Some("花子".into()),
        identity: if external_id.is_some() {
            Identity::Verified
        } else {
            Identity::Email
        },
        channel: Channel::Chat,
        state: ConversationState::with_email("hanako@example.jp"),
        at,
    }
}

fn write<'a>(
    messages: &'a [NewMessage],
    state: &'a ConversationState,
    summary: Option<&'a str>,
) -> ConversationWrite<'a> {
    ConversationWrite {
        messages,
        state,
        summary,
        handoff: None,
        events: &[],
        mails: &[],
    }
}

fn message(author: Author, text: &str) -> NewMessage {
    NewMessage {
        author,
        agent: None,
        text: text.into(),
        intent: None,
        decision: None,
    }
}

async fn a_conversation_reads_back_with_its_customer_and_state(db: Db) {
    let Some((store, _db)) = store(db).await else {
        return;
    };
    let new = new_conversation(None, 1_000);
    store.create_conversation(&new).await.expect("created");
    let found = store
        .conversation(&new.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(found.token_hash, new.token_hash);
    assert_eq!(found.email.as_deref(), Some("hanako@example.jp"));
    assert_eq!(found.identity, Identity::Email);
    assert_eq!(found.state, new.state);
    assert_eq!(found.version, 0);
    assert!(store.conversation("nope").await.expect("read").is_none());
}

async fn messages_and_state_are_written_together_or_not_at_all(db: Db) {
    let Some((store, _db)) = store(db).await else {
        return;
    };
    let new = new_conversation(None, 1_000);
    store.create_conversation(&new).await.expect("created");
    let mut state = new.state.clone();
    state.status = Status::HandedOff;
    let turn = [
        message(Author::Customer, "人と話したい"),
        message(Author::Bot, "担当者におつなぎします。"),
    ];
    store
        .record(
            &new.id,
            0,
            &write(&turn, &state, Some("人と話したい")),
            2_000,
        )
        .await
        .expect("recorded");
    // A second writer that read version 0 too loses, and writes nothing.
    let late = store
        .record(
            &new.id,
            0,
            &write(&[message(Author::Customer, "late")], &new.state, None),
            3_000,
        )
        .await;
    assert!(matches!(late, Err(StoreError::Conflict)), "{late:?}");
    let found = store
        .conversation(&new.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(found.state.status, Status::HandedOff);
    assert_eq!(found.version, 1);
    assert_eq!(found.summary.as_deref(), Some("人と話したい"));
    let transcript = store.transcript(&new.id).await.expect("read");
    let texts: Vec<&str> = transcript.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["人と話したい", "担当者におつなぎします。"]);
    assert_eq!(transcript[0].seq, 1);
    assert_eq!(transcript[1].author, Author::Bot);
    let listed = store
        .list(Some(Status::HandedOff), None, 10)
        .await
        .expect("listed");
    assert_eq!(listed.len(), 1);
    assert!(
        store
            .list(Some(Status::Bot), None, 10)
            .await
            .expect("listed")
            .is_empty()
    );
    assert_eq!(store.list(None, None, 10).await.expect("listed").len(), 1);
}

async fn a_verified_customer_is_one_customer_across_conversations(db: Db) {
    let Some((store, _db)) = store(db).await else {
        return;
    };
    let first = new_conversation(Some("shop-42"), 1_000);
    let second = new_conversation(Some("shop-42"), 5_000);
    let stranger = new_conversation(None, 6_000);
    for new in [&first, &second, &stranger] {
        store.create_conversation(new).await.expect("created");
    }
    let found = store
        .conversation(&second.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(found.customer_id, first.customer_id, "the same customer");
    let earlier = store
        .earlier_conversations(&found.customer_id, &second.id)
        .await
        .expect("read");
    let ids: Vec<&str> = earlier.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, [first.id.as_str()]);
    assert_eq!(earlier[0].identity, Identity::Verified);
}

async fn deleting_a_customer_deletes_everything_about_them(db: Db) {
    let Some((store, _db)) = store(db).await else {
        return;
    };
    let new = new_conversation(None, 1_000);
    store.create_conversation(&new).await.expect("created");
    store
        .record(
            &new.id,
            0,
            &write(&[message(Author::Customer, "hi")], &new.state, None),
            2_000,
        )
        .await
        .expect("recorded");
    store
        .add_feedback(&new.id, Some(true), Some(5), Some("助かりました"), 3_000)
        .await
        .expect("feedback");
    assert!(
        store
            .delete_customer(&new.customer_id)
            .await
            .expect("deleted")
    );
    assert!(store.conversation(&new.id).await.expect("read").is_none());
    assert!(store.transcript(&new.id).await.expect("read").is_empty());
    assert!(
        !store
            .delete_customer(&new.customer_id)
            .await
            .expect("no-op")
    );
}

/// After a deletion on request, nothing of the customer can be read in
/// the SQLite file's bytes, nor in its write-ahead log.
#[tokio::test]
async fn a_deleted_customer_is_not_left_in_the_sqlite_files() {
    let (store, fresh) = store(Db::Sqlite).await.expect("SQLite is always there");
    let mut new = new_conversation(None, 1_000);
    new.name = Some("消去対象ヤマダ".into());
    new.email = Some("erase-me@example.jp".into());
    store.create_conversation(&new).await.expect("created");
    let said = [message(Author::Customer, "秘密のご相談 XYZZY-4242")];
    store
        .record(&new.id, 0, &write(&said, &new.state, None), 2_000)
        .await
        .expect("recorded");
    assert!(
        store
            .delete_customer(&new.customer_id)
            .await
            .expect("deleted")
    );
    let file = fresh.url.strip_prefix("sqlite://").expect("a file");
    let mut bytes = std::fs::read(file).expect("database file");
    bytes.extend(std::fs::read(format!("{file}-wal")).unwrap_or_default());
    for kept in ["消去対象ヤマダ", "erase-me@example.jp", "XYZZY-4242"] {
        let needle = kept.as_bytes();
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "`{kept}` is still in the files"
        );
    }
}

async fn old_conversations_are_purged(db: Db) {
    let Some((store, _db)) = store(db).await else {
        return;
    };
    let old = new_conversation(None, 1_000);
    let recent = new_conversation(None, 9_000);
    store.create_conversation(&old).await.expect("created");
    store.create_conversation(&recent).await.expect("created");
    assert_eq!(store.purge_before(5_000).await.expect("purged"), 1);
    assert!(store.conversation(&old.id).await.expect("read").is_none());
    assert!(
        store
            .conversation(&recent.id)
            .await
            .expect("read")
            .is_some()
    );
}

async fn a_stored_value_madoguchi_never_wrote_is_an_error_not_a_default(db: Db) {
    let Some((store, fresh)) = store(db).await else {
        return;
    };
    let new = new_conversation(None, 1_000);
    store.create_conversation(&new).await.expect("created");
    let messages = [message(Author::Customer, "hello")];
    let state = ConversationState::default();
    store
        .record(&new.id, 0, &write(&messages, &state, None), 2_000)
        .await
        .expect("recorded");
    tamper(&fresh.url, "UPDATE messages SET author = 'robot'").await;
    let read = store.transcript(&new.id).await;
    assert!(
        matches!(read, Err(StoreError::Corrupt(ref m)) if m.contains("robot")),
        "{read:?}"
    );
    tamper(&fresh.url, "UPDATE conversations SET channel = 'fax'").await;
    let read = store.conversation(&new.id).await;
    assert!(
        matches!(read, Err(StoreError::Corrupt(ref m)) if m.contains("fax")),
        "{read:?}"
    );
}

both_databases! {
    a_stored_value_madoguchi_never_wrote_is_an_error_not_a_default => a_stored_value_madoguchi_never_wrote_is_an_error_not_a_default;
    a_conversation_reads_back_with_its_customer_and_state => a_conversation_reads_back_with_its_customer_and_state;
    messages_and_state_are_written_together_or_not_at_all => messages_and_state_are_written_together_or_not_at_all;
    a_verified_customer_is_one_customer_across_conversations => a_verified_customer_is_one_customer_across_conversations;
    deleting_a_customer_deletes_everything_about_them => deleting_a_customer_deletes_everything_about_them;
    old_conversations_are_purged => old_conversations_are_purged;
}
