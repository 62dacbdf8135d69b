//! Random ids and tokens, from the operating system's generator.

/// A new random id (128 bits, hex): conversations, customers, handoffs.
#[must_use]
pub fn new_id() -> String {
    random_hex::<16>()
}

/// A new conversation token (256 bits, hex): unguessable, shown once.
#[must_use]
pub fn new_token() -> String {
    random_hex::<32>()
}

fn random_hex<const N: usize>() -> String {
    let mut bytes = [0u8; N];
    // The operating system's generator does not fail on the platforms
    // madoguchi runs on; if it ever did, no token could be made safely.
    getrandom::fill(&mut bytes).unwrap_or_else(|e| panic!("no system randomness: {e}"));
    hex::encode(bytes)
}
