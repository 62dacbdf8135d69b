//! Text normalization and locale detection.
//!
//! Rules and messages meet in one normalized form, so that `ﾊﾟｽﾜｰﾄﾞ`,
//! `パスワード` and `ぱすわーど` are the same string to the matcher, and
//! `Ｏｒｄｅｒ` is `order`. Every normalized byte remembers where it came from
//! in the original message, so evidence can point at what the customer wrote.

mod locale;
mod normalize;

pub use locale::Locale;
pub(crate) use normalize::is_japanese;
pub use normalize::{Normalized, normalize};
