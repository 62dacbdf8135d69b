//! What a browser gets from madoguchi itself: the chat widget a shop puts
//! on its pages with one `<script>` tag (`/widget.js`), and a sample shop
//! page with the widget on it (`/` in Japanese, `/en` in English), served
//! under a strict Content-Security-Policy that the widget works within.

use std::fmt::Write as _;

use axum::http::header;
use axum::response::{Html, IntoResponse};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

/// The widget, as shipped (`widget/widget.js`).
pub const WIDGET: &str = include_str!("../../widget/widget.js");

const DEMO: &str = include_str!("../../widget/demo.html");
const ADMIN: &str = include_str!("../../admin/admin.html");
const ADMIN_JS: &str = include_str!("../../admin/admin.js");
const ADMIN_CSS: &str = include_str!("../../admin/admin.css");
const DEMO_CSS: &str = include_str!("../../widget/demo.css");

/// The sample page's policy: its own scripts, styles and API only; no
/// inline script, no framing, no plugins.
pub const DEMO_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// The pages and the widget, each with its part of the `OpenAPI` document.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(demo_ja))
        .routes(routes!(demo_en))
        .routes(routes!(demo_css))
        .routes(routes!(widget))
        .routes(routes!(admin))
        .routes(routes!(admin_js))
        .routes(routes!(admin_css))
}

/// The support team's page: the same policy as the sample page (its own
/// script, styles and API only). It holds no data itself: the script asks
/// for the admin token and calls the agent API with it.
#[utoipa::path(get, path = "/admin", tag = "site",
    responses((status = 200, description = "The support team's page, under a strict \
        Content-Security-Policy; it asks for the admin token and calls the agent API.",
        content_type = "text/html", body = String)))]
async fn admin() -> impl IntoResponse {
    (
        [
            (header::CONTENT_SECURITY_POLICY, DEMO_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        Html(ADMIN),
    )
}

/// The support team's page's script.
#[utoipa::path(get, path = "/admin.js", tag = "site",
    responses((status = 200, description = "The script.", content_type = "text/javascript", body = String)))]
async fn admin_js() -> impl IntoResponse {
    asset("text/javascript; charset=utf-8", ADMIN_JS)
}

/// The support team's page's style sheet.
#[utoipa::path(get, path = "/admin.css", tag = "site",
    responses((status = 200, description = "The style sheet.", content_type = "text/css", body = String)))]
async fn admin_css() -> impl IntoResponse {
    asset("text/css; charset=utf-8", ADMIN_CSS)
}

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
}

/// The sample shop page, in Japanese.
#[utoipa::path(get, path = "/", tag = "site",
    responses((status = 200, description = "The page, under a strict Content-Security-Policy.",
        content_type = "text/html", body = String)))]
async fn demo_ja() -> impl IntoResponse {
    demo(&Demo::JA)
}

/// The sample shop page, in English.
#[utoipa::path(get, path = "/en", tag = "site",
    responses((status = 200, description = "The page, under a strict Content-Security-Policy.",
        content_type = "text/html", body = String)))]
async fn demo_en() -> impl IntoResponse {
    demo(&Demo::EN)
}

/// The sample page's style sheet.
#[utoipa::path(get, path = "/demo.css", tag = "site",
    responses((status = 200, description = "The style sheet.", content_type = "text/css", body = String)))]
async fn demo_css() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        DEMO_CSS,
    )
}

/// The chat widget a shop puts on its pages with one `<script>` tag.
#[utoipa::path(get, path = "/widget.js", tag = "site",
    responses((status = 200, description = "The widget; any origin may load it.",
        content_type = "text/javascript", body = String)))]
async fn widget() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            // Shops embed it from their own pages.
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        WIDGET,
    )
}

/// The sample page's words in one language.
struct Demo {
    lang: &'static str,
    title: &'static str,
    shop: &'static str,
    heading: &'static str,
    intro: &'static str,
    goods: &'static [&'static str],
    hint: &'static str,
}

impl Demo {
    const JA: Demo = Demo {
        lang: "ja",
        title: "はなまる雑貨店（デモ）",
        shop: "はなまる雑貨店",
        heading: "暮らしの道具と雑貨",
        intro: "madoguchi のデモ用のお店です。右下のボタンからチャットで問い合わせてみてください。",
        goods: &[
            "美濃焼のマグカップ",
            "ガーゼのハンカチ",
            "木のカトラリーセット",
            "帆布のトートバッグ",
        ],
        hint: "例：「送料はいくらですか」「注文をキャンセルしたい」「担当者と話したいです」",
    };

    const EN: Demo = Demo {
        lang: "en",
        title: "Hanamaru Goods (demo)",
        shop: "Hanamaru Goods",
        heading: "Everyday things, made well",
        intro: "A sample shop for trying madoguchi. Use the chat button at the bottom right.",
        goods: &[
            "Mino-ware mug",
            "Cotton gauze handkerchief",
            "Wooden cutlery set",
            "Canvas tote bag",
        ],
        hint: "Try: \"How much is shipping?\", \"I want to cancel my order\", \"Can I talk to a person?\"",
    };
}

fn demo(words: &Demo) -> impl IntoResponse {
    let goods = words.goods.iter().fold(String::new(), |mut list, good| {
        let _ = write!(list, "<li>{good}</li>");
        list
    });
    let page = DEMO
        .replace("{{lang}}", words.lang)
        .replace("{{title}}", words.title)
        .replace("{{shop}}", words.shop)
        .replace("{{heading}}", words.heading)
        .replace("{{intro}}", words.intro)
        .replace("{{goods}}", &goods)
        .replace("{{hint}}", words.hint);
    (
        [
            (header::CONTENT_SECURITY_POLICY, DEMO_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        Html(page),
    )
}
