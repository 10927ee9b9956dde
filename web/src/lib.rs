//! The fluxstrap page. Every field is validated by `fluxstrap-core` (compiled to wasm) as the
//! user types, and the preview is computed by the same code the server and the CLI run.

use fluxstrap_core::options::{BranchName, Interval, Namespace, RelativePath, deploy_key_label};
use leptos::prelude::*;

/// The secret name flux uses unless `--secret-name` says otherwise.
const DEFAULT_SECRET_NAME: &str = "flux-system";

/// One form field: its input, and the message `core` gives for the current value.
#[component]
fn Field(
    /// Machine name; also the element ids `<name>` and `<name>-error` that tests select by.
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    value: RwSignal<String>,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let error_id = format!("{name}-error");
    view! {
        <div class="field" class:invalid=move || error.get().is_some()>
            <label for=name>{label}</label>
            <input
                id=name
                name=name
                type="text"
                autocomplete="off"
                spellcheck="false"
                aria-describedby=error_id.clone()
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
            <p class="hint">{hint}</p>
            <p id=error_id class="error" role="alert">
                {move || error.get().unwrap_or_default()}
            </p>
        </div>
    }
}

/// Runs a `core` parser on a signal's value, keeping the parsed value or the error text.
fn validated<T: Clone + Send + Sync + PartialEq + 'static>(
    input: RwSignal<String>,
    parse: fn(&str) -> fluxstrap_core::Result<T>,
) -> Memo<Result<T, String>> {
    Memo::new(move |_| parse(&input.get()).map_err(|e| e.to_string()))
}

fn error_of<T: Clone + Send + Sync + PartialEq + 'static>(
    parsed: Memo<Result<T, String>>,
) -> Signal<Option<String>> {
    Signal::derive(move || parsed.get().err())
}

#[component]
pub fn App() -> impl IntoView {
    let namespace = RwSignal::new(Namespace::DEFAULT.to_string());
    let branch = RwSignal::new(BranchName::DEFAULT.to_string());
    let path = RwSignal::new("clusters/my-cluster".to_string());
    let interval = RwSignal::new(Interval::DEFAULT.to_string());

    let parsed_namespace = validated(namespace, Namespace::parse);
    let parsed_branch = validated(branch, BranchName::parse);
    let parsed_path = validated(path, RelativePath::parse);
    let parsed_interval = validated(interval, Interval::parse);

    let all_valid = move || {
        parsed_namespace.get().is_ok()
            && parsed_branch.get().is_ok()
            && parsed_path.get().is_ok()
            && parsed_interval.get().is_ok()
    };

    let preview = move || {
        let (Ok(ns), Ok(branch), Ok(path), Ok(interval)) = (
            parsed_namespace.get(),
            parsed_branch.get(),
            parsed_path.get(),
            parsed_interval.get(),
        ) else {
            return None;
        };
        Some(Preview {
            label: deploy_key_label(&ns, &branch, DEFAULT_SECRET_NAME, Some(&path)),
            sync_path: path.to_string(),
            components_file: path.file_in(&ns, "gotk-components.yaml"),
            sync_file: path.file_in(&ns, "gotk-sync.yaml"),
            kustomization_file: path.file_in(&ns, "kustomization.yaml"),
            interval: interval.to_string(),
        })
    };

    view! {
        <header>
            <h1>"fluxstrap"</h1>
            <p class="tagline">"Bootstrap Flux from a Bitbucket Server repository"</p>
        </header>
        <main>
            <form id="options" on:submit=|ev| ev.prevent_default()>
                <h2>"Flux options"</h2>
                <Field name="namespace" label="Namespace" hint="Kubernetes namespace of the Flux controllers (a DNS label)."
                    value=namespace error=error_of(parsed_namespace)/>
                <Field name="branch" label="Branch" hint="Git branch Flux syncs from."
                    value=branch error=error_of(parsed_branch)/>
                <Field name="path" label="Path" hint="Directory of this cluster in the repository."
                    value=path error=error_of(parsed_path)/>
                <Field name="interval" label="Interval" hint="How often Flux fetches the branch (Go duration: 1m, 30s, 1h)."
                    value=interval error=error_of(parsed_interval)/>
            </form>
            <section id="preview" aria-live="polite" class:stale=move || !all_valid()>
                <h2>"Preview"</h2>
                {move || match preview() {
                    Some(p) => view! {
                        <dl>
                            <dt>"Deploy key label"</dt>
                            <dd id="preview-label"><code>{p.label}</code></dd>
                            <dt>"Kustomization path"</dt>
                            <dd id="preview-path"><code>{p.sync_path}</code></dd>
                            <dt>"Sync interval"</dt>
                            <dd id="preview-interval"><code>{p.interval}</code></dd>
                            <dt>"Files written"</dt>
                            <dd id="preview-files">
                                <code>{p.components_file}</code><br/>
                                <code>{p.sync_file}</code><br/>
                                <code>{p.kustomization_file}</code>
                                " (created only if absent; an existing one is kept as is)"
                            </dd>
                        </dl>
                    }.into_any(),
                    None => view! {
                        <p id="preview-invalid">"Fix the highlighted fields to see the preview."</p>
                    }.into_any(),
                }}
            </section>
        </main>
    }
}

#[derive(Clone)]
struct Preview {
    label: String,
    sync_path: String,
    components_file: String,
    sync_file: String,
    kustomization_file: String,
    interval: String,
}
