//! Parts of self-contained HTML pages: a page frame with inline CSS, escaped text, tables,
//! images and figures, links. Pages made of these open from the file system (`file://`): no
//! network, no external fonts, styles or scripts; images are relative links.
//!
//! Text is escaped when it becomes [`Html`]; markup is only made by the functions here, so a
//! caption or a table cell cannot inject tags.
//!
//! ```
//! use render::html::{self, Html, Page};
//!
//! let table = html::table(&["epoch", "loss"], &[vec![Html::text("1"), Html::text("0.69")]]);
//! let page = Page::new("run-001")
//!     .section("Metrics", table)
//!     .section("Grid", html::figure("samples/epoch-0001.png", "epoch 1", None));
//! let text = page.render();
//! assert!(text.contains("<img src=\"samples/epoch-0001.png\""));
//! assert_eq!(html::local_references(&text), ["samples/epoch-0001.png"]);
//! ```

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

/// A piece of markup, made only by this module's functions (text is escaped on the way in).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Html(String);

impl Html {
    /// `text`, escaped.
    pub fn text(text: impl AsRef<str>) -> Html {
        Html(escape(text.as_ref()))
    }

    /// Nothing.
    pub fn empty() -> Html {
        Html(String::new())
    }

    /// The pieces one after the other.
    pub fn concat(parts: impl IntoIterator<Item = Html>) -> Html {
        Html(parts.into_iter().map(|p| p.0).collect())
    }

    /// The markup.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether there is no markup.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn tag(name: &str, class: Option<&str>, inner: Html) -> Html {
        match class {
            Some(c) => Html(format!(
                "<{name} class=\"{}\">{}</{name}>",
                escape(c),
                inner.0
            )),
            None => Html(format!("<{name}>{}</{name}>", inner.0)),
        }
    }
}

impl From<&str> for Html {
    fn from(text: &str) -> Html {
        Html::text(text)
    }
}

impl From<String> for Html {
    fn from(text: String) -> Html {
        Html::text(text)
    }
}

/// `text` with `&`, `<`, `>`, `"` and `'` escaped, for element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A relative file path as a URL path: `/`-separated segments with every byte outside
/// `A-Za-z0-9-._~/` percent-encoded (so `#`, `?`, `%` and spaces in names stay part of the path).
pub fn url_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The inverse of [`url_path`] (for checking references against files).
pub fn decode_url_path(url: &str) -> String {
    let bytes = url.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A paragraph of text.
pub fn paragraph(text: impl Into<Html>) -> Html {
    Html::tag("p", None, text.into())
}

/// A paragraph with a CSS class of the frame (`note`, `status`, `warning`, `muted`).
pub fn paragraph_class(class: &str, text: impl Into<Html>) -> Html {
    Html::tag("p", Some(class), text.into())
}

/// Text in a fixed-width font.
pub fn code(text: &str) -> Html {
    Html::tag("code", None, Html::text(text))
}

/// A link to a relative file (or an anchor `#id`).
pub fn link(href: &str, text: impl Into<Html>) -> Html {
    let href = if href.starts_with('#') {
        escape(href)
    } else {
        url_path(href)
    };
    Html(format!("<a href=\"{href}\">{}</a>", text.into().0))
}

/// An image from a relative file, `width` in CSS pixels (or its own size).
pub fn image(src: &str, alt: &str, width: Option<u32>) -> Html {
    let width = width.map(|w| format!(" width=\"{w}\"")).unwrap_or_default();
    Html(format!(
        "<img src=\"{}\" alt=\"{}\"{width} loading=\"lazy\">",
        url_path(src),
        escape(alt)
    ))
}

/// An image with a caption under it, linking to the full-size file.
pub fn figure(src: &str, caption: &str, width: Option<u32>) -> Html {
    figure_to(src, src, caption, width)
}

/// An image with a caption under it, the image linking to `href` (e.g. another page).
pub fn figure_to(href: &str, src: &str, caption: &str, width: Option<u32>) -> Html {
    Html(format!(
        "<figure>{}<figcaption>{}</figcaption></figure>",
        link(href, image(src, caption, width)).0,
        escape(caption)
    ))
}

/// Figures side by side, wrapping onto new lines.
pub fn gallery(items: impl IntoIterator<Item = Html>) -> Html {
    Html::tag("div", Some("gallery"), Html::concat(items))
}

/// A table with a header row; each row should have as many cells as `header`.
pub fn table(header: &[&str], rows: &[Vec<Html>]) -> Html {
    let mut out = String::from("<div class=\"scroll\"><table><thead><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", cell.0);
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    Html(out)
}

/// Key-value rows (a configuration, a summary).
pub fn key_value_table(rows: &[(String, Html)]) -> Html {
    let mut out = String::from("<div class=\"scroll\"><table class=\"kv\"><tbody>");
    for (k, v) in rows {
        let _ = write!(out, "<tr><th>{}</th><td>{}</td></tr>", escape(k), v.0);
    }
    out.push_str("</tbody></table></div>");
    Html(out)
}

/// A bulleted list.
pub fn list(items: impl IntoIterator<Item = Html>) -> Html {
    Html::tag(
        "ul",
        None,
        Html::concat(items.into_iter().map(|i| Html::tag("li", None, i))),
    )
}

/// Content that opens on a click, with `summary` always shown.
pub fn details(summary: &str, inner: Html) -> Html {
    Html(format!(
        "<details><summary>{}</summary>{}</details>",
        escape(summary),
        inner.0
    ))
}

/// Whether a page refreshes itself, and when it counts as stale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Liveness {
    /// Reload the page every this many seconds.
    pub refresh_seconds: u32,
    /// A page older than this many seconds tells the reader that nothing updates it any more.
    pub stale_after_seconds: u64,
}

/// An HTML page: a title, an optional status line, sections; rendered with inline CSS only.
#[derive(Debug, Clone)]
pub struct Page {
    title: String,
    status: Option<(Html, String)>,
    live: Option<(Liveness, String)>,
    updated: SystemTime,
    sections: Vec<(String, Html)>,
}

impl Page {
    /// An empty page titled `title`, updated now.
    pub fn new(title: impl Into<String>) -> Page {
        Page {
            title: title.into(),
            status: None,
            live: None,
            updated: SystemTime::now(),
            sections: Vec::new(),
        }
    }

    /// A status line under the title, with an extra CSS class of the frame (`training`,
    /// `warning`, or `""`).
    pub fn status(mut self, class: &str, status: Html) -> Page {
        self.status = Some((status, class.to_string()));
        self
    }

    /// Makes the page reload itself every `live.refresh_seconds` (a small inline script; a
    /// `<noscript>` meta refresh without scripts); once the page is older than
    /// `live.stale_after_seconds`, the script replaces the status line with `stale_text` (and
    /// the time since the update) and no longer reloads it.
    pub fn live(mut self, live: Liveness, stale_text: impl Into<String>) -> Page {
        self.live = Some((live, stale_text.into()));
        self
    }

    /// The time shown as the last update (default: when the page was made).
    pub fn updated(mut self, at: SystemTime) -> Page {
        self.updated = at;
        self
    }

    /// A section with a heading (an anchor from the title) and content; empty content is skipped.
    pub fn section(mut self, title: impl Into<String>, content: Html) -> Page {
        if !content.is_empty() {
            self.sections.push((title.into(), content));
        }
        self
    }

    /// The whole document.
    pub fn render(&self) -> String {
        let updated_ms = self
            .updated
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let mut out =
            String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        if let Some((live, _)) = &self.live {
            // Without scripts the page simply reloads; with them, the script below reloads it
            // only while it is fresh.
            let _ = writeln!(
                out,
                "<noscript><meta http-equiv=\"refresh\" content=\"{}\"></noscript>",
                live.refresh_seconds.max(1)
            );
        }
        let _ = writeln!(out, "<title>{}</title>", escape(&self.title));
        let _ = writeln!(out, "<style>{CSS}</style>\n</head>\n<body>");
        let _ = writeln!(out, "<header><h1>{}</h1>", escape(&self.title));
        if let Some((status, class)) = &self.status {
            let _ = writeln!(
                out,
                "<p id=\"status\" class=\"status {}\">{}</p>",
                escape(class),
                status.0
            );
        }
        let _ = writeln!(
            out,
            "<p class=\"muted\">last updated <time id=\"updated\" datetime=\"{0}\">{0}</time></p>",
            utc_timestamp(self.updated)
        );
        if self.sections.len() > 1 {
            out.push_str("<nav>");
            for (title, _) in &self.sections {
                let _ = write!(out, "<a href=\"#{}\">{}</a> ", anchor(title), escape(title));
            }
            out.push_str("</nav>\n");
        }
        out.push_str("</header>\n<main>\n");
        for (title, content) in &self.sections {
            let _ = writeln!(
                out,
                "<section id=\"{}\"><h2>{}</h2>\n{}\n</section>",
                anchor(title),
                escape(title),
                content.0
            );
        }
        out.push_str("</main>\n");
        if let Some((live, stale_text)) = &self.live {
            // Inline, no network: says when the page stopped being updated.
            let _ = writeln!(
                out,
                "<script>(function(){{var u={updated_ms},s={stale},r={refresh},t=\"{text}\";\
var age=(Date.now()-u)/1000;if(age>s){{var e=document.getElementById(\"status\");\
if(e){{e.className=\"status warning\";e.textContent=t+\" (last update \"+Math.round(age/60)+\" min ago)\";}}}}\
else{{setTimeout(function(){{location.reload();}},r*1000);}}}})();</script>",
                stale = live.stale_after_seconds,
                refresh = live.refresh_seconds.max(1),
                text = js_string(stale_text)
            );
        }
        out.push_str("</body>\n</html>\n");
        out
    }
}

/// `text` for a double-quoted JavaScript string inside a `<script>` element.
fn js_string(text: &str) -> String {
    let mut out = String::new();
    for ch in text.chars() {
        match ch {
            '"' | '\\' => {
                out.push('\\');
                out.push(ch);
            }
            '<' => out.push_str("\\u003c"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// A section anchor from its title: lowercase letters and digits, other runs as `-`.
fn anchor(title: &str) -> String {
    let mut out = String::new();
    for ch in title.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// `at` as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc_timestamp(at: SystemTime) -> String {
    let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3_600,
        rest / 60 % 60,
        rest % 60
    )
}

/// Every local file a page refers to (`src` and `href` values that are not anchors, `data:` or
/// URLs with a scheme), decoded, in order of appearance, each once.
pub fn local_references(page: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for attr in ["src=\"", "href=\""] {
        let mut rest = page;
        while let Some(at) = rest.find(attr) {
            rest = &rest[at + attr.len()..];
            let Some(end) = rest.find('"') else { break };
            let value = &rest[..end];
            let external = value.starts_with('#')
                || value.contains("://")
                || value.starts_with("data:")
                || value.starts_with("mailto:")
                || value.is_empty();
            let value = decode_url_path(value.split(['#', '?']).next().unwrap_or_default());
            if !external && !found.contains(&value) {
                found.push(value);
            }
        }
    }
    found
}

/// The page's style sheet: system fonts, light and dark, tables that scroll sideways.
const CSS: &str = "\
:root{color-scheme:light dark;--fg:#1d1f21;--bg:#fff;--muted:#666;--line:#ddd;--accent:#1f6feb;--warn:#b35900;--ok:#1a7f37}
@media (prefers-color-scheme:dark){:root{--fg:#e6e6e6;--bg:#16181a;--muted:#999;--line:#333;--accent:#58a6ff;--warn:#f0883e;--ok:#3fb950}}
body{font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:1180px;padding:12px 20px 40px}
h1{font-size:1.6em;margin:.4em 0 .1em}h2{font-size:1.2em;margin:1.6em 0 .5em;border-bottom:1px solid var(--line);padding-bottom:.2em}
a{color:var(--accent)}nav a{margin-right:.8em}
.muted{color:var(--muted);margin:.1em 0}.status{font-weight:600;margin:.3em 0}.status.training{color:var(--ok)}.warning,.status.warning{color:var(--warn)}
.scroll{overflow-x:auto}table{border-collapse:collapse;font-variant-numeric:tabular-nums;margin:.3em 0}
th,td{border:1px solid var(--line);padding:3px 8px;text-align:right;white-space:nowrap}th{background:rgba(127,127,127,.12)}
td:first-child,th:first-child,table.kv td{text-align:left}table.kv th{text-align:left;font-weight:500}
img{max-width:100%;height:auto;image-rendering:pixelated;border:1px solid var(--line)}
figure{display:inline-block;margin:4px 8px 10px 0;vertical-align:top;text-align:center}figcaption{font-size:.85em;color:var(--muted)}
.gallery{display:flex;flex-wrap:wrap;align-items:flex-start}.strip{display:flex;overflow-x:auto;gap:4px;padding-bottom:6px}.strip figure{margin:0}
.row{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}.plot img{image-rendering:auto;width:560px}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em}
";

/// Figures in one horizontally scrolling line (e.g. one grid per epoch).
pub fn strip(items: impl IntoIterator<Item = Html>) -> Html {
    Html::tag("div", Some("strip"), Html::concat(items))
}

/// Blocks side by side, wrapping when the window is narrow.
pub fn row(items: impl IntoIterator<Item = Html>) -> Html {
    Html::tag("div", Some("row"), Html::concat(items))
}

/// A chart image (smooth scaling, a fixed display width), captioned.
pub fn plot(src: &str, caption: &str) -> Html {
    Html::tag("div", Some("plot"), figure(src, caption, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn text_is_escaped_everywhere() {
        let t = table(&["a<b"], &[vec![Html::text("<script>&\"'")]]);
        assert!(t.as_str().contains("<th>a&lt;b</th>"));
        assert!(t.as_str().contains("&lt;script&gt;&amp;&quot;&#39;"));
        let f = figure("x/a b#1.png", "say \"hi\"", Some(10));
        assert!(f.as_str().contains("src=\"x/a%20b%231.png\""), "{f:?}");
        assert!(f.as_str().contains("alt=\"say &quot;hi&quot;\""));
        let page = Page::new("<t>").section("S", f).render();
        assert!(page.contains("<title>&lt;t&gt;</title>"));
        assert_eq!(local_references(&page), ["x/a b#1.png"]);
    }

    #[test]
    fn references_skip_anchors_and_urls() {
        let page =
            "<a href=\"#x\"></a><a href=\"https://e.org\"></a><img src=\"data:image/png;base64,\">\
                    <img src=\"a.png\"><a href=\"a.png\"></a><a href=\"b/report.html#top\"></a>";
        assert_eq!(local_references(page), ["a.png", "b/report.html"]);
    }

    #[test]
    fn live_pages_refresh_and_finished_ones_do_not() {
        let live = Liveness {
            refresh_seconds: 30,
            stale_after_seconds: 600,
        };
        let page = Page::new("run")
            .status("training", Html::text("training"))
            .live(live, "not training \"any more\"</script>")
            .render();
        assert!(page.contains("<noscript><meta http-equiv=\"refresh\" content=\"30\"></noscript>"));
        assert!(page.contains("s=600,r=30"));
        assert!(
            !page.contains("any more\"</script>"),
            "unescaped script text"
        );
        let done = Page::new("run").status("", Html::text("finished")).render();
        assert!(!done.contains("refresh") && !done.contains("<script>"));
        assert!(!done.contains("<nav>"));
    }

    #[test]
    fn timestamps_are_civil_utc() {
        assert_eq!(utc_timestamp(UNIX_EPOCH), "1970-01-01 00:00:00 UTC");
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400 + 3_723); // 2000-02-29 01:02:03
        assert_eq!(utc_timestamp(t), "2000-02-29 01:02:03 UTC");
        let t = UNIX_EPOCH + Duration::from_secs(1_735_689_599); // 2024-12-31 23:59:59
        assert_eq!(utc_timestamp(t), "2024-12-31 23:59:59 UTC");
    }

    #[test]
    fn anchors_and_url_paths() {
        assert_eq!(anchor("Class histogram & FID"), "class-histogram-fid");
        assert_eq!(url_path("runs/lr-2e-4/a.png"), "runs/lr-2e-4/a.png");
        assert_eq!(decode_url_path(&url_path("a b%#?.png")), "a b%#?.png");
    }
}
