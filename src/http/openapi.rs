//! The `OpenAPI` 3.1 document, served at `GET /openapi.json`.
//!
//! The document and the router are made from the same registrations, so
//! they cannot drift: each part of the API builds a utoipa-axum
//! `OpenApiRouter`, and a route exists only through
//! `.routes(routes!(handler))`, which adds the handler to the router and
//! its `#[utoipa::path]` to the document at once.
//!
//! **Adding a route**: annotate its handler with `#[utoipa::path(...)]`
//! (method, path, tag, parameters, body, success responses, `security`,
//! and its errors as a type made with [`api_errors!`] from the code sets
//! of the extractors it uses), and register it in its module's `routes()`
//! with `.routes(routes!(handler))`. Nothing else lists routes; a plain
//! `.route(...)` would serve an undocumented route, and `tests/openapi.rs`
//! fails on it.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Extension;
use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Schema};
use utoipa::{Modify, OpenApi};

use super::error::{Code, ErrorBody, ErrorDetail, RuleProblem};

/// A type that documents the error responses of one route: one response
/// per status, listing the stable `code`s the route can answer with (the
/// union of the code sets given). Used in `responses(...)` of
/// `#[utoipa::path]`.
macro_rules! api_errors {
    ($(#[$doc:meta])* $name:ident = $($set:expr),+ $(,)?) => {
        $(#[$doc])*
        pub(super) struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<
                String,
                utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
            > {
                $crate::http::openapi::error_responses(&[$($set),+])
            }
        }
    };
}

/// The security schemes: each is a bearer token, named by what it opens.
pub const ADMIN_TOKEN: &str = "admin_token";
/// A conversation's own token, given by `POST /v1/conversations`.
pub const CONVERSATION_TOKEN: &str = "conversation_token";
/// `metrics_token`, when one is set.
pub const METRICS_TOKEN: &str = "metrics_token";
/// `email_inbound_secret`, for whoever delivers mail.
pub const INBOUND_SECRET: &str = "inbound_secret";

/// The document's root: what is not said at the routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "madoguchi",
        description = "Rule-based support chatbot for Japanese and English: the chat API \
            the widget speaks, the agent API, the e-mail channel's ways in, and the \
            service's own pages. Every error is JSON, `{\"error\": {\"code\", \"message\"}}`, \
            with a stable `code`; each route lists the codes it can answer with."
    ),
    components(schemas(ErrorBody, ErrorDetail, RuleProblem, Code)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "chat", description = "The chat API the website widget speaks; each \
            conversation is opened by its own bearer token."),
        (name = "agent", description = "The agent API, behind the admin bearer token."),
        (name = "email", description = "The e-mail channel: inbound mail and its agent views."),
        (name = "service", description = "Health, readiness, metrics and this document."),
        (name = "site", description = "The widget and the sample shop pages."),
    )
)]
pub(super) struct Root;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, what) in [
            (
                ADMIN_TOKEN,
                "`admin_token` of the configuration; without one the agent API answers 401.",
            ),
            (
                CONVERSATION_TOKEN,
                "The conversation's token, from `POST /v1/conversations`; a token of another \
                 conversation, or an unknown id, is 401 alike.",
            ),
            (
                METRICS_TOKEN,
                "`metrics_token` of the configuration; without one `/metrics` is open.",
            ),
            (
                INBOUND_SECRET,
                "`email_inbound_secret` of the configuration, for the MTA pipe or \
                 inbound-mail provider; without one inbound mail is refused (401).",
            ),
        ] {
            let mut http = Http::new(HttpAuthScheme::Bearer);
            http.description = Some(what.to_owned());
            components.add_security_scheme(name, SecurityScheme::Http(http));
        }
    }
}

/// The responses for the errors in `sets`, one per status: the error body,
/// with `code` held to the codes of that status, and an example of each.
pub fn error_responses(sets: &[&[Code]]) -> BTreeMap<String, RefOr<Response>> {
    let mut by_status = BTreeMap::<u16, Vec<Code>>::new();
    for &code in sets.iter().copied().flatten() {
        let codes = by_status.entry(code.status().as_u16()).or_default();
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    by_status
        .into_iter()
        .map(|(status, codes)| (status.to_string(), RefOr::T(error_response(&codes))))
        .collect()
}

fn error_response(codes: &[Code]) -> Response {
    let names: Vec<String> = codes.iter().map(|c| c.name()).collect();
    let only_these = ObjectBuilder::new().property(
        "error",
        ObjectBuilder::new().property(
            "code",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(names.clone())),
        ),
    );
    let schema = Schema::AllOf(
        AllOfBuilder::new()
            .item(Ref::from_schema_name("ErrorBody"))
            .item(only_these)
            .build(),
    );
    let examples = names.iter().map(|name| {
        (
            name.clone(),
            ExampleBuilder::new()
                .value(Some(serde_json::json!({
                    "error": { "code": name, "message": "what went wrong, for a person" }
                })))
                .build(),
        )
    });
    let listed = names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    ResponseBuilder::new()
        .description(format!("An error: {listed}."))
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(schema))
                .examples_from_iter(examples)
                .build(),
        )
        .build()
}

/// The document as served, made once when the router is built.
#[derive(Clone)]
pub(super) struct Document(pub Arc<str>);

/// `GET /openapi.json`.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "service",
    responses((
        status = 200,
        description = "This document (OpenAPI 3.1).",
        content_type = "application/json",
        body = Object
    ))
)]
pub(super) async fn document(Extension(Document(json)): Extension<Document>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        json.to_string(),
    )
}
