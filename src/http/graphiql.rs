//! GraphiQL, served by the binary alone: the page, and the vendored GraphiQL and React builds
//! it runs on (`assets/graphiql/`, embedded at compile time), so it works offline, behind a
//! proxy and under a strict Content-Security-Policy, and asks nothing of anyone but this
//! server. The page prefills the login mutation and an example `Authorization` header.
use axum::{
    extract::Path,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

/// What the page may load and run: its own scripts and styles only (GraphiQL's styling library
/// injects `<style>` elements, hence `'unsafe-inline'` for styles), requests to this origin.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
                   base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// (name under `/graphiql/`, content type, bytes, versioned): versioned names never change
/// content, so browsers may keep them for good.
const ASSETS: [(&str, &str, &[u8], bool); 6] = [
    (
        "graphiql-3.8.3.min.js",
        "text/javascript",
        include_bytes!("../../assets/graphiql/graphiql-3.8.3.min.js"),
        true,
    ),
    (
        "graphiql-3.8.3.min.css",
        "text/css",
        include_bytes!("../../assets/graphiql/graphiql-3.8.3.min.css"),
        true,
    ),
    (
        "react-18.3.1.production.min.js",
        "text/javascript",
        include_bytes!("../../assets/graphiql/react-18.3.1.production.min.js"),
        true,
    ),
    (
        "react-dom-18.3.1.production.min.js",
        "text/javascript",
        include_bytes!("../../assets/graphiql/react-dom-18.3.1.production.min.js"),
        true,
    ),
    (
        "init.js",
        "text/javascript",
        include_bytes!("../../assets/graphiql/init.js"),
        false,
    ),
    (
        "page.css",
        "text/css",
        include_bytes!("../../assets/graphiql/page.css"),
        false,
    ),
];

/// The page. Paths are relative, so it also works under a path prefix a proxy adds. The query
/// is the README's first step: log in, then put the token in the headers pane.
const PAGE: &str = r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cachegraph · GraphiQL</title>
<link rel="stylesheet" href="graphiql/graphiql-3.8.3.min.css">
<link rel="stylesheet" href="graphiql/page.css">
</head>
<body>
<div id="graphiql" data-endpoint="graphql"
 data-query="# 1. Log in (the admin's password is in the server's first log, or ADMIN_PASSWORD).
# 2. Copy accessToken into the Headers pane below, after &quot;Bearer &quot;.
# 3. Then try: { me { id email role } users { id email } userStats { total active admins } }
mutation {
  login(email: &quot;admin@example.com&quot;, password: &quot;&lt;password&gt;&quot;) {
    accessToken
    user { id role }
  }
}
"
 data-headers="{&quot;Authorization&quot;: &quot;Bearer &lt;accessToken&gt;&quot;}">Loading GraphiQL…</div>
<noscript>GraphiQL needs JavaScript. Without it, POST queries to /graphql (see the README).</noscript>
<script src="graphiql/react-18.3.1.production.min.js"></script>
<script src="graphiql/react-dom-18.3.1.production.min.js"></script>
<script src="graphiql/graphiql-3.8.3.min.js"></script>
<script src="graphiql/init.js"></script>
</body>
</html>
"##;

/// The GraphiQL page, with its Content-Security-Policy.
pub fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        PAGE,
    )
        .into_response()
}

/// `GET /graphiql/{name}`: one of the embedded files, or 404.
pub async fn asset(Path(name): Path<String>) -> Response {
    let Some((_, content_type, bytes, versioned)) = ASSETS.iter().find(|(n, ..)| *n == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let cache = if *versioned {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = (*bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
