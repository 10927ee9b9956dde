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

use crate::release::GeneratedFile;

#[wasm_bindgen(inline_js = r#"
let git = null;
export function read_branch(key, url, branch, token, paths) {
  return import('/git.js').then((module) => {
    git = module;
    return module.readBranch(key, url, branch, token, paths);
  });
}
export function unified_diff(path, oldText, newText) {
  return git ? git.unifiedDiff(path, oldText, newText) : undefined;
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
    fn unified_diff_js(path: &str, old: &str, new: &str) -> Option<String>;
}

/// The unified diff of the branch's `old` to the generated `new` (`a/`, `b/` headers, 3 lines of
/// context); empty when they are equal. A new file needs no algorithm: every line is added.
fn unified_diff(path: &str, old: Option<&str>, new: &str) -> String {
    match old {
        Some(old) if old == new => String::new(),
        // The branch was read, so the module that diffs is loaded.
        Some(old) => unified_diff_js(path, old, new).unwrap_or_default(),
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
            Some(old) if old == file.content => Change::Unchanged,
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

/// The "N added · M changed · K unchanged" line over every file, once all are known.
pub fn counts(base: &Base, files: &[GeneratedFile]) -> Option<String> {
    let mut counts = [0usize; 3];
    for file in files {
        let index = match base.change(file)? {
            Change::Added => 0,
            Change::Changed => 1,
            Change::Unchanged => 2,
        };
        counts[index] += 1;
    }
    Some(format!(
        "{} added · {} changed · {} unchanged",
        counts[0], counts[1], counts[2]
    ))
}

/// The longest diff shown line by line (a new gotk-components.yaml has thousands).
const MAX_LINES: usize = 2000;

/// The selected file's diff against the branch, with the branch's state (loading, error with
/// Retry, nothing to compare with) when there is no diff to show.
#[component]
pub fn DiffView(
    files: Arc<Vec<GeneratedFile>>,
    selected: RwSignal<usize>,
    base: Memo<Base>,
    retry: Callback<()>,
) -> impl IntoView {
    let summary = {
        let files = files.clone();
        move || base.with(|base| counts(base, &files))
    };
    let diff = {
        let files = files.clone();
        Memo::new(move |_| -> Option<(Change, String)> {
            let file = files.get(selected.get())?;
            base.with(|base| {
                let change = base.change(file)?;
                let old = base.old(&file.path)?;
                Some((change, unified_diff(&file.path, old, &file.content)))
            })
        })
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
            let lines = move || match diff.get() {
                None => view! { <p class="hint">"Reading…"</p> }.into_any(),
                Some((Change::Unchanged, _)) => view! {
                    <p class="ok">"✔ No change: the branch holds exactly this file."</p>
                }
                .into_any(),
                Some((change, text)) => {
                    let total = text.lines().count();
                    let shown = text
                        .lines()
                        .take(MAX_LINES)
                        .map(|line| {
                            let class = if line.starts_with("+++") || line.starts_with("---") {
                                "line meta"
                            } else if line.starts_with("@@") {
                                "line hunk"
                            } else if line.starts_with('+') {
                                "line add"
                            } else if line.starts_with('-') {
                                "line del"
                            } else {
                                "line"
                            };
                            view! { <span class=class>{line.to_string()}</span> "\n" }
                        })
                        .collect_view();
                    let more = (total > MAX_LINES).then(|| {
                        view! { <p class="hint">{format!("… {} more lines not shown.", total - MAX_LINES)}</p> }
                    });
                    view! {
                        <p class="hint">{match change {
                            Change::Added => "A new file: every line is added.",
                            _ => "Lines marked − are removed from the branch, + are added.",
                        }}</p>
                        <pre class="diff" tabindex="0" aria-label="Diff">{shown}</pre>
                        {more}
                    }
                    .into_any()
                }
            };
            view! { <p class="hint">{what}</p> {lines} }.into_any()
        }
    };
    view! {
        <div class="diff-view" data-testid="diff" data-change=move || diff.get().map(|(c, _)| c.label())>
            <p class="counts" data-testid="diff-counts">{summary}</p>
            {body}
        </div>
    }
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
