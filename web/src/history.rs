//! The history (`/history`): every job, newest first, each linking to its page.

use leptos::prelude::*;

use crate::api::{JobPage, get_json, human_seconds, job_seconds, local_time};
use crate::{Link, session};

#[component]
pub fn HistoryPage() -> impl IntoView {
    let s = session();
    let page = LocalResource::new(|| get_json::<JobPage>("/api/bootstraps?limit=100"));
    view! {
        <section class="card history" aria-labelledby="history-title">
            <h1 id="history-title">"Bootstraps"</h1>
            {move || match page.get() {
                None => view! { <p class="hint loading">"Loading the history…"</p> }.into_any(),
                Some(Err(error)) => view! { <p class="error" role="alert">{error}</p> }.into_any(),
                Some(Ok(page)) if page.values.is_empty() => view! {
                    <div class="empty" data-testid="history-empty">
                        <p>"No bootstrap has run on this fluxstrap yet."</p>
                        <p><Link href="/".into()>"Start the first one"</Link></p>
                    </div>
                }.into_any(),
                Some(Ok(page)) => view! {
                    <div class="table-scroll">
                        <table class="jobs">
                            <thead><tr>
                                <th scope="col">"Job"</th><th scope="col">"State"</th><th scope="col">"Cluster"</th>
                                <th scope="col">"Repository"</th><th scope="col">"By"</th><th scope="col">"When"</th>
                                <th scope="col">"Duration"</th>
                            </tr></thead>
                            <tbody>
                                {page.values.into_iter().map(|job| {
                                    let duration = job.clone();
                                    let href = format!("/runs/{}", job.id);
                                    let id = job.id.clone();
                                    view! {
                                        <tr data-testid="job-row" data-id=job.id.clone() data-state=job.state.as_str()>
                                            <td><Link href=href><code>{id}</code></Link></td>
                                            <td><span class=format!("badge state {}", job.state)>{job.state.as_str()}</span></td>
                                            <td>{job.cluster.clone()}</td>
                                            <td><code>{format!("{}#{}:{}", job.repository, job.branch, if job.path.is_empty() { "." } else { &job.path })}</code></td>
                                            <td>{job.started_by.clone()}</td>
                                            <td>{local_time(&job.created_at)}</td>
                                            <td>{move || job_seconds(&duration, s.now.get()).map(human_seconds).unwrap_or_else(|| "—".into())}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any(),
            }}
        </section>
    }
}
