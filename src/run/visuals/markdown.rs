//! Markdown to HTML for `markdown` visuals: the common subset (headings,
//! paragraphs, lists, quotes, rules, fenced code, `code`, **strong**,
//! *emphasis*, links; `_` is left alone, since names hold it). Every character of the text is escaped: raw HTML in
//! the markdown is shown as text, never passed through (KFP's UI renders
//! markdown with its HTML too; a local file opened from disk must not run a
//! step's script). Links keep `http(s)`, `mailto` and relative targets only.
//! No crate: this subset is all KFP's samples use, and it keeps the escaping
//! rule in one place.

use maud::{Markup, PreEscaped};

/// The markdown as HTML.
pub fn to_html(text: &str) -> Markup {
    let mut out = String::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let mut list: Option<&'static str> = None;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let trimmed = line.trim();
        let item = list_item(trimmed);
        if item.is_none() || trimmed.is_empty() {
            close_list(&mut out, &mut list);
        }
        if trimmed.is_empty() || item.is_some() || is_block_start(trimmed) {
            flush(&mut out, &mut paragraph);
        }
        if trimmed.starts_with("```") {
            let code: Vec<&str> = lines
                .by_ref()
                .take_while(|l| !l.trim().starts_with("```"))
                .collect();
            out.push_str(&format!(
                "<pre><code>{}</code></pre>\n",
                escape(&code.join("\n"))
            ));
        } else if let Some((level, heading)) = heading(trimmed) {
            out.push_str(&format!("<h{level}>{}</h{level}>\n", inline(heading)));
        } else if let Some((tag, body)) = item {
            if list != Some(tag) {
                close_list(&mut out, &mut list);
                out.push_str(&format!("<{tag}>\n"));
                list = Some(tag);
            }
            out.push_str(&format!("<li>{}</li>\n", inline(body)));
        } else if let Some(quote) = trimmed.strip_prefix('>') {
            out.push_str(&format!(
                "<blockquote>{}</blockquote>\n",
                inline(quote.trim())
            ));
        } else if is_rule(trimmed) {
            out.push_str("<hr>\n");
        } else if !trimmed.is_empty() {
            paragraph.push(trimmed);
        }
    }
    flush(&mut out, &mut paragraph);
    close_list(&mut out, &mut list);
    PreEscaped(out)
}

fn is_block_start(line: &str) -> bool {
    line.starts_with("```") || heading(line).is_some() || line.starts_with('>') || is_rule(line)
}

fn is_rule(line: &str) -> bool {
    line.len() >= 3 && (line.chars().all(|c| c == '-') || line.chars().all(|c| c == '*'))
}

fn heading(line: &str) -> Option<(usize, &str)> {
    let level = line.chars().take_while(|&c| c == '#').count();
    let rest = &line[level..];
    ((1..=6).contains(&level) && (rest.is_empty() || rest.starts_with(' ')))
        .then(|| (level, rest.trim().trim_end_matches('#').trim_end()))
}

/// `- x`, `* x`, `+ x` (a bullet list) or `1. x` (a numbered one).
fn list_item(line: &str) -> Option<(&'static str, &str)> {
    for bullet in ["- ", "* ", "+ "] {
        if let Some(body) = line.strip_prefix(bullet) {
            return Some(("ul", body));
        }
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    let rest = &line[digits..];
    (digits > 0 && rest.starts_with(". ")).then(|| ("ol", &rest[2..]))
}

fn close_list(out: &mut String, list: &mut Option<&'static str>) {
    if let Some(tag) = list.take() {
        out.push_str(&format!("</{tag}>\n"));
    }
}

fn flush(out: &mut String, paragraph: &mut Vec<&str>) {
    if !paragraph.is_empty() {
        out.push_str(&format!("<p>{}</p>\n", inline(&paragraph.join("\n"))));
        paragraph.clear();
    }
}

/// Inline markup: `code`, **strong**, *em*, [text](target).
fn inline(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if let Some((html, after)) = span(rest) {
            out.push_str(&html);
            rest = after;
        } else {
            out.push_str(&escape(&c.to_string()));
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// The inline span `rest` starts with, as HTML, and the text after it.
fn span(rest: &str) -> Option<(String, &str)> {
    if let Some((inner, after)) = delimited(rest, "`") {
        return Some((format!("<code>{}</code>", escape(inner)), after));
    }
    for (mark, tag) in [("**", "strong"), ("*", "em")] {
        if let Some((inner, after)) = delimited(rest, mark)
            && !inner.starts_with(' ')
        {
            return Some((format!("<{tag}>{}</{tag}>", inline(inner)), after));
        }
    }
    let label_end = rest.strip_prefix('[')?.find("](")? + 1;
    let target_start = label_end + 2;
    let target_len = rest[target_start..].find(')')?;
    let label = &rest[1..label_end];
    let target = rest[target_start..target_start + target_len].trim();
    let after = &rest[target_start + target_len + 1..];
    let html = if safe_target(target) {
        format!("<a href=\"{}\">{}</a>", escape(target), inline(label))
    } else {
        inline(label)
    };
    Some((html, after))
}

/// `mark…mark` at the start of `text`: the inside and what follows.
fn delimited<'t>(text: &'t str, mark: &str) -> Option<(&'t str, &'t str)> {
    let body = text.strip_prefix(mark)?;
    let end = body.find(mark)?;
    (end > 0).then(|| (&body[..end], &body[end + mark.len()..]))
}

/// Targets a link may have: web, mail, or relative (no `javascript:`).
fn safe_target(target: &str) -> bool {
    let lower = target.to_ascii_lowercase();
    match lower.split_once(':') {
        Some((scheme, _)) if !scheme.contains('/') => {
            matches!(scheme, "http" | "https" | "mailto")
        }
        _ => true,
    }
}

/// Text as HTML text or attribute value.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::to_html;

    #[test]
    fn headings_lists_links_and_code() {
        let html = to_html("# Inline Markdown\n[A link](https://www.kubeflow.org/)\n\n- one\n- `two`\n\n## Next **bold**").into_string();
        assert_eq!(
            html,
            "<h1>Inline Markdown</h1>\n<p><a href=\"https://www.kubeflow.org/\">A link</a></p>\n<ul>\n<li>one</li>\n<li><code>two</code></li>\n</ul>\n<h2>Next <strong>bold</strong></h2>\n"
        );
    }

    #[test]
    fn raw_html_and_script_links_stay_text() {
        let html = to_html("<script>alert(1)</script> [x](javascript:alert(1))").into_string();
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("href"), "{html}");
    }

    #[test]
    fn fenced_code_is_escaped_verbatim() {
        let html = to_html("```\na < b\n# not a heading\n```").into_string();
        assert_eq!(html, "<pre><code>a &lt; b\n# not a heading</code></pre>\n");
    }
}
