//! The fluxstrap page: connect to Bitbucket, choose the repository and the cluster, set flux's
//! options, preview the files, bootstrap, watch the run live, find it in the history. Every
//! check and every generated file is `fluxstrap-core`'s, compiled to wasm; Bitbucket is read
//! through the server's relay with core's client; jobs are the server's.
//!
//! Routing is by `window.location.pathname`: `/` the form, `/runs/{id}` a job, `/history`.

mod api;
mod bitbucket;
mod diff;
mod form;
mod history;
mod prefs;
mod release;
mod render;
mod run;
mod validate;
mod zip;

use leptos::prelude::*;

use api::PageConfig;
use bitbucket::Identity;
use prefs::{Preference, Theme};

/// Where the page is.
#[derive(Clone, PartialEq, Debug)]
enum Route {
    Form,
    Run(String),
    History,
}

impl Route {
    fn of(path: &str) -> Self {
        let path = path.trim_end_matches('/');
        if path == "/history" {
            Route::History
        } else if let Some(id) = path.strip_prefix("/runs/").filter(|id| !id.is_empty()) {
            Route::Run(id.to_string())
        } else {
            Route::Form
        }
    }
}

fn current_path() -> String {
    web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_else(|| "/".to_string())
}

/// What every page shares: the server's offer, the connection (the token in memory only) and
/// a clock for live durations.
#[derive(Clone, Copy)]
pub struct Session {
    pub config: RwSignal<Option<Result<PageConfig, String>>>,
    pub server: RwSignal<String>,
    pub token: RwSignal<String>,
    pub identity: RwSignal<Option<Identity>>,
    pub now: RwSignal<f64>,
    route: RwSignal<Route>,
}

impl Session {
    /// Goes to `path` without reloading the page.
    pub fn navigate(&self, path: &str) {
        if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
            let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path));
        }
        self.route.set(Route::of(path));
        if let Some(window) = web_sys::window() {
            window.scroll_to_with_x_and_y(0.0, 0.0);
        }
    }

    /// The configured server currently chosen.
    pub fn chosen_server(&self) -> Option<api::Server> {
        let name = self.server.get();
        self.config.with(|c| {
            c.as_ref()
                .and_then(|c| c.as_ref().ok())
                .and_then(|c| c.servers.iter().find(|s| s.name == name).cloned())
        })
    }
}

thread_local! {
    /// The page's one session: a global rather than a context, so event handlers and async
    /// tasks (which run outside any reactive owner) reach it too.
    static SESSION: std::cell::OnceCell<Session> = const { std::cell::OnceCell::new() };
}

/// The page's session (set up by [`App`]).
pub fn session() -> Session {
    SESSION.with(|cell| *cell.get().expect("the App sets the session up first"))
}

/// A link inside the page: followed without a reload (a modified click opens as usual).
#[component]
pub fn Link(href: String, children: Children) -> impl IntoView {
    let target = href.clone();
    view! {
        <a href=href on:click=move |ev: leptos::ev::MouseEvent| {
            if ev.button() != 0 || ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.alt_key() {
                return;
            }
            ev.prevent_default();
            session().navigate(&target);
        }>{children()}</a>
    }
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

#[component]
pub fn App() -> impl IntoView {
    let session = Session {
        config: RwSignal::new(None),
        server: RwSignal::new(String::new()),
        token: RwSignal::new(String::new()),
        identity: RwSignal::new(None),
        now: RwSignal::new(now_ms()),
        route: RwSignal::new(Route::of(&current_path())),
    };
    SESSION.with(|cell| {
        let _ = cell.set(session);
    });
    leptos::task::spawn_local(async move {
        let config = api::page_config().await;
        if let Ok(config) = &config
            && let Some(first) = config.servers.first()
        {
            session.server.set(first.name.clone());
        }
        session.config.set(Some(config));
    });
    let _ = set_interval_with_handle(
        move || session.now.set(now_ms()),
        std::time::Duration::from_millis(500),
    );
    let _ = window_event_listener(leptos::ev::popstate, move |_| {
        session.route.set(Route::of(&current_path()));
    });
    Theme::saved().apply();
    let theme = prefs::signal::<Theme>();
    Effect::new(move |_| theme.get().apply());
    // The form keeps its values while the user looks at a run or the history.
    let form = form::FormState::new();

    let nav_class = move |route: Route| {
        move || {
            let current = session.route.get();
            let active = match (&current, &route) {
                (Route::Run(_), Route::Form) => false,
                (a, b) => a == b,
            };
            if active { "active" } else { "" }
        }
    };
    view! {
        <header class="top">
            <div class="brand">
                <span class="logo" aria-hidden="true">"⎈"</span>
                <span class="name">"fluxstrap"</span>
                <span class="tagline">"Bootstrap Flux from Bitbucket Server"</span>
            </div>
            <nav aria-label="Main">
                <span class=nav_class(Route::Form)><Link href="/".into()>"New bootstrap"</Link></span>
                <span class=nav_class(Route::History)><Link href="/history".into()>"History"</Link></span>
            </nav>
            <span class="who">
                {move || session.identity.get().map(|i| i.user)}
            </span>
            <button type="button" class="theme" data-testid="theme"
                title="Auto follows your system's light or dark setting"
                on:click=move |_| theme.update(|t| *t = t.next())>
                {move || theme.get().label()}
            </button>
        </header>
        <main>
            {move || match session.config.get() {
                Some(Err(error)) => view! {
                    <section class="card error-card" role="alert">
                        <h1>"The fluxstrap server is not answering"</h1>
                        <p>{error}</p>
                        <p>"Reload the page in a moment; if it persists, tell whoever runs fluxstrap."</p>
                    </section>
                }.into_any(),
                _ => match session.route.get() {
                    Route::Form => view! { <form::FormPage state=form/> }.into_any(),
                    Route::Run(id) => view! { <run::RunPage id=id/> }.into_any(),
                    Route::History => view! { <history::HistoryPage/> }.into_any(),
                },
            }}
        </main>
    }
}
