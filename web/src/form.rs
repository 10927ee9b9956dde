//! The new-bootstrap page: connect, target, options, preview, plan, bootstrap.

use std::sync::Arc;

use fluxstrap_core::bitbucket::{ProjectKey, RepoName, Repository};
use fluxstrap_core::bootstrap::{FLAGS, FlagKind, FlagSpec, target};
use fluxstrap_core::install::InstallOptions;
use fluxstrap_core::sync::SyncOptions;
use leptos::prelude::*;
use serde_json::{Value, json};

use crate::bitbucket::{ProjectChoice, Relay, RepositoryState};
use crate::diff::{Base, Change, DiffView, Target, base_of};
use crate::prefs::{DiffLayout, Folding};
use crate::release::{
    Components, GeneratedFile, generate_components, generate_files, load_release,
};
use crate::session;
use crate::validate::{Checked, Problem, body_flags, check, offered};

/// The flags in the Target section, in order.
const TARGET: [&str; 5] = ["owner", "personal", "repository", "branch", "path"];
/// The options most people look at; every other offered flag is under "Advanced".
const COMMON: [&str; 8] = [
    "version",
    "namespace",
    "interval",
    "components-extra",
    "token-auth",
    "private",
    "group",
    "read-write-key",
];
/// What the preview assumes while the owner or the repository is not chosen yet.
const PLACEHOLDER_OWNER: &str = "PROJECT";
const PLACEHOLDER_REPOSITORY: &str = "fleet-infra";

/// The form's values, kept while the user looks elsewhere.
#[derive(Clone, Copy)]
pub struct FormState {
    fields: StoredValue<Vec<(&'static FlagSpec, RwSignal<String>)>>,
    cluster: RwSignal<String>,
    project: RwSignal<Option<ProjectChoice>>,
    projects: RwSignal<Vec<ProjectChoice>>,
    owner_problem: RwSignal<Option<String>>,
    repository: RwSignal<RepositoryState>,
    touched: RwSignal<Vec<&'static str>>,
}

impl FormState {
    pub fn new() -> Self {
        Self {
            fields: StoredValue::new(
                FLAGS
                    .iter()
                    .filter(|s| offered(s))
                    .map(|s| (s, RwSignal::new(s.default.to_string())))
                    .collect(),
            ),
            cluster: RwSignal::new(String::new()),
            project: RwSignal::new(None),
            projects: RwSignal::new(Vec::new()),
            owner_problem: RwSignal::new(None),
            repository: RwSignal::new(RepositoryState::Unknown),
            touched: RwSignal::new(Vec::new()),
        }
    }

    fn field(&self, name: &str) -> RwSignal<String> {
        self.fields.with_value(|fields| {
            fields
                .iter()
                .find(|(spec, _)| spec.name == name)
                .map(|(_, value)| *value)
                .unwrap_or_else(|| panic!("the form has no field {name}"))
        })
    }

    fn spec(name: &str) -> &'static FlagSpec {
        FLAGS
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no flag {name}"))
    }

    /// Every value, as the body's `flags` (defaults left out; the version always in).
    fn flags(&self) -> serde_json::Map<String, Value> {
        let values: Vec<(&'static FlagSpec, String)> = self
            .fields
            .with_value(|fields| fields.iter().map(|(s, v)| (*s, v.get())).collect());
        let mut flags = body_flags(&values);
        flags.insert("version".into(), Value::String(self.field("version").get()));
        flags
    }

    /// The project key the target belongs to, when known.
    fn project_key(&self) -> Option<String> {
        if self.field("personal").get() == "true" {
            let user = self.field("owner").get();
            return (!user.is_empty()).then(|| format!("~{}", user.to_uppercase()));
        }
        self.project.get().map(|p| p.key)
    }
}

impl Default for FormState {
    fn default() -> Self {
        Self::new()
    }
}

fn label_of(name: &str) -> String {
    let text = name.replace('-', " ");
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

/// One flag's control: its label, input, usage and the message `core` gives for it.
#[component]
fn FlagField(
    spec: &'static FlagSpec,
    value: RwSignal<String>,
    error: Signal<Option<String>>,
    #[prop(optional)] list: Option<&'static str>,
    #[prop(optional, into)] note: Option<Signal<String>>,
    #[prop(optional)] on_commit: Option<Callback<String>>,
    #[prop(optional)] on_blur: Option<Callback<()>>,
) -> impl IntoView {
    let id = format!("opt-{}", spec.name);
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = format!("{hint_id} {error_id}");
    let invalid = move || error.get().is_some();
    let input = match spec.kind {
        FlagKind::Bool => view! {
            <input id=id.clone() data-testid=id.clone() type="checkbox"
                aria-describedby=described.clone()
                prop:checked=move || value.get() == "true"
                on:change=move |ev| value.set(event_target_checked(&ev).to_string())/>
        }
        .into_any(),
        _ => view! {
            <input id=id.clone() data-testid=id.clone()
                type=if spec.secret { "password" } else { "text" }
                autocomplete="off" spellcheck="false"
                list=list
                placeholder=if spec.kind == FlagKind::List { "comma-separated" } else { "" }
                aria-describedby=described.clone()
                aria-invalid=move || if invalid() { "true" } else { "false" }
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                on:change=move |ev| if let Some(commit) = on_commit { commit.run(event_target_value(&ev)) }
                on:blur=move |_| if let Some(blur) = on_blur { blur.run(()) }/>
        }
        .into_any(),
    };
    let default = match (spec.kind, spec.default) {
        (FlagKind::Bool, _) | (_, "") => String::new(),
        (_, text) => format!(" Default: {text}."),
    };
    view! {
        <div class="field" class:check=spec.kind == FlagKind::Bool class:invalid=invalid>
            <label for=id.clone()>{label_of(spec.name)} " " <code class="flag">"--" {spec.name}</code></label>
            {input}
            <p id=hint_id class="hint">{spec.usage} "." {default}
                {move || note.map(|n| n.get()).filter(|n| !n.is_empty()).map(|n| view! { " " <span class="note">{n}</span> })}
            </p>
            <p id=error_id class="error" aria-live="polite">{move || error.get()}</p>
        </div>
    }
}

/// The Connect card: server, token, identity.
#[component]
fn Connect(state: FormState) -> impl IntoView {
    let s = session();
    let message = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let connect = move || {
        let token = s.token.get_untracked();
        let server = s.server.get_untracked();
        if token.trim().is_empty() {
            message.set(Some("Paste your Bitbucket HTTP access token first.".into()));
            return;
        }
        busy.set(true);
        message.set(None);
        s.identity.set(None);
        leptos::task::spawn_local(async move {
            let outcome = match Relay::new(&server, &token) {
                Ok(relay) => match relay.connect().await {
                    Ok(identity) => {
                        let projects = relay.projects().await;
                        Ok((identity, projects))
                    }
                    Err(error) => Err(error),
                },
                Err(error) => Err(error),
            };
            busy.set(false);
            match outcome {
                Ok((identity, projects)) => {
                    match projects {
                        Ok(projects) => state.projects.set(projects),
                        Err(error) => {
                            message.set(Some(format!("Cannot list your projects: {error}")))
                        }
                    }
                    s.identity.set(Some(identity));
                    refresh_repository(state);
                }
                Err(error) => message.set(Some(error)),
            }
        });
    };
    let servers = move || {
        s.config.with(|c| match c {
            Some(Ok(config)) => config.servers.iter().map(|s| s.name.clone()).collect(),
            _ => Vec::new(),
        })
    };
    view! {
        <section class="card" aria-labelledby="connect-title">
            <h2 id="connect-title"><span class="num">"1"</span>"Connect"</h2>
            <form class="connect" on:submit=move |ev| { ev.prevent_default(); connect(); }>
                <div class="field">
                    <label for="server">"Bitbucket server"</label>
                    <select id="server" data-testid="server"
                        on:change=move |ev| { s.server.set(event_target_value(&ev)); s.identity.set(None); }
                        prop:value=move || s.server.get()>
                        {move || servers().into_iter().map(|name| {
                            let chosen = name.clone();
                            view! { <option value=name.clone() prop:selected=move || s.server.get() == chosen>{name.clone()}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <div class="field grow">
                    <label for="token">"HTTP access token"</label>
                    <input id="token" data-testid="token" type="password" autocomplete="off"
                        aria-describedby="token-hint connect-message"
                        prop:value=move || s.token.get()
                        on:input=move |ev| { s.token.set(event_target_value(&ev)); s.identity.set(None); }/>
                    <p id="token-hint" class="hint">"Kept in this page's memory only: never stored, never in a URL."</p>
                </div>
                <div class="field">
                    <button type="submit" data-testid="connect" class="secondary" disabled=move || busy.get()>
                        {move || if busy.get() { "Connecting…" } else { "Connect" }}
                    </button>
                </div>
            </form>
            <div id="connect-message" aria-live="polite">
                {move || s.identity.get().map(|identity| view! {
                    <p class="ok" data-testid="identity">
                        "✔ Connected as " <strong>{identity.user}</strong>
                        " — Bitbucket " {identity.version}
                    </p>
                })}
                {move || message.get().map(|text| view! { <p class="error" role="alert" data-testid="connect-error">{text}</p> })}
            </div>
        </section>
    }
}

/// Looks the chosen repository up again (after a change of project, name or connection).
fn refresh_repository(state: FormState) {
    let s = session();
    let (Some(key), Some(_)) = (state.project_key_untracked(), s.identity.get_untracked()) else {
        state.repository.set(RepositoryState::Unknown);
        return;
    };
    let name = state.field("repository").get_untracked();
    if name.is_empty() {
        state.repository.set(RepositoryState::Unknown);
        return;
    }
    state.repository.set(RepositoryState::Checking);
    let (server, token) = (s.server.get_untracked(), s.token.get_untracked());
    leptos::task::spawn_local(async move {
        let found = match Relay::new(&server, &token) {
            Ok(relay) => relay.repository(&key, &name).await,
            Err(error) => RepositoryState::Failed(error),
        };
        // A later change wins.
        if state.field("repository").get_untracked() == name
            && state.project_key_untracked().as_deref() == Some(key.as_str())
        {
            state.repository.set(found);
        }
    });
}

impl FormState {
    fn project_key_untracked(&self) -> Option<String> {
        untrack(|| self.project_key())
    }
}

/// Chooses the project the owner field names (by name or key), or says why not.
fn choose_owner(state: FormState, text: &str) {
    if state.field("personal").get_untracked() == "true" {
        state.owner_problem.set(None);
        refresh_repository(state);
        return;
    }
    let text = text.trim();
    let found = state.projects.with_untracked(|projects| {
        projects
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(text) || p.key.eq_ignore_ascii_case(text))
            .cloned()
    });
    match found {
        Some(project) => {
            state.field("owner").set(project.name.clone());
            state.project.set(Some(project));
            state.owner_problem.set(None);
        }
        None => {
            state.project.set(None);
            let connected = session().identity.get_untracked().is_some();
            state.owner_problem.set((!text.is_empty() && connected).then(|| {
                format!("You see no project named \"{text}\": pick one from the list, or tick Personal for your own repositories.")
            }));
        }
    }
    refresh_repository(state);
}

/// The chosen server's host and SSH host, or a placeholder while the server offers none.
fn server_host(server: Option<crate::api::Server>) -> (String, Option<String>) {
    match server {
        Some(server) => (server.url, server.ssh_host),
        None => ("https://bitbucket.example.com".to_string(), None),
    }
}

/// The inputs of the preview: what shapes gotk-components.yaml and gotk-sync.yaml.
type PreviewInputs = Result<(InstallOptions, SyncOptions), String>;

#[component]
pub fn FormPage(state: FormState) -> impl IntoView {
    let s = session();
    let server = Memo::new(move |_| s.chosen_server());
    let identity = move || s.identity.get();

    // The options the job would run with, checked by core as the server checks them.
    let checked = Memo::new(move |_| {
        let (url, ssh) = server_host(server.get());
        Some(check(&state.flags(), &url, ssh.as_deref()))
    });
    // The same with placeholders for what is not chosen yet, so the preview shows from the start.
    let preview_inputs = Memo::new(move |_| -> Option<PreviewInputs> {
        let (url, ssh) = server_host(server.get());
        let mut flags = state.flags();
        for (name, placeholder) in [
            ("owner", PLACEHOLDER_OWNER),
            ("repository", PLACEHOLDER_REPOSITORY),
        ] {
            if !flags.contains_key(name) {
                flags.insert(name.into(), Value::String(placeholder.into()));
            }
        }
        let checked = check(&flags, &url, ssh.as_deref()).map_err(|p| p.message);
        Some(checked.map(|Checked { options, .. }| {
            let key = state
                .project_key()
                .and_then(|k| ProjectKey::parse(&k).ok())
                .or_else(|| ProjectKey::parse(PLACEHOLDER_OWNER).ok());
            let repository = match state.repository.get() {
                RepositoryState::Exists(repository, _) | RepositoryState::Empty(repository) => {
                    Some(*repository)
                }
                _ => None,
            };
            let sync_url = match key {
                Some(key) => {
                    let repository = repository
                        .unwrap_or_else(|| Repository::would_create(&key, &options.repository));
                    target(&options, &key, &repository, false).sync_url
                }
                None => String::new(),
            };
            (options.install.clone(), options.sync_options(&sync_url))
        }))
    });
    let problem = Memo::new(move |_| checked.get().and_then(|c| c.err()));
    let touched = move |name: &'static str| state.touched.with(|t| t.contains(&name));
    let error_for = move |name: &'static str| -> Signal<Option<String>> {
        Signal::derive(move || {
            if name == "owner"
                && let Some(problem) = state.owner_problem.get()
            {
                return Some(problem);
            }
            let Problem { field, message } = problem.get()?;
            let spec = FormState::spec(name);
            let changed = state.field(name).get() != spec.default;
            (field == Some(name) && (changed || touched(name))).then_some(message)
        })
    };
    let touch = move |name: &'static str| {
        Callback::new(move |()| {
            state.touched.update(|t| {
                if !t.contains(&name) {
                    t.push(name);
                }
            })
        })
    };

    let release = LocalResource::new(move || load_release(state.field("version").get()));
    // gotk-components.yaml only when the install options change; the small files on every
    // change, so a keystroke in most fields costs a millisecond, not a whole regeneration.
    let install_inputs = Memo::new(move |_| {
        preview_inputs
            .get()
            .map(|inputs| inputs.map(|(install, _)| install))
    });
    let components = Memo::new(move |_| -> Option<Result<Arc<Components>, String>> {
        let install = install_inputs.get()?;
        let release = release.get()?;
        Some(match (release, install) {
            (Err(error), _) | (_, Err(error)) => Err(error),
            (Ok(release), Ok(install)) => generate_components(&release, &install).map(Arc::new),
        })
    });
    let files = Memo::new(
        move |_| -> Option<Result<Arc<Vec<GeneratedFile>>, String>> {
            let inputs = preview_inputs.get()?;
            let components = components.get()?;
            Some(match (components, inputs) {
                (Err(error), _) | (_, Err(error)) => Err(error),
                (Ok(components), Ok((_, sync))) => Ok(Arc::new(generate_files(&components, &sync))),
            })
        },
    );

    // The diff: what the target branch holds at the previewed paths, read again when the
    // target, the paths or the generation change (each visit of the form and each Retry is a
    // new generation, so a branch changed meanwhile is read afresh).
    let diff_target = Memo::new(move |_| -> Target {
        if s.identity.get().is_none() {
            return Target::Waiting("Connect to compare the files with the repository.".into());
        }
        match state.repository.get() {
            RepositoryState::Unknown => {
                Target::Waiting("Choose the owner and the repository to compare with.".into())
            }
            RepositoryState::Checking => Target::Waiting("Looking the repository up…".into()),
            RepositoryState::Failed(error) => {
                Target::Waiting(format!("Cannot compare with the repository: {error}"))
            }
            RepositoryState::Missing => {
                Target::Nothing("The repository does not exist yet: every file is new.".into())
            }
            RepositoryState::Empty(_) => {
                Target::Nothing("The repository is empty: every file is new.".into())
            }
            RepositoryState::Exists(repository, branches) => {
                let branch = state.field("branch").get();
                if branches.contains(&branch) {
                    Target::Branch {
                        server: s.server.get(),
                        project: repository.project.key.clone(),
                        slug: repository.slug.clone(),
                        branch,
                    }
                } else {
                    Target::Nothing(format!("Branch {branch} is new: every file is new."))
                }
            }
        }
    });
    let paths = Memo::new(move |_| -> Vec<String> {
        files.with(|files| match files {
            Some(Ok(list)) => list.iter().map(|f| f.path.clone()).collect(),
            _ => Vec::new(),
        })
    });
    let generation = RwSignal::new(crate::diff::next_generation());
    let branch_files = LocalResource::new(move || {
        let target = diff_target.get();
        let paths = paths.get();
        let generation = generation.get();
        let token = s.token.get_untracked();
        crate::diff::read(target, paths, token, generation)
    });
    let base = Memo::new(move |_| base_of(&diff_target.get(), branch_files.get()));
    let retry = Callback::new(move |()| generation.set(crate::diff::next_generation()));
    // Back on the form: the repository may have changed meanwhile (a bootstrap, a push).
    if s.identity.get_untracked().is_some() {
        refresh_repository(state);
    }

    // Target: the clusters that allow the chosen project.
    let clusters = Memo::new(move |_| {
        let key = state.project_key();
        s.config.with(|c| match c {
            Some(Ok(config)) => config
                .clusters
                .iter()
                .filter(|c| match &key {
                    Some(key) => c.allows(key),
                    None => c.projects.iter().any(|p| p == "*"),
                })
                .map(|c| c.name.clone())
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        })
    });
    // Why no cluster is offered: none is configured at all, or none accepts the project.
    let no_cluster = move || {
        let configured = s
            .config
            .with(|c| matches!(c, Some(Ok(config)) if !config.clusters.is_empty()));
        if configured {
            "No cluster accepts this project: choose another project, or ask the operator to allow it."
        } else {
            "This fluxstrap has no cluster configured: its operator adds them to serve's configuration."
        }
    };
    Effect::new(move |_| {
        let names = clusters.get();
        let current = state.cluster.get_untracked();
        if !names.contains(&current) {
            state
                .cluster
                .set(names.first().cloned().unwrap_or_default());
        }
    });

    let repository_note = Signal::derive(move || {
        let name = state.field("repository").get();
        let slug = RepoName::parse(&name)
            .ok()
            .map(|n| n.slug().as_str().to_string());
        let slug = match slug {
            Some(slug) if slug != name => format!(" Slug: {slug}."),
            _ => String::new(),
        };
        let status = match state.repository.get() {
            RepositoryState::Unknown => String::new(),
            RepositoryState::Checking => "Checking…".into(),
            RepositoryState::Missing => "It does not exist yet: the bootstrap creates it.".into(),
            RepositoryState::Empty(_) => "It exists and is empty.".into(),
            RepositoryState::Exists(_, branches) => {
                format!("It exists, with {} branch(es).", branches.len())
            }
            RepositoryState::Failed(error) => format!("Cannot check it: {error}"),
        };
        format!("{status}{slug}")
    });
    let branch_note = Signal::derive(move || match state.repository.get() {
        RepositoryState::Exists(_, branches) => {
            let branch = state.field("branch").get();
            if branches.contains(&branch) {
                "An existing branch.".into()
            } else {
                "A new branch: the bootstrap creates it.".into()
            }
        }
        _ => String::new(),
    });
    let owner_note = Signal::derive(move || {
        if state.field("personal").get() == "true" {
            return "Your personal repositories (~user).".to_string();
        }
        match (state.project.get(), s.identity.get()) {
            (Some(project), _) => format!("Project {} ({}).", project.name, project.key),
            (None, Some(_)) => format!(
                "{} project(s) to choose from.",
                state.projects.with(Vec::len)
            ),
            (None, None) => "Connect to choose from your projects.".to_string(),
        }
    });

    let field = move |name: &'static str| {
        let spec = FormState::spec(name);
        let value = state.field(name);
        let error = error_for(name);
        match name {
            "owner" => view! {
                <FlagField spec value error list="projects" note=owner_note
                    on_commit=Callback::new(move |text: String| choose_owner(state, &text))
                    on_blur=touch(name)/>
            }
            .into_any(),
            "repository" => view! {
                <FlagField spec value error note=repository_note
                    on_commit=Callback::new(move |_| refresh_repository(state))
                    on_blur=touch(name)/>
            }
            .into_any(),
            "branch" => view! { <FlagField spec value error list="branches" note=branch_note on_blur=touch(name)/> }.into_any(),
            "version" => view! {
                <div class="field">
                    <label for="opt-version">"Flux version " <code class="flag">"--version"</code></label>
                    <select id="opt-version" data-testid="opt-version" aria-describedby="opt-version-error"
                        prop:value=move || value.get()
                        on:change=move |ev| value.set(event_target_value(&ev))>
                        {move || s.config.with(|c| match c {
                            Some(Ok(config)) => config.versions.iter().map(|v| {
                                let chosen = v.name.clone();
                                view! { <option value=v.name.clone() prop:selected=move || value.get() == chosen>{v.name.clone()}</option> }
                            }).collect_view().into_any(),
                            _ => view! { <option value=value.get_untracked()>{value.get_untracked()}</option> }.into_any(),
                        })}
                    </select>
                    <p id="opt-version-error" class="error" aria-live="polite">{move || error.get()}</p>
                </div>
            }
            .into_any(),
            _ => view! { <FlagField spec value error on_blur=touch(name)/> }.into_any(),
        }
    };
    // The version defaults to the server's default.
    Effect::new(move |_| {
        if let Some(Ok(config)) = s.config.get()
            && let Some(first) = config.versions.first()
        {
            let version = state.field("version");
            if !config
                .versions
                .iter()
                .any(|v| v.name == version.get_untracked())
            {
                version.set(first.name.clone());
            }
        }
    });
    // Personal: the owner is the connected user.
    Effect::new(move |_| {
        if state.field("personal").get() == "true"
            && let Some(identity) = s.identity.get()
        {
            state.field("owner").set(identity.user);
            state.project.set(None);
            state.owner_problem.set(None);
            refresh_repository(state);
        }
    });

    let advanced: Vec<&'static str> = FLAGS
        .iter()
        .filter(|s| offered(s) && !TARGET.contains(&s.name) && !COMMON.contains(&s.name))
        .map(|s| s.name)
        .collect();
    let advanced_problem = {
        let advanced = advanced.clone();
        move || {
            problem
                .get()
                .and_then(|p| p.field)
                .is_some_and(|f| advanced.contains(&f))
        }
    };

    // Why Bootstrap and Plan cannot be pressed yet.
    let blocked = Memo::new(move |_| -> Option<String> {
        if identity().is_none() {
            return Some("Connect to Bitbucket first.".into());
        }
        if let Some(problem) = state.owner_problem.get() {
            return Some(problem);
        }
        if let Some(Problem { field, message }) = problem.get() {
            return Some(match field {
                Some(field) => format!("Fix --{field}: {message}"),
                None => message,
            });
        }
        if state.cluster.get().is_empty() {
            return Some(no_cluster().into());
        }
        None
    });

    let body = move |dry_run: bool| {
        json!({"server": s.server.get_untracked(), "cluster": state.cluster.get_untracked(),
               "flags": untrack(|| state.flags()), "dryRun": dry_run})
    };
    let starting = RwSignal::new(false);
    let start_error = RwSignal::new(None::<String>);
    let bootstrap = move |_| {
        if starting.get_untracked() || blocked.get_untracked().is_some() {
            return;
        }
        starting.set(true);
        start_error.set(None);
        let body = body(false);
        let token = s.token.get_untracked();
        leptos::task::spawn_local(async move {
            match crate::api::post_json("/api/bootstraps", &token, &body).await {
                Ok(answer) => match answer["id"].as_str() {
                    Some(id) => {
                        starting.set(false);
                        session().navigate(&format!("/runs/{id}"));
                    }
                    None => {
                        starting.set(false);
                        start_error.set(Some(format!("unexpected answer: {answer}")));
                    }
                },
                Err(error) => {
                    starting.set(false);
                    start_error.set(Some(error));
                }
            }
        });
    };
    let plan = RwSignal::new(None::<Result<Value, String>>);
    let planning = RwSignal::new(false);
    let run_plan = move |_| {
        if planning.get_untracked() || blocked.get_untracked().is_some() {
            return;
        }
        planning.set(true);
        plan.set(None);
        let body = body(true);
        let token = s.token.get_untracked();
        leptos::task::spawn_local(async move {
            let answer = crate::api::post_json("/api/bootstraps", &token, &body).await;
            planning.set(false);
            plan.set(Some(answer));
        });
    };

    let command = move || {
        let (url, _) = server_host(server.get());
        let args = crate::validate::args(&state.flags())?;
        let hostname = url
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        Some(format!(
            "export BITBUCKET_TOKEN=<your HTTP access token>\nflux bootstrap bitbucket-server --hostname={hostname} {}",
            args.join(" ")
        ))
    };

    view! {
        <div class="form-page">
            <h1 class="page-title">"Bootstrap Flux on a cluster"</h1>
            <datalist id="projects">
                {move || state.projects.get().into_iter().map(|p| view! { <option value=p.name.clone()>{p.key.clone()}</option> }).collect_view()}
            </datalist>
            <datalist id="branches">
                {move || match state.repository.get() {
                    RepositoryState::Exists(_, branches) => branches.into_iter().map(|b| view! { <option value=b/> }).collect_view().into_any(),
                    _ => ().into_any(),
                }}
            </datalist>
            <div class="columns">
                <div class="steps">
                    <Connect state/>
                    <section class="card" aria-labelledby="target-title">
                        <h2 id="target-title"><span class="num">"2"</span>"Target"</h2>
                        {TARGET.into_iter().map(field).collect_view()}
                        <div class="field">
                            <label for="cluster">"Cluster"</label>
                            <select id="cluster" data-testid="cluster" aria-describedby="cluster-hint"
                                prop:value=move || state.cluster.get()
                                on:change=move |ev| state.cluster.set(event_target_value(&ev))>
                                {move || clusters.get().into_iter().map(|name| {
                                    let chosen = name.clone();
                                    view! { <option value=name.clone() prop:selected=move || state.cluster.get() == chosen>{name.clone()}</option> }
                                }).collect_view()}
                            </select>
                            <p id="cluster-hint" class="hint">
                                {move || if clusters.with(Vec::is_empty) {
                                    no_cluster().to_string()
                                } else {
                                    "Only the clusters that accept the chosen project are listed.".to_string()
                                }}
                            </p>
                        </div>
                    </section>
                    <section class="card" aria-labelledby="options-title">
                        <h2 id="options-title"><span class="num">"3"</span>"Options"</h2>
                        {COMMON.into_iter().map(field).collect_view()}
                        <details prop:open=advanced_problem>
                            <summary>"Advanced (" {advanced.len()} " more flux options)"</summary>
                            {advanced.clone().into_iter().map(field).collect_view()}
                        </details>
                    </section>
                </div>
                <div class="review">
                    <section class="card" aria-labelledby="preview-title" aria-busy=move || files.get().is_none()>
                        <h2 id="preview-title"><span class="num">"4"</span>"Preview"</h2>
                        <Preview files base retry/>
                        <h3>"Equivalent flux command"</h3>
                        {move || match command() {
                            Some(command) => view! {
                                <pre class="command" data-testid="flux-command">{command.clone()}</pre>
                                <button type="button" class="secondary small" on:click=move |_| copy(&command)>"Copy"</button>
                            }.into_any(),
                            None => view! { <p class="hint">"Shown once the options can be read."</p> }.into_any(),
                        }}
                        <h3>"Plan"</h3>
                        <p class="hint">"What the bootstrap would write to Bitbucket and apply to the cluster, found by a dry run on the server (nothing is changed)."</p>
                        <button type="button" data-testid="plan-button" class="secondary"
                            disabled=move || planning.get() || blocked.get().is_some()
                            on:click=run_plan>
                            {move || if planning.get() { "Planning…" } else { "Plan" }}
                        </button>
                        <PlanView plan/>
                    </section>
                    <section class="card go" aria-labelledby="go-title">
                        <h2 id="go-title"><span class="num">"5"</span>"Bootstrap"</h2>
                        <p class="summary">
                            {move || {
                                let owner = state.field("owner").get();
                                let repository = state.field("repository").get();
                                let cluster = state.cluster.get();
                                format!(
                                    "{} / {} on branch {} → cluster {}",
                                    if owner.is_empty() { "…".into() } else { owner },
                                    if repository.is_empty() { "…".into() } else { repository },
                                    state.field("branch").get(),
                                    if cluster.is_empty() { "…".into() } else { cluster },
                                )
                            }}
                        </p>
                        <button type="button" data-testid="bootstrap" class="primary"
                            aria-describedby="bootstrap-reason"
                            disabled=move || starting.get() || blocked.get().is_some()
                            on:click=bootstrap>
                            {move || if starting.get() { "Starting…" } else { "Bootstrap" }}
                        </button>
                        <p id="bootstrap-reason" data-testid="bootstrap-reason" class="hint" aria-live="polite">
                            {move || blocked.get()}
                        </p>
                        {move || start_error.get().map(|e| view! { <p class="error" role="alert" data-testid="bootstrap-error">{e}</p> })}
                    </section>
                </div>
            </div>
        </div>
    }
}

fn copy(text: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().clipboard().write_text(text);
    }
}

fn human_size(bytes: usize) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else if bytes >= 1024 {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

/// The directory of a path in the repository (`""` at the top).
fn directory_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// The generated files as a tree (directory, then each file with its change, size and
/// sha256), the selected file's text (YAML highlighted), its diff, and "Download zip".
#[component]
fn Preview(
    files: Memo<Option<Result<Arc<Vec<GeneratedFile>>, String>>>,
    base: Memo<Base>,
    retry: Callback<()>,
) -> impl IntoView {
    // gotk-sync.yaml first: the short file that says what the cluster syncs.
    let selected = RwSignal::new(1usize);
    let show_unchanged = RwSignal::new(false);
    let layout = crate::prefs::signal::<DiffLayout>();
    let folding = crate::prefs::signal::<Folding>();
    let narrow = crate::diff::narrow_signal();
    // Once the branch is known, the first changed file is the one shown (an added one if
    // nothing changed), unless the one shown differs already.
    Effect::new(move |_| {
        let changes: Vec<Option<Change>> = files.with(|files| match files {
            Some(Ok(list)) => base.with(|base| list.iter().map(|f| base.change(f)).collect()),
            _ => Vec::new(),
        });
        let current = changes.get(selected.get_untracked()).copied().flatten();
        if matches!(current, None | Some(Change::Changed)) {
            return;
        }
        let first = |wanted: Change| changes.iter().position(|c| *c == Some(wanted));
        if let Some(index) = first(Change::Changed).or_else(|| {
            (current == Some(Change::Unchanged))
                .then(|| first(Change::Added))
                .flatten()
        }) {
            selected.set(index);
        }
    });
    move || {
        match files.get() {
        None => view! { <p class="hint loading" data-testid="preview-loading">"Generating the files from the Flux release…"</p> }.into_any(),
        Some(Err(error)) => view! {
            <p class="error" data-testid="preview-error">{format!("No preview: {error}")}</p>
        }
        .into_any(),
        Some(Ok(list)) => {
            let total: usize = list.iter().map(|f| f.content.len()).sum();
            let unchanged = {
                let list = list.clone();
                Memo::new(move |_| base.with(|base| crate::diff::tally(base, &list)).map_or(0, |[_, _, u]| u))
            };
            let mut directories: Vec<&str> = list.iter().map(|f| directory_of(&f.path)).collect();
            directories.dedup();
            let tree = directories
                .into_iter()
                .map(|directory| {
                    let items = list
                        .iter()
                        .enumerate()
                        .filter(|(_, f)| directory_of(&f.path) == directory)
                        .map(|(index, file)| {
                            let name = file.path.rsplit('/').next().unwrap_or_default().to_string();
                            let change = {
                                let file = file.clone();
                                Memo::new(move |_| base.with(|base| base.change(&file)))
                            };
                            let hidden = move || {
                                change.get() == Some(Change::Unchanged)
                                    && !show_unchanged.get()
                                    && selected.get() != index
                            };
                            view! {
                                <li role="treeitem" data-testid="file" data-path=file.path.clone() data-sha256=file.sha256.to_string()
                                    data-change=move || change.get().map(Change::label)
                                    aria-selected=move || (selected.get() == index).to_string()
                                    class:selected=move || selected.get() == index
                                    class:hidden=hidden>
                                    <button type="button" class="link file-name" aria-pressed=move || (selected.get() == index).to_string()
                                        on:click=move |_| selected.set(index)>
                                        <span class=move || format!("mark {}", change.get().map_or("unknown", Change::label))
                                            aria-hidden="true">{move || change.get().map_or("·", Change::symbol)}</span>
                                        <code>{name}</code>
                                    </button>
                                    {move || change.get().map(|c| view! { <span class=format!("badge change {}", c.label())>{c.label()}</span> })}
                                    <span class="size">{human_size(file.content.len())}</span>
                                    <code class="sha" title="sha256">{file.sha256.to_string()}</code>
                                </li>
                            }
                        })
                        .collect_view();
                    let shown = if directory.is_empty() { "/".to_string() } else { format!("{directory}/") };
                    view! {
                        <li role="treeitem" aria-expanded="true" class="dir">
                            <span class="dir-name"><span aria-hidden="true">"▾ "</span><code>{shown}</code></span>
                            <ul role="group">{items}</ul>
                        </li>
                    }
                })
                .collect_view();
            let content = {
                let list = list.clone();
                move || list.get(selected.get()).map(|f| crate::render::yaml(&f.content)).unwrap_or_default()
            };
            let download = {
                let list = list.clone();
                move |_| crate::zip::download(&list)
            };
            view! {
                <div class="preview-head">
                    <p class="counts" data-testid="file-counts">
                        {format!("{} files, {} — generated in your browser", list.len(), human_size(total))}
                    </p>
                    <button type="button" class="secondary small" data-testid="download-zip" on:click=download>"Download zip"</button>
                </div>
                <ul class="tree" role="tree" aria-label="Generated files">{tree}</ul>
                {move || (unchanged.get() > 0).then(|| view! {
                    <button type="button" class="link show-unchanged" data-testid="show-unchanged"
                        aria-expanded=move || show_unchanged.get().to_string()
                        on:click=move |_| show_unchanged.update(|s| *s = !*s)>
                        {move || {
                            let n = unchanged.get();
                            let files = if n == 1 { "file" } else { "files" };
                            if show_unchanged.get() { format!("Hide {n} unchanged {files}") } else { format!("Show {n} unchanged {files}") }
                        }}
                    </button>
                })}
                <pre class="file-content" data-testid="file-content" tabindex="0" inner_html=content></pre>
                <h3>"Changes in the repository"</h3>
                <DiffView files=list.clone() selected base retry layout folding narrow/>
            }
            .into_any()
        }
    }
    }
}

/// A dry run's plan: repository writes and cluster objects.
#[component]
fn PlanView(plan: RwSignal<Option<Result<Value, String>>>) -> impl IntoView {
    move || match plan.get() {
        None => ().into_any(),
        Some(Err(error)) => {
            view! { <p class="error" role="alert" data-testid="plan-error">{error}</p> }.into_any()
        }
        Some(Ok(answer)) => {
            let plan = &answer["plan"];
            let rows = |key: &str| plan[key].as_array().cloned().unwrap_or_default();
            let files = rows("files");
            let writes = rows("bitbucket");
            let objects = rows("objects");
            let changed = objects
                .iter()
                .filter(|o| o["action"] != "unchanged")
                .count();
            view! {
                <div class="plan" data-testid="plan">
                    <p class="counts">{format!(
                        "{} file(s), {} Bitbucket write(s), {} cluster object(s) to create or change",
                        files.len(), writes.len(), changed
                    )}</p>
                    <h4>"Repository"</h4>
                    <ul class="plan-list">
                        {files.iter().map(|f| view! {
                            <li data-testid="plan-file"><span class="badge">{f["change"].as_str().unwrap_or_default().to_string()}</span>
                                " " <code>{f["path"].as_str().unwrap_or_default().to_string()}</code></li>
                        }).collect_view()}
                        {writes.iter().map(|w| view! {
                            <li data-testid="plan-write"><span class="badge">{w["method"].as_str().unwrap_or_default().to_string()}</span>
                                " " {w["what"].as_str().unwrap_or_default().to_string()}</li>
                        }).collect_view()}
                    </ul>
                    {plan["deployKey"].as_str().map(|key| view! { <p>"Deploy key: " <code>{key.to_string()}</code></p> })}
                    <h4>"Cluster"</h4>
                    <ul class="plan-list">
                        {objects.iter().map(|o| view! {
                            <li data-testid="plan-object"><span class="badge">{o["action"].as_str().unwrap_or_default().to_string()}</span>
                                " " <code>{o["object"].as_str().unwrap_or_default().to_string()}</code></li>
                        }).collect_view()}
                    </ul>
                </div>
            }
            .into_any()
        }
    }
}
