//! The page's one stylesheet and one script, in the binary: no CDN, no network.

/// The content type and text of `/assets/NAME`.
pub(super) fn get(name: &str) -> Option<(&'static str, &'static str)> {
    match name {
        "style.css" => Some(("text/css; charset=utf-8", include_str!("assets/style.css"))),
        "live.js" => Some((
            "text/javascript; charset=utf-8",
            include_str!("assets/live.js"),
        )),
        "favicon.svg" => Some(("image/svg+xml", include_str!("assets/favicon.svg"))),
        _ => None,
    }
}
