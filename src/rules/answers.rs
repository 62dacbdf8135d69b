//! Answer templates: compiled once when the rule set loads, rendered per
//! message with the shop's values and the details found in the conversation.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use minijinja::{Environment, Value};
use serde::{Deserialize, Serialize};

use crate::diagnostic::SourceLocation;
use crate::text::Locale;

/// Where a customer writes from; answers can differ per channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// The website chat widget: short answers.
    Chat,
    /// The support inbox: fuller answers.
    Email,
}

impl Channel {
    /// The name used in rule files and JSON.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Chat => "chat",
            Channel::Email => "email",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a channel name madoguchi does not know.
#[derive(Debug, thiserror::Error)]
#[error("unknown channel `{0}` (expected `chat` or `email`)")]
pub struct UnknownChannel(pub String);

impl FromStr for Channel {
    type Err = UnknownChannel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "chat" => Ok(Channel::Chat),
            "email" => Ok(Channel::Email),
            other => Err(UnknownChannel(other.to_owned())),
        }
    }
}

/// An answer could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The intent has no answer in this locale.
    #[error("intent `{intent}` has no answer in `{locale}`")]
    NoAnswer {
        /// The intent id.
        intent: String,
        /// The locale asked for.
        locale: Locale,
    },
    /// The template failed at run time.
    #[error("answer of `{intent}` failed to render: {source}")]
    Template {
        /// The intent id.
        intent: String,
        /// What the template engine said.
        #[source]
        source: minijinja::Error,
    },
}

/// Which answer a template is: intent, locale, channel.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AnswerKey<'a> {
    pub intent: usize,
    pub intent_id: &'a str,
    pub locale: Locale,
    pub channel: Channel,
}

/// What an answer template may refer to, besides `locale` and `channel`.
pub(crate) struct TemplateScope<'a> {
    pub shop_keys: &'a BTreeSet<String>,
    pub detail_names: &'a BTreeSet<String>,
    /// Further names the template is rendered with (a dialogue reply's
    /// `trouble`, `follow_up`...).
    pub extra: &'a [&'a str],
}

/// Which dialogue reply a template is: its name, locale, channel, variant.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReplyKey<'a> {
    pub name: &'a str,
    pub locale: Locale,
    pub channel: Channel,
    pub variant: usize,
}

/// The templates of one dialogue reply: per locale, per channel, its
/// variants.
type ReplyTemplates = [[Vec<String>; 2]; 2];

/// The compiled answer templates of a rule set.
pub struct Answers {
    env: Environment<'static>,
    /// Per intent, per locale index, per channel: the template name.
    names: Vec<[[Option<String>; 2]; 2]>,
    /// Per dialogue reply name: its templates.
    replies: BTreeMap<String, ReplyTemplates>,
    /// Per locale index: the shop's values.
    shop: [Value; 2],
    /// The text of each template that uses no detail and no reply value,
    /// rendered once when it was compiled; its compiled form is dropped
    /// (see [`Answers::keep_rendered`]).
    rendered: HashMap<String, String>,
    /// The sources of those templates, for a template that includes one.
    sources: HashMap<String, String>,
}

impl fmt::Debug for Answers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Answers")
            .field("intents", &self.names.len())
            .finish_non_exhaustive()
    }
}

impl Answers {
    pub(crate) fn new(shop: &[BTreeMap<String, String>; 2]) -> Self {
        let mut env = Environment::new();
        // Answers are plain text: no HTML escaping, and a missing detail
        // renders as nothing rather than failing the reply (`check` rejects
        // names that can never be defined).
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        Answers {
            env,
            names: Vec::new(),
            replies: BTreeMap::new(),
            shop: [map_value(&shop[0]), map_value(&shop[1])],
            rendered: HashMap::new(),
            sources: HashMap::new(),
        }
    }

    /// Makes the templates whose compiled form was dropped available again
    /// to templates that include or import them (compiled on first use).
    pub(crate) fn finish(&mut self) {
        let sources = Arc::new(std::mem::take(&mut self.sources));
        self.env
            .set_loader(move |name| Ok(sources.get(name).cloned()));
    }

    /// Compiles one answer template; returns the problem and its place
    /// otherwise.
    pub(crate) fn add(
        &mut self,
        key: AnswerKey<'_>,
        source: &str,
        location: &SourceLocation,
        scope: &TemplateScope<'_>,
    ) -> Result<(), Vec<(SourceLocation, String)>> {
        let AnswerKey {
            intent,
            intent_id,
            locale,
            channel,
        } = key;
        if self.names.len() <= intent {
            self.names.resize_with(intent + 1, Default::default);
        }
        let name = format!("{intent_id}/{locale}/{channel}");
        self.compile(&name, source, location, scope, (locale, channel))?;
        self.names[intent][locale.index()][channel as usize] = Some(name);
        Ok(())
    }

    /// Compiles one dialogue reply template.
    pub(crate) fn add_reply(
        &mut self,
        key: ReplyKey<'_>,
        source: &str,
        location: &SourceLocation,
        scope: &TemplateScope<'_>,
    ) -> Result<(), Vec<(SourceLocation, String)>> {
        let ReplyKey {
            name,
            locale,
            channel,
            variant,
        } = key;
        let template = format!("reply:{name}/{locale}/{channel}/{variant}");
        self.compile(&template, source, location, scope, (locale, channel))?;
        let variants =
            &mut self.replies.entry(name.to_owned()).or_default()[locale.index()][channel as usize];
        variants.push(template);
        Ok(())
    }

    /// Whether the rule set has the dialogue reply `name` in `locale`.
    pub(crate) fn has_reply(&self, name: &str, locale: Locale) -> bool {
        self.replies
            .get(name)
            .is_some_and(|r| !r[locale.index()][Channel::Chat as usize].is_empty())
    }

    /// Renders dialogue reply `name`: variant `variant` (counted round the
    /// variants there are), with `extra` values besides the usual ones.
    /// E-mail falls back to the chat texts.
    pub(crate) fn render_reply(
        &self,
        key: ReplyKey<'_>,
        details: &BTreeMap<String, String>,
        extra: Value,
    ) -> Result<String, RenderError> {
        let ReplyKey {
            name,
            locale,
            channel,
            variant,
        } = key;
        let per_channel = self.replies.get(name).map(|r| &r[locale.index()]);
        let variants = per_channel
            .map(|p| &p[channel as usize])
            .filter(|v| !v.is_empty())
            .or_else(|| per_channel.map(|p| &p[Channel::Chat as usize]))
            .filter(|v| !v.is_empty())
            .ok_or_else(|| RenderError::NoAnswer {
                intent: format!("reply:{name}"),
                locale,
            })?;
        let template = &variants[variant % variants.len()];
        self.render_template(template, name, locale, channel, details, extra)
    }

    fn compile(
        &mut self,
        name: &str,
        source: &str,
        location: &SourceLocation,
        scope: &TemplateScope<'_>,
        (locale, channel): (Locale, Channel),
    ) -> Result<(), Vec<(SourceLocation, String)>> {
        if let Err(err) = self
            .env
            .add_template_owned(name.to_owned(), source.to_owned())
        {
            let line = err.line().unwrap_or(1).max(1) as u64;
            let detail = err
                .detail()
                .map_or_else(|| err.kind().to_string(), str::to_owned);
            return Err(vec![(
                location.down(line - 1, if line == 1 { location.column } else { 1 }),
                format!("template syntax error: {detail}"),
            )]);
        }
        let template = self
            .env
            .get_template(name)
            .map_err(|e| vec![(location.clone(), e.to_string())])?;
        let variables = template.undeclared_variables(true);
        let problems: Vec<_> = variables
            .iter()
            .filter_map(|var| undefined_reason(var, scope))
            .map(|reason| (location.clone(), reason))
            .collect();
        if !problems.is_empty() {
            return Err(problems);
        }
        // Not `channel`: an e-mail without its own text gets the chat text
        // rendered for e-mail.
        let constant = variables.iter().all(|var| {
            let root = var.split('.').next().unwrap_or(var);
            matches!(root, "shop" | "locale")
        });
        if constant && !refers_to_templates(source) {
            self.keep_rendered(name, source, locale, channel);
        }
        Ok(())
    }

    /// Renders a template that uses only the shop's values and the locale,
    /// which are fixed for it, and drops its compiled form:
    /// a compiled template takes about 12 KiB however short it is (the
    /// engine reserves room for 256 instructions), 360 MiB for the 30,000
    /// answers of 10,000 intents, and most answers are such texts. A
    /// template that fails to render stays compiled, to fail as it would.
    fn keep_rendered(&mut self, name: &str, source: &str, locale: Locale, channel: Channel) {
        let details = BTreeMap::new();
        let Ok(text) =
            self.render_template(name, name, locale, channel, &details, Value::UNDEFINED)
        else {
            return;
        };
        self.env.remove_template(name);
        self.rendered.insert(name.to_owned(), text);
        self.sources.insert(name.to_owned(), source.to_owned());
    }

    /// Renders the answer of `intent` for `locale` and `channel`; e-mail falls
    /// back to the chat text when the intent has no e-mail text.
    pub(crate) fn render(
        &self,
        intent: usize,
        intent_id: &str,
        locale: Locale,
        channel: Channel,
        details: &BTreeMap<String, String>,
    ) -> Result<String, RenderError> {
        let per_channel = &self.names[intent][locale.index()];
        let name = per_channel[channel as usize]
            .as_ref()
            .or(per_channel[Channel::Chat as usize].as_ref())
            .ok_or_else(|| RenderError::NoAnswer {
                intent: intent_id.to_owned(),
                locale,
            })?;
        self.render_template(name, intent_id, locale, channel, details, Value::UNDEFINED)
    }

    fn render_template(
        &self,
        name: &str,
        what: &str,
        locale: Locale,
        channel: Channel,
        details: &BTreeMap<String, String>,
        extra: Value,
    ) -> Result<String, RenderError> {
        if let Some(text) = self.rendered.get(name) {
            return Ok(text.clone());
        }
        let template_error = |source| RenderError::Template {
            intent: what.to_owned(),
            source,
        };
        let template = self.env.get_template(name).map_err(template_error)?;
        let context = minijinja::context! {
            shop => &self.shop[locale.index()],
            details => map_value(details),
            locale => locale.as_str(),
            channel => channel.as_str(),
            ..extra
        };
        template
            .render(context)
            .map(|text| text.trim_end().to_owned())
            .map_err(template_error)
    }
}

/// Whether a template may include, import or extend another one: what that
/// one uses is not among its own variables, so it is never rendered ahead.
fn refers_to_templates(source: &str) -> bool {
    source.split("{%").skip(1).any(|tag| {
        let word = tag
            .trim_start_matches(['-', '+', '~'])
            .split_whitespace()
            .next()
            .unwrap_or("");
        matches!(word, "include" | "import" | "from" | "extends")
    })
}

/// Why a variable an answer uses can never be defined, or `None` if it can.
fn undefined_reason(var: &str, scope: &TemplateScope<'_>) -> Option<String> {
    let (root, key) = var.split_once('.').map_or((var, None), |(r, k)| {
        (r, Some(k.split('.').next().unwrap_or(k)))
    });
    match (root, key) {
        ("locale" | "channel", _) | ("shop" | "details", None) => None,
        (root, _) if scope.extra.contains(&root) => None,
        ("shop", Some(key)) if scope.shop_keys.contains(key) => None,
        ("details", Some(key)) if scope.detail_names.contains(key) => None,
        ("shop", Some(key)) => Some(format!(
            "`shop.{key}` is not defined: declare `{key}` under `shop:` ({})",
            known("shop.", scope.shop_keys)
        )),
        ("details", Some(key)) => Some(format!(
            "`details.{key}` is never extracted: no `details:` entry or regex capture is named `{key}` ({})",
            known("details.", scope.detail_names)
        )),
        _ if scope.extra.is_empty() => Some(format!(
            "`{var}` is not defined: answers can use `shop.*`, `details.*`, `locale` and `channel`"
        )),
        _ => Some(format!(
            "`{var}` is not defined: replies can use `shop.*`, `details.*`, `locale`, `channel` and {}",
            scope
                .extra
                .iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn known(prefix: &str, names: &BTreeSet<String>) -> String {
    if names.is_empty() {
        return "none is declared".to_owned();
    }
    let list: Vec<String> = names.iter().map(|n| format!("{prefix}{n}")).collect();
    format!("known: {}", list.join(", "))
}

fn map_value(map: &BTreeMap<String, String>) -> Value {
    Value::from_pairs(map.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}
