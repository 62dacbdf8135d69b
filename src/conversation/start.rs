//! Starting a conversation: who the customer is, the engine's first state,
//! and the token that opens it (shown once, stored only as a hash).

use crate::engine::ConversationState;
use crate::ids::{new_id, new_token};
use crate::privacy::mask;
use crate::rules::{Channel, RuleSet};
use crate::secret::token_hash;
use crate::store::{Identity, NewConversation, Store, StoreError};
use crate::text::Locale;

use super::millis;

/// A conversation to start, as a channel established it.
#[derive(Debug, Clone)]
pub struct Start<'a> {
    /// Where it happens.
    pub channel: Channel,
    /// How the customer is known.
    pub identity: Identity,
    /// The shop's id of the customer; kept only when verified.
    pub external_id: Option<&'a str>,
    /// An e-mail address the customer gave.
    pub email: Option<&'a str>,
    /// The customer's name.
    pub name: Option<&'a str>,
    /// The language to answer in until the customer shows another; kept
    /// only when the rule set answers in it.
    pub locale: Option<Locale>,
}

/// A started conversation.
#[derive(Debug, Clone)]
pub struct Started {
    /// Its id.
    pub id: String,
    /// Its bearer token: given to the customer once, never stored.
    pub token: String,
}

/// Starts a conversation and stores it, with its customer.
///
/// # Errors
/// A store failure.
pub async fn start(
    store: &Store,
    rules: &RuleSet,
    request: &Start<'_>,
    now: jiff::Timestamp,
) -> Result<Started, StoreError> {
    // What the customer typed is masked like their messages.
    let email = request.email.map(|e| mask(e).into_owned());
    let mut state = email
        .as_deref()
        .map_or_else(ConversationState::default, ConversationState::with_email);
    state.locale = request.locale.filter(|l| rules.locales().contains(l));
    let token = new_token();
    let new = NewConversation {
        id: new_id(),
        token_hash: token_hash(&token),
        customer_id: new_id(),
        external_id: (request.identity == Identity::Verified)
            .then(|| request.external_id.map(str::to_owned))
            .flatten(),
        email,
        name: request.name.map(|n| mask(n).into_owned()),
        identity: request.identity,
        channel: request.channel,
        state,
        at: millis(now),
    };
    store.create_conversation(&new).await?;
    tracing::info!(
        conversation = %new.id,
        identity = new.identity.as_str(),
        "conversation started"
    );
    Ok(Started { id: new.id, token })
}
