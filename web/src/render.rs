//! Text rendered as HTML strings (set once as a `<pre>`'s innerHTML): YAML with highlighting and
//! diffs with folds, in one pass over the text. A view per line would cost thousands of DOM
//! nodes built one by one and much more wasm; every piece of text goes through [`escape`].

use std::fmt::Write;

/// `text` safe inside HTML elements and double-quoted attributes.
pub fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

fn span(class: &str, text: &str, out: &mut String) {
    let _ = write!(out, "<span class=\"{class}\">");
    escape(text, out);
    out.push_str("</span>");
}

/// Files larger than this are shown as plain text: highlighting them would cost more than it
/// helps (gotk-components.yaml is most of a megabyte).
pub const HIGHLIGHT_LIMIT: usize = 256 * 1024;

/// YAML as HTML: comments, document markers, keys and scalar values marked for the theme.
pub fn yaml(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    if text.len() > HIGHLIGHT_LIMIT {
        escape(text, &mut out);
        return out;
    }
    for line in text.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        yaml_line(body, &mut out);
        out.push_str(newline);
    }
    out
}

fn yaml_line(line: &str, out: &mut String) {
    let content = line.trim_start();
    let indent = &line[..line.len() - content.len()];
    if content.starts_with('#') {
        out.push_str(indent);
        return span("y-c", content, out);
    }
    if content == "---" || content == "..." {
        return span("y-d", line, out);
    }
    out.push_str(indent);
    let mut rest = content;
    while let Some(item) = rest.strip_prefix("- ") {
        out.push_str("- ");
        rest = item;
    }
    if rest == "-" {
        out.push('-');
        return;
    }
    let key_end = if rest.starts_with(['"', '\'']) {
        None
    } else {
        rest.find(": ")
            .or_else(|| rest.ends_with(':').then(|| rest.len() - 1))
    };
    match key_end {
        Some(end) => {
            span("y-k", &rest[..end], out);
            out.push(':');
            let value = &rest[end + 1..];
            let trimmed = value.trim_start();
            out.push_str(&value[..value.len() - trimmed.len()]);
            scalar(trimmed, out);
        }
        None => scalar(rest, out),
    }
}

fn scalar(value: &str, out: &mut String) {
    if value.is_empty() {
        return;
    }
    let class = if value.starts_with(['"', '\'']) {
        "y-s"
    } else if matches!(value, "true" | "false" | "null" | "~") || value.parse::<f64>().is_ok() {
        "y-n"
    } else if value.starts_with('#') {
        "y-c"
    } else {
        return escape(value, out);
    };
    span(class, value, out);
}

/// One row of a unified diff as the page shows it.
#[derive(Debug, PartialEq, Eq)]
pub enum Row<'a> {
    /// A file header (`--- a/…`, `+++ b/…`) or `\ No newline at end of file`.
    Meta(&'a str),
    /// An `@@ … @@` hunk header.
    Hunk(&'a str),
    /// Unchanged lines of the branch's file the diff leaves out: never hidden without saying so.
    Fold(usize),
    Same(&'a str),
    Removed(&'a str),
    Added(&'a str),
}

/// The rows of `diff` (a unified diff of a file of `old_lines` lines), with a [`Row::Fold`]
/// wherever lines of the file fall between, before or after the hunks.
pub fn diff_rows(diff: &str, old_lines: usize) -> Vec<Row<'_>> {
    let mut rows = Vec::new();
    let mut in_hunk = false;
    // The last line of the old file the rows so far cover.
    let mut covered = 0usize;
    for line in diff.lines() {
        if let Some(header) = line.strip_prefix("@@ -") {
            in_hunk = true;
            let old = header.split(' ').next().unwrap_or_default();
            let (start, len): (usize, usize) = match old.split_once(',') {
                Some((start, len)) => (start.parse().unwrap_or(0), len.parse().unwrap_or(0)),
                None => (old.parse().unwrap_or(0), 1),
            };
            // A hunk of no old lines sits after line `start`.
            let first = if len == 0 { start + 1 } else { start };
            let hidden = first.saturating_sub(covered + 1);
            if hidden > 0 {
                rows.push(Row::Fold(hidden));
            }
            covered = if len == 0 { start } else { start + len - 1 };
            rows.push(Row::Hunk(line));
        } else if !in_hunk || line.starts_with('\\') {
            rows.push(Row::Meta(line));
        } else if let Some(text) = line.strip_prefix('+') {
            rows.push(Row::Added(text));
        } else if let Some(text) = line.strip_prefix('-') {
            rows.push(Row::Removed(text));
        } else {
            rows.push(Row::Same(line.strip_prefix(' ').unwrap_or(line)));
        }
    }
    if in_hunk && old_lines > covered {
        rows.push(Row::Fold(old_lines - covered));
    }
    rows
}

fn fold(hidden: usize, out: &mut String) {
    let lines = if hidden == 1 { "line" } else { "lines" };
    let _ = write!(
        out,
        "<button type=\"button\" class=\"line fold\" data-fold=\"{hidden}\">⋯ {hidden} unchanged {lines}</button>"
    );
}

/// The rows one under the other, each with its `+`, `-` or space.
pub fn unified(rows: &[Row]) -> String {
    let mut out = String::new();
    for row in rows {
        match row {
            Row::Meta(text) => span("line meta", text, &mut out),
            Row::Hunk(text) => span("line hunk", text, &mut out),
            Row::Fold(hidden) => fold(*hidden, &mut out),
            Row::Same(text) => span("line", &format!(" {text}"), &mut out),
            Row::Removed(text) => span("line del", &format!("-{text}"), &mut out),
            Row::Added(text) => span("line add", &format!("+{text}"), &mut out),
        }
        out.push('\n');
    }
    out
}

/// The branch's lines on the left, the generated ones on the right, removed and added lines
/// side by side.
pub fn split(rows: &[Row]) -> String {
    let mut out = String::new();
    let mut index = 0;
    while index < rows.len() {
        match &rows[index] {
            Row::Meta(_) => {}
            Row::Hunk(text) => span("wide hunk", text, &mut out),
            Row::Fold(hidden) => fold(*hidden, &mut out),
            Row::Same(text) => {
                span("cell", text, &mut out);
                span("cell", text, &mut out);
            }
            Row::Removed(_) | Row::Added(_) => {
                let removed: Vec<&str> = rows[index..]
                    .iter()
                    .map_while(|r| match r {
                        Row::Removed(text) => Some(*text),
                        _ => None,
                    })
                    .collect();
                let added: Vec<&str> = rows[index + removed.len()..]
                    .iter()
                    .map_while(|r| match r {
                        Row::Added(text) => Some(*text),
                        _ => None,
                    })
                    .collect();
                for pair in 0..removed.len().max(added.len()) {
                    match removed.get(pair) {
                        Some(text) => span("cell del", text, &mut out),
                        None => out.push_str("<span class=\"cell none\"></span>"),
                    }
                    match added.get(pair) {
                        Some(text) => span("cell add", text, &mut out),
                        None => out.push_str("<span class=\"cell none\"></span>"),
                    }
                }
                index += removed.len() + added.len();
                continue;
            }
        }
        index += 1;
    }
    out
}
