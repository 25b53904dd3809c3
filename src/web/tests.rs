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

#[test]
fn the_graph_is_drawn_in_layers_with_every_step_linked() {
    let text = r#"pipeline diamond {
  step a { image = "alpine" command = "true" }
  step b { image = "alpine" command = "echo $<a.output>" }
  step c { image = "alpine" after = [a] command = "true" }
  step d { image = "alpine" command = "echo $<b.output> $<c.output>" }
}"#;
    let file = crate::SourceFile::new("diamond.kfp", text);
    let pipeline = crate::check(&file).pipeline.expect("the diamond checks");
    let svg = super::svg::step_graph("r1", Some(&pipeline), &[], Some("b")).into_string();
    for step in ["a", "b", "c", "d"] {
        assert!(
            svg.contains(&format!("href=\"/runs/r1?step={step}#step\"")),
            "{svg}"
        );
    }
    // Four edges, one of them `after` (dashed).
    assert_eq!(svg.matches("<path class=\"edge").count(), 4, "{svg}");
    assert_eq!(svg.matches("class=\"edge after\"").count(), 1, "{svg}");
    assert!(svg.contains("class=\"node st-pending selected\" data-step=\"b\""));
}

#[test]
fn durations_read_at_a_glance() {
    use super::svg::duration;
    assert_eq!(duration(0.045), "45ms");
    assert_eq!(duration(1.44), "1.4s");
    assert_eq!(duration(42.0), "42s");
    assert_eq!(duration(185.0), "3m05s");
}

#[test]
fn a_scatter_has_one_point_per_run_even_for_text_params() {
    use super::svg::{Point, scatter};
    let points: Vec<Point> = ["adam", "sgd", "adam"]
        .iter()
        .enumerate()
        .map(|(i, x)| Point {
            x: (*x).to_string(),
            y: i as f64,
            run: format!("r{i}"),
        })
        .collect();
    let svg = scatter("acc<", "opt\"", &points).into_string();
    assert_eq!(svg.matches("<circle class=\"point\"").count(), 3);
    assert!(svg.contains("acc&lt; vs opt&quot;"), "{svg}");
}
