//! Unit tests of the pure parts: query decoding, the file guard, the
//! Host/Origin/CSRF rule, and escaping in the pages.

use std::net::SocketAddr;

use axum::http::{HeaderMap, HeaderValue, Method, header};

use super::{files, guard, query};

#[test]
fn query_pairs_decode_and_keep_repeats() {
    let pairs = query::pairs("run=r1&run=r2&q=lr%3D0.1+x&bad=%zz");
    assert_eq!(query::all(&pairs, "run").collect::<Vec<_>>(), ["r1", "r2"]);
    assert_eq!(query::first(&pairs, "q"), Some("lr=0.1 x"));
    assert_eq!(query::first(&pairs, "bad"), Some("%zz"));
    assert_eq!(query::encode("a b/<"), "a%20b%2F%3C");
}

#[test]
fn files_outside_the_run_folder_are_refused() {
    let root = std::env::temp_dir().join(format!("kfpl-web-unit-{}", std::process::id()));
    let run = root.join("r1");
    std::fs::create_dir_all(run.join("s")).expect("a run folder");
    std::fs::write(run.join("s/stdout.log"), "hi").expect("a log");
    std::fs::write(root.join("secret"), "no").expect("a secret");
    let link = run.join("s/link");
    let _ = std::os::unix::fs::symlink(root.join("secret"), &link);
    assert!(files::resolve_inside(&run, "s/stdout.log").is_ok());
    for bad in [
        "../secret",
        "s/../../secret",
        "/etc/passwd",
        "",
        "s/link",
        "s",
    ] {
        assert!(
            files::resolve_inside(&run, bad).is_err(),
            "{bad} was let through"
        );
    }
    let _ = std::fs::remove_dir_all(&root);
}

fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(name.clone(), HeaderValue::from_static(value));
    }
    map
}

#[test]
fn only_own_host_and_origin_and_token_pass() {
    let addr: SocketAddr = "127.0.0.1:4000".parse().expect("an address");
    let hosts = guard::allowed_hosts(addr);
    let get = Method::GET;
    let ok = headers(&[(header::HOST, "localhost:4000")]);
    assert_eq!(guard::refusal(&hosts, "t", &get, &ok, None), None);
    let foreign = headers(&[(header::HOST, "evil.example:4000")]);
    assert!(guard::refusal(&hosts, "t", &get, &foreign, None).is_some());
    let cross = headers(&[
        (header::HOST, "127.0.0.1:4000"),
        (header::ORIGIN, "http://evil.example"),
    ]);
    assert!(guard::refusal(&hosts, "t", &get, &cross, None).is_some());
    assert!(guard::refusal(&hosts, "t", &Method::POST, &ok, None).is_some());
    assert!(guard::refusal(&hosts, "t", &Method::POST, &ok, Some("csrf=x")).is_some());
    assert_eq!(
        guard::refusal(&hosts, "t", &Method::POST, &ok, Some("csrf=t")),
        None
    );
    let mut with_token = ok.clone();
    with_token.insert("x-csrf-token", HeaderValue::from_static("t"));
    assert_eq!(
        guard::refusal(&hosts, "t", &Method::POST, &with_token, None),
        None
    );
}

#[test]
fn pages_escape_hostile_text() {
    let page = super::pages::error("<b>", "<script>alert(1)</script>\"'");
    let html = page.into_string();
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;"),
        "{html}"
    );
}
