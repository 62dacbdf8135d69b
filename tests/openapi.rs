//! `GET /openapi.json`: a well-formed `OpenAPI` 3.1 document that names
//! exactly the routes the real server serves, each with the methods it
//! takes, and the errors each answers with.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Db, TestApp, spawn_app};
use madoguchi::http::Code;
use serde_json::Value;

/// The methods probed on every path.
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

async fn document(app: &TestApp) -> Value {
    let response = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    response.json().await.unwrap()
}

/// The documented operations: path, then its methods (upper case).
fn operations(doc: &Value) -> BTreeMap<String, BTreeSet<String>> {
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, item)| {
            let methods = item
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| METHODS.iter().any(|m| m.eq_ignore_ascii_case(k)))
                .map(|k| k.to_ascii_uppercase())
                .collect();
            (path.clone(), methods)
        })
        .collect()
}

/// The routes a router's `Debug` form names: each path
/// (`RouteId(3): "/v1/..."`) with the methods of its route
/// (`RouteId(3): MethodRouter(... allow_header: Bytes(b"GET,HEAD"))`).
fn router_routes(debug: &str) -> BTreeMap<String, BTreeSet<String>> {
    // The router's own routes, not its fallback's.
    let own = &debug[..debug.find("fallback_router").unwrap_or(debug.len())];
    let mut methods = BTreeMap::<&str, BTreeSet<String>>::new();
    let mut paths = BTreeMap::<&str, String>::new();
    for (at, _) in own.match_indices("RouteId(") {
        let rest = &own[at..];
        let id = &rest[..=rest.find(')').unwrap()];
        let after = &rest[id.len()..];
        if let Some(path) = after.strip_prefix(": \"") {
            paths.insert(id, path[..path.find('"').unwrap()].to_owned());
        } else if after.starts_with(": MethodRouter") {
            let needle = "allow_header: Bytes(b\"";
            let allow = &after[after.find(needle).unwrap() + needle.len()..];
            let allow = &allow[..allow.find('"').unwrap()];
            methods.insert(
                id,
                allow
                    .split(',')
                    .filter(|m| *m != "HEAD")
                    .map(str::to_owned)
                    .collect(),
            );
        }
    }
    paths
        .into_iter()
        .map(|(id, path)| (path, methods.remove(id).unwrap_or_default()))
        .collect()
}

/// Every `$ref` in `value`, with where it is.
fn refs<'a>(value: &'a Value, at: &str, found: &mut Vec<(String, &'a str)>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if key == "$ref" {
                    found.push((at.to_owned(), v.as_str().unwrap()));
                } else {
                    refs(v, &format!("{at}/{key}"), found);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                refs(v, &format!("{at}/{i}"), found);
            }
        }
        _ => {}
    }
}

fn code_names() -> BTreeMap<String, u16> {
    Code::ALL
        .iter()
        .map(|c| (c.name(), c.status().as_u16()))
        .collect()
}

#[tokio::test]
async fn the_document_is_well_formed_openapi_3_1() {
    let Some(app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    let doc = document(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    assert!(doc["info"]["title"].is_string());
    assert!(doc["info"]["version"].is_string());
    let mut found = Vec::new();
    refs(&doc, "", &mut found);
    assert!(!found.is_empty());
    for (at, target) in &found {
        let pointer = target
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{at}: {target} is not local"));
        assert!(
            doc.pointer(pointer).is_some(),
            "{at}: {target} does not resolve"
        );
    }
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    let tags: BTreeSet<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let codes = code_names();
    let mut operation_ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        assert!(path.starts_with('/'), "{path}");
        for (method, operation) in item.as_object().unwrap() {
            let name = format!("{method} {path}");
            assert!(
                operation_ids.insert(operation["operationId"].as_str().unwrap().to_owned()),
                "{name}: its operationId is not unique"
            );
            for tag in operation["tags"].as_array().unwrap() {
                assert!(tags.contains(tag.as_str().unwrap()), "{name}: tag {tag}");
            }
            // Every `{name}` of the path is a required path parameter.
            let declared: BTreeSet<&str> = operation["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "path")
                        .inspect(|p| assert_eq!(p["required"], true, "{name}"))
                        .map(|p| p["name"].as_str().unwrap())
                        .collect()
                })
                .unwrap_or_default();
            let templated: BTreeSet<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            assert_eq!(declared, templated, "{name}: path parameters");
            for requirement in operation["security"].as_array().into_iter().flatten() {
                for scheme in requirement.as_object().unwrap().keys() {
                    assert!(schemes.contains_key(scheme), "{name}: scheme {scheme}");
                }
            }
            let responses = operation["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{name} has no success response"
            );
            // Each documented error code exists, under its own status.
            for (status, response) in responses {
                for code in documented_codes(response) {
                    assert_eq!(
                        codes.get(&code).map(u16::to_string).as_deref(),
                        Some(status.as_str()),
                        "{name}: `{code}` under {status}"
                    );
                }
            }
        }
    }
    app.stop().await;
}

/// The error codes a response lists (its `code` enum).
fn documented_codes(response: &Value) -> Vec<String> {
    response["content"]["application/json"]["schema"]["allOf"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| {
            s.pointer("/properties/error/properties/code/enum")?
                .as_array()
        })
        .flatten()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect()
}

/// The document names the router's routes, each with its methods: no
/// more and no fewer.
#[tokio::test]
async fn the_document_names_every_route_of_the_router() {
    let Some(app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    let doc = document(&app).await;
    let documented = operations(&doc);
    let served = router_routes(&app.routes);
    // The parse itself is checked, so that it cannot pass on nothing.
    for (path, method) in [
        ("/healthz", "GET"),
        ("/v1/conversations/{id}/events", "GET"),
        ("/v1/admin/rules/reload", "POST"),
        ("/v1/admin/customers/{id}", "DELETE"),
    ] {
        assert!(
            served.get(path).is_some_and(|m| m.contains(method)),
            "{method} {path} not found in {}",
            app.routes
        );
    }
    assert_eq!(served, documented);
    app.stop().await;
}

/// Whether an answer is the router's own: no route (404 `no such
/// endpoint`) or not this method (405).
async fn from_routing(response: reqwest::Response) -> (bool, u16, Option<String>) {
    let status = response.status().as_u16();
    let body: Option<Value> = if response
        .headers()
        .get("content-type")
        .is_some_and(|t| t.to_str().unwrap().starts_with("application/json"))
    {
        response.json().await.ok()
    } else {
        None
    };
    let code = body
        .as_ref()
        .and_then(|b| b["error"]["code"].as_str().map(str::to_owned));
    let message = body
        .as_ref()
        .and_then(|b| b["error"]["message"].as_str())
        .unwrap_or_default();
    let routing = status == 405 || (status == 404 && message == "no such endpoint");
    (routing, status, code)
}

/// Every documented path answers every documented method (and only
/// those), without credentials, with the admin token, and with a
/// conversation's token; and what it answers is documented: the status,
/// and an error's code under it.
#[tokio::test]
async fn every_documented_operation_is_served_and_answers_as_documented() {
    let Some(app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    let doc = document(&app).await;
    let conversation = app.start(serde_json::json!({})).await;
    let mut probed = 0;
    for (path, methods) in operations(&doc) {
        let chat = path.starts_with("/v1/conversations/");
        let url =
            app.url(&path.replace("{id}", if chat { &conversation.id } else { "no-such-id" }));
        let tokens: Vec<Option<&str>> =
            vec![None, Some(&app.admin_token), Some(&conversation.token)];
        for method in METHODS {
            for token in &tokens {
                let mut request = app
                    .client
                    .request(method.parse().unwrap(), &url)
                    .timeout(std::time::Duration::from_secs(10));
                if let Some(token) = token {
                    request = request.bearer_auth(token);
                }
                let response = request.send().await.unwrap();
                let (routing, status, code) = from_routing(response).await;
                let name = format!("{method} {path} (token: {})", token.is_some());
                if !methods.contains(method) {
                    assert_eq!(status, 405, "{name}: served but not documented");
                    continue;
                }
                probed += 1;
                assert!(!routing, "{name}: documented but not served ({status})");
                let documented = &doc["paths"][&path][method.to_ascii_lowercase()]["responses"];
                let response = &documented[status.to_string()];
                assert!(
                    response.is_object(),
                    "{name}: answered {status}, which is not documented"
                );
                if let Some(code) = code {
                    assert!(
                        documented_codes(response).contains(&code),
                        "{name}: answered `{code}`, which is not documented under {status}"
                    );
                }
            }
        }
    }
    assert!(probed >= 30, "only {probed} operations probed");
    app.stop().await;
}
