//! The fluxstrap page. Every field is validated by `fluxstrap-core` (compiled to wasm) as the
//! user types, and the files are generated in the browser by the same code the server and the
//! CLI run, from the Flux release the server offers.

mod bitbucket;
mod release;

use fluxstrap_core::options::{
    BranchName, GitUrl, Interval, Namespace, RelativePath, deploy_key_label,
};
use fluxstrap_core::sync::DEFAULT_SECRET_NAME;
use leptos::prelude::*;

use release::{FormOptions, GeneratedFile, generate_files, load_release};

const DEFAULT_URL: &str = "ssh://git@bitbucket.example.com:7999/PRJ/fleet-infra";

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

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// The generated files with a viewer for the selected one.
#[component]
fn Files(files: Vec<GeneratedFile>, elapsed_ms: f64) -> impl IntoView {
    let selected = RwSignal::new(1usize);
    let contents: Vec<String> = files.iter().map(|f| f.content.clone()).collect();
    let rows = files
        .into_iter()
        .enumerate()
        .map(|(index, file)| {
            let id = file
                .path
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .trim_end_matches(".yaml")
                .to_string();
            view! {
                <tr class:selected=move || selected.get() == index>
                    <td>
                        <button type="button" id=format!("show-{id}") on:click=move |_| selected.set(index)>
                            <code>{file.path.clone()}</code>
                        </button>
                    </td>
                    <td class="size">{format!("{} B", file.content.len())}</td>
                    <td><code id=format!("sha256-{id}") title="sha256">{file.sha256.clone()}</code></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p id="generation-time" class="hint">{format!("generated in the browser in {elapsed_ms:.1} ms")}</p>
        <table id="files">
            <thead><tr><th>"File"</th><th>"Size"</th><th>"sha256"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
        <pre id="file-content">{move || contents.get(selected.get()).cloned().unwrap_or_default()}</pre>
    }
}

#[component]
pub fn App() -> impl IntoView {
    let namespace = RwSignal::new(Namespace::DEFAULT.to_string());
    let branch = RwSignal::new(BranchName::DEFAULT.to_string());
    let path = RwSignal::new("clusters/my-cluster".to_string());
    let interval = RwSignal::new(Interval::DEFAULT.to_string());
    let url = RwSignal::new(DEFAULT_URL.to_string());

    let parsed_namespace = validated(namespace, Namespace::parse);
    let parsed_branch = validated(branch, BranchName::parse);
    let parsed_path = validated(path, RelativePath::parse);
    let parsed_interval = validated(interval, Interval::parse);
    let parsed_url = validated(url, GitUrl::parse);

    let options = Memo::new(move |_| {
        Some(FormOptions {
            namespace: parsed_namespace.get().ok()?,
            branch: parsed_branch.get().ok()?,
            path: parsed_path.get().ok()?,
            interval: parsed_interval.get().ok()?,
            url: parsed_url.get().ok()?,
        })
    });

    let release = LocalResource::new(load_release);

    let generated = move || {
        let options = options.get()?;
        let release = release.get()?;
        Some(release.map(|release| {
            let started = now_ms();
            let files = generate_files(&release, &options);
            (release.version.clone(), files, now_ms() - started)
        }))
    };

    let summary = move || {
        let options = options.get()?;
        Some((
            deploy_key_label(
                &options.namespace,
                &options.branch,
                DEFAULT_SECRET_NAME,
                Some(&options.path),
            ),
            options.path.to_string(),
            options.interval.to_string(),
        ))
    };

    // The token stays in this signal: never stored, never sent anywhere but the relay.
    let token = RwSignal::new(String::new());
    let connection = RwSignal::new(None::<Result<String, String>>);
    let connect = move |_| {
        let token = token.get_untracked();
        connection.set(Some(Ok("Connecting…".to_string())));
        leptos::task::spawn_local(async move {
            connection.set(Some(bitbucket::connect(token).await));
        });
    };

    view! {
        <header>
            <h1>"fluxstrap"</h1>
            <p class="tagline">"Bootstrap Flux from a Bitbucket Server repository"</p>
        </header>
        <main>
            <form id="options" on:submit=|ev| ev.prevent_default()>
                <h2>"Bitbucket Server"</h2>
                <div class="field">
                    <label for="token">"HTTP access token"</label>
                    <input id="token" type="password" autocomplete="off"
                        prop:value=move || token.get()
                        on:input=move |ev| token.set(event_target_value(&ev))/>
                    <p class="hint">"Used for this page's requests only; never stored."</p>
                    <button type="button" id="connect" on:click=connect>"Connect"</button>
                    <p id="bitbucket-status" class:error=move || matches!(connection.get(), Some(Err(_)))>
                        {move || match connection.get() {
                            Some(Ok(text)) | Some(Err(text)) => text,
                            None => String::new(),
                        }}
                    </p>
                </div>
                <h2>"Flux options"</h2>
                <Field name="namespace" label="Namespace" hint="Kubernetes namespace of the Flux controllers (a DNS label)."
                    value=namespace error=error_of(parsed_namespace)/>
                <Field name="branch" label="Branch" hint="Git branch Flux syncs from."
                    value=branch error=error_of(parsed_branch)/>
                <Field name="path" label="Path" hint="Directory of this cluster in the repository."
                    value=path error=error_of(parsed_path)/>
                <Field name="interval" label="Interval" hint="How often Flux fetches the branch (Go duration: 1m, 30s, 1h)."
                    value=interval error=error_of(parsed_interval)/>
                <Field name="url" label="Repository URL" hint="What the cluster clones: ssh://git@host:7999/KEY/repo (deploy key) or https://host/scm/KEY/repo.git (token)."
                    value=url error=error_of(parsed_url)/>
            </form>
            <section id="preview" aria-live="polite" class:stale=move || options.get().is_none()>
                <h2>"Preview"</h2>
                {move || match summary() {
                    Some((label, sync_path, interval)) => view! {
                        <dl>
                            <dt>"Deploy key label"</dt>
                            <dd id="preview-label"><code>{label}</code></dd>
                            <dt>"Kustomization path"</dt>
                            <dd id="preview-path"><code>{sync_path}</code></dd>
                            <dt>"Sync interval"</dt>
                            <dd id="preview-interval"><code>{interval}</code></dd>
                        </dl>
                    }.into_any(),
                    None => view! {
                        <p id="preview-invalid">"Fix the highlighted fields to see the preview."</p>
                    }.into_any(),
                }}
                <h3>"Files written to git"</h3>
                {move || match generated() {
                    None => view! { <p id="files-status" class="hint">"Loading the Flux release…"</p> }.into_any(),
                    Some(Err(error)) => view! { <p id="files-error" class="error">{error}</p> }.into_any(),
                    Some(Ok((version, Ok(files), elapsed))) => view! {
                        <p class="hint">"Flux " <span id="flux-version">{version}</span>
                            " — an existing kustomization.yaml is kept as it is."</p>
                        <Files files=files elapsed_ms=elapsed/>
                    }.into_any(),
                    Some(Ok((_, Err(error), _))) => view! { <p id="files-error" class="error">{error}</p> }.into_any(),
                }}
            </section>
        </main>
    }
}
