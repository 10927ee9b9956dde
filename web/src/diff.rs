//! Each previewed file's diff against what the target branch holds. The branch is read with
//! isomorphic-git (`/git.js`, one ES module esbuild bundles from `web/js/git-entry.js`),
//! imported only when a diff is first needed, over the server's read-only git relay
//! (`/api/git/{server}/scm/{PROJECT}/{slug}.git`) with the in-memory token in an Authorization
//! header. Changed files are diffed by jsdiff in the same module (already loaded once the branch
//! was read), so the page's first download carries no diff algorithm.

use std::collections::HashMap;
use std::sync::Arc;

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::prefs::{DiffLayout, Folding, Preference};
use crate::release::GeneratedFile;
use crate::render;

#[wasm_bindgen(inline_js = r#"
let git = null;
export function read_branch(key, url, branch, token, paths) {
  return import('/git.js').then((module) => {
    git = module;
    return module.readBranch(key, url, branch, token, paths);
  });
}
export function unified_diff(path, oldText, newText, context) {
  return git ? git.unifiedDiff(path, oldText, newText, context) : undefined;
}
"#)]
extern "C" {
    /// `readBranch` of `/git.js`, the module imported on the first call.
    #[wasm_bindgen(js_name = read_branch)]
    fn read_branch_js(
        key: &str,
        url: &str,
        branch: &str,
        token: &str,
        paths: js_sys::Array,
    ) -> js_sys::Promise;

    /// `unifiedDiff` of `/git.js`; `None` before the module was loaded.
    #[wasm_bindgen(js_name = unified_diff)]
    fn unified_diff_js(path: &str, old: &str, new: &str, context: u32) -> Option<String>;
}

/// The unified diff of the branch's `old` to the generated `new` (`a/`, `b/` headers, `context`
/// lines around each change); empty when they are equal. A new file needs no algorithm: every
/// line is added.
fn unified_diff(path: &str, old: Option<&str>, new: &str, context: u32) -> String {
    match old {
        Some(old) if old == new => String::new(),
        // The branch was read, so the module that diffs is loaded.
        Some(old) => unified_diff_js(path, old, new, context).unwrap_or_default(),
        None => {
            let added: String = new.lines().map(|line| format!("+{line}\n")).collect();
            format!(
                "--- /dev/null\n+++ b/{path}\n@@ -0,0 +1,{} @@\n{added}",
                new.lines().count()
            )
        }
    }
}

/// What the previewed files are compared with.
#[derive(Clone, PartialEq, Debug)]
pub enum Target {
    /// Nothing to compare with yet, and why (not connected, the repository being looked up).
    Waiting(String),
    /// Nothing on the branch: every file is new (why: no repository, an empty one, a new branch).
    Nothing(String),
    /// This branch, read over the relay.
    Branch {
        server: String,
        project: String,
        slug: String,
        branch: String,
    },
}

impl Target {
    fn describe(&self) -> String {
        match self {
            Target::Branch {
                project,
                slug,
                branch,
                ..
            } => format!("branch {branch} of {project}/{slug}"),
            Target::Waiting(why) | Target::Nothing(why) => why.clone(),
        }
    }
}

/// What a branch holds at the previewed paths (`None`: not there).
#[derive(Clone, PartialEq, Debug, Default)]
pub struct BranchFiles {
    pub commit: Option<String>,
    pub files: HashMap<String, Option<String>>,
}

/// The branch side of the comparison, as the page shows it.
#[derive(Clone, PartialEq, Debug)]
pub enum Base {
    Waiting(String),
    Reading(String),
    Failed(String),
    /// Compared with `what`; `files` is `None` when there is nothing there (every file is new).
    Ready {
        what: String,
        files: Option<Arc<HashMap<String, Option<String>>>>,
    },
}

impl Base {
    /// What the branch holds at `path`: `Some(None)` when it does not hold it, `None` while not
    /// known.
    fn old(&self, path: &str) -> Option<Option<&str>> {
        match self {
            Base::Ready { files: None, .. } => Some(None),
            Base::Ready {
                files: Some(files), ..
            } => files.get(path).map(|old| old.as_deref()),
            _ => None,
        }
    }

    /// How `file` differs from the branch, once known.
    pub fn change(&self, file: &GeneratedFile) -> Option<Change> {
        Some(match self.old(&file.path)? {
            None => Change::Added,
            Some(old) if old == &*file.content => Change::Unchanged,
            Some(_) => Change::Changed,
        })
    }
}

/// How a generated file differs from the branch.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Change {
    Added,
    Changed,
    Unchanged,
}

impl Change {
    pub fn label(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Changed => "changed",
            Change::Unchanged => "unchanged",
        }
    }

    /// Terraform's symbols, so a change reads without its colour.
    pub fn symbol(self) -> &'static str {
        match self {
            Change::Added => "+",
            Change::Changed => "~",
            Change::Unchanged => "=",
        }
    }
}

/// Percent-encodes one path segment.
fn segment(text: &str) -> String {
    String::from(js_sys::encode_uri_component(text))
}

fn js_error(error: JsValue) -> String {
    if let Some(error) = error.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    error
        .as_string()
        .unwrap_or_else(|| "the git reader failed".to_string())
}

/// Reads `paths` on `target`'s branch (`generation` names the clone to reuse: another one
/// clones again). Only a [`Target::Branch`] loads the git reader.
pub async fn read(
    target: Target,
    paths: Vec<String>,
    token: String,
    generation: u32,
) -> Result<BranchFiles, String> {
    let Target::Branch {
        server,
        project,
        slug,
        branch,
    } = target
    else {
        return Ok(BranchFiles::default());
    };
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .ok_or("the page has no origin")?;
    let url = format!(
        "{origin}/api/git/{}/scm/{}/{}.git",
        segment(&server),
        segment(&project),
        segment(&slug)
    );
    let key = format!("{generation}\n{url}\n{branch}");
    let array: js_sys::Array = paths.iter().map(|p| JsValue::from_str(p)).collect();
    let answer =
        wasm_bindgen_futures::JsFuture::from(read_branch_js(&key, &url, &branch, &token, array))
            .await
            .map_err(js_error)?;
    let field = |name: &str| js_sys::Reflect::get(&answer, &JsValue::from_str(name));
    let commit = field("commit").ok().and_then(|c| c.as_string());
    let contents: js_sys::Array = field("files")
        .map_err(js_error)?
        .dyn_into()
        .map_err(|_| "the git reader gave no files".to_string())?;
    let files = paths
        .into_iter()
        .zip(contents.iter())
        .map(|(path, content)| (path, content.as_string()))
        .collect();
    Ok(BranchFiles { commit, files })
}

/// The base as the page shows it, from the target and the last read.
pub fn base_of(target: &Target, read: Option<Result<BranchFiles, String>>) -> Base {
    match target {
        Target::Waiting(why) => Base::Waiting(why.clone()),
        Target::Nothing(why) => Base::Ready {
            what: why.clone(),
            files: None,
        },
        Target::Branch { .. } => match read {
            None => Base::Reading(format!("Reading {}…", target.describe())),
            Some(Err(error)) => Base::Failed(format!("Cannot read {}: {error}", target.describe())),
            Some(Ok(read)) => {
                let at = read
                    .commit
                    .as_deref()
                    .map(|c| format!(" at {}", &c[..c.len().min(7)]))
                    .unwrap_or_default();
                let what = match read.commit {
                    Some(_) => format!("Compared with {}{at}.", target.describe()),
                    None => format!("Nothing on {} yet: every file is new.", target.describe()),
                };
                Base::Ready {
                    what,
                    files: Some(Arc::new(read.files)),
                }
            }
        },
    }
}

/// How many files are added, changed and unchanged, once all are known.
pub fn tally(base: &Base, files: &[GeneratedFile]) -> Option<[usize; 3]> {
    let mut counts = [0usize; 3];
    for file in files {
        let index = match base.change(file)? {
            Change::Added => 0,
            Change::Changed => 1,
            Change::Unchanged => 2,
        };
        counts[index] += 1;
    }
    Some(counts)
}

/// The "+ N added · ~ M changed · − 0 removed · = K unchanged" line: symbols as well as colours
/// (a bootstrap never removes a file).
pub fn counts(base: &Base, files: &[GeneratedFile]) -> Option<String> {
    let [added, changed, unchanged] = tally(base, files)?;
    Some(format!(
        "+ {added} added · ~ {changed} changed · − 0 removed · = {unchanged} unchanged"
    ))
}

/// The most diff rows shown (a new gotk-components.yaml has thousands of lines).
const MAX_ROWS: usize = 2000;
/// Lines of context around each change while unchanged regions are folded.
const CONTEXT: u32 = 3;
/// A screen narrower than this (CSS pixels) always gets the unified layout.
const SPLIT_MIN_WIDTH: f64 = 720.0;

fn narrow_screen() -> bool {
    web_sys::window()
        .and_then(|w| w.inner_width().ok())
        .and_then(|w| w.as_f64())
        .is_some_and(|w| w < SPLIT_MIN_WIDTH)
}

/// The selected file's diff against the branch, with the branch's state (loading, error with
/// Retry, nothing to compare with) when there is no diff to show.
#[component]
pub fn DiffView(
    files: Arc<Vec<GeneratedFile>>,
    selected: RwSignal<usize>,
    base: Memo<Base>,
    retry: Callback<()>,
    layout: RwSignal<DiffLayout>,
    folding: RwSignal<Folding>,
    narrow: RwSignal<bool>,
) -> impl IntoView {
    let summary = {
        let files = files.clone();
        move || base.with(|base| counts(base, &files))
    };
    let diff = {
        let files = files.clone();
        Memo::new(move |_| -> Option<(Change, String, usize)> {
            let file = files.get(selected.get())?;
            let context = match folding.get() {
                Folding::Collapsed => CONTEXT,
                Folding::Expanded => u32::MAX,
            };
            base.with(|base| {
                let change = base.change(file)?;
                let old = base.old(&file.path)?;
                let old_lines = old.map_or(0, |old| old.lines().count());
                Some((
                    change,
                    unified_diff(&file.path, old, &file.content, context),
                    old_lines,
                ))
            })
        })
    };
    let split_shown = move || layout.get() == DiffLayout::Split && !narrow.get();
    let html = Memo::new(move |_| {
        diff.with(|diff| {
            let (_, text, old_lines) = diff.as_ref()?;
            let rows = render::diff_rows(text, *old_lines);
            let total = rows.len();
            let rows = &rows[..total.min(MAX_ROWS)];
            let html = if split_shown() {
                render::split(rows)
            } else {
                render::unified(rows)
            };
            Some((html, total.saturating_sub(MAX_ROWS)))
        })
    });
    // A fold's button (inside the HTML) expands every unchanged region.
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let folded = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|e| e.has_attribute("data-fold"));
        if folded {
            folding.set(Folding::Expanded);
        }
    };
    let toolbar = move || {
        view! {
            <div class="diff-tools" role="group" aria-label="Diff display">
                <button type="button" class="secondary small" data-testid="diff-layout"
                    aria-pressed=move || (layout.get() == DiffLayout::Split).to_string()
                    disabled=move || narrow.get()
                    title=move || if narrow.get() { "Split needs a wider screen" } else { "Show the branch and the generated file side by side" }
                    on:click=move |_| layout.update(|l| *l = l.next())>
                    "Split view"
                </button>
                <button type="button" class="secondary small" data-testid="diff-folding"
                    aria-pressed=move || (folding.get() == Folding::Expanded).to_string()
                    on:click=move |_| folding.update(|f| *f = f.next())>
                    {move || match folding.get() { Folding::Collapsed => "Expand all", Folding::Expanded => "Collapse unchanged" }}
                </button>
            </div>
        }
    };
    let body = move || match base.get() {
        Base::Waiting(why) => view! { <p class="hint">{why}</p> }.into_any(),
        Base::Reading(what) => {
            view! { <p class="hint loading-inline" data-testid="diff-loading">{what}</p> }
                .into_any()
        }
        Base::Failed(error) => view! {
            <div class="diff-error" role="alert" data-testid="diff-error">
                <p class="error">{error}</p>
                <button type="button" class="secondary small" data-testid="diff-retry"
                    on:click=move |_| retry.run(())>"Retry"</button>
            </div>
        }
        .into_any(),
        Base::Ready { what, .. } => {
            let lines = move || match diff.with(|d| d.as_ref().map(|(change, _, _)| *change)) {
                None => view! { <p class="hint">"Reading…"</p> }.into_any(),
                Some(Change::Unchanged) => view! {
                    <p class="ok">"✔ No change: the branch holds exactly this file."</p>
                }
                .into_any(),
                Some(change) => {
                    let (markup, more) = html.get().unwrap_or_default();
                    let more = (more > 0).then(|| {
                        view! { <p class="hint">{format!("… {more} more lines not shown.")}</p> }
                    });
                    view! {
                        <p class="hint">{match change {
                            Change::Added => "A new file: every line is added.",
                            _ => "Lines marked − are removed from the branch, + are added.",
                        }}</p>
                        {(change == Change::Changed).then(toolbar)}
                        <pre class="diff" class:split=split_shown tabindex="0" aria-label="Diff"
                            on:click=on_click inner_html=markup></pre>
                        {more}
                    }
                    .into_any()
                }
            };
            view! { <p class="hint">{what}</p> {lines} }.into_any()
        }
    };
    view! {
        <div class="diff-view" data-testid="diff" data-change=move || diff.with(|d| d.as_ref().map(|(c, _, _)| c.label()))>
            <p class="counts" data-testid="diff-counts">{summary}</p>
            {body}
        </div>
    }
}

/// Whether the screen is too narrow for a split diff, kept up to date on resize.
pub fn narrow_signal() -> RwSignal<bool> {
    let narrow = RwSignal::new(narrow_screen());
    let handle = window_event_listener(leptos::ev::resize, move |_| {
        let now = narrow_screen();
        if narrow.get_untracked() != now {
            narrow.set(now);
        }
    });
    on_cleanup(move || handle.remove());
    narrow
}

thread_local! {
    static GENERATION: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// A generation no read used yet: the branch is cloned again for it.
pub fn next_generation() -> u32 {
    GENERATION.with(|g| {
        g.set(g.get().wrapping_add(1));
        g.get()
    })
}
