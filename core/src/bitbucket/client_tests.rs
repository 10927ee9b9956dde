//! Tests of [`super`].

use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use super::*;
use crate::bitbucket::Method;

/// Runs a future whose awaits are all ready (the scripted transport never waits).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}

/// Answers from a script, in order, and records what was sent.
struct Scripted {
    answers: RefCell<Vec<std::result::Result<Answer, TransportError>>>,
    sent: RefCell<Vec<(Method, String)>>,
    slept: RefCell<Vec<u64>>,
}

impl Scripted {
    fn new(answers: Vec<std::result::Result<(u16, &str), &str>>) -> Self {
        Self {
            answers: RefCell::new(
                answers
                    .into_iter()
                    .rev()
                    .map(|a| {
                        a.map(|(status, body)| Answer {
                            status,
                            body: body.as_bytes().to_vec(),
                            username: Some("admin".into()),
                        })
                        .map_err(|message| TransportError::NoConnection(message.into()))
                    })
                    .collect(),
            ),
            sent: RefCell::default(),
            slept: RefCell::default(),
        }
    }
}

impl Transport for Scripted {
    async fn send(
        &self,
        _host: &BitbucketHost,
        request: &Request,
    ) -> std::result::Result<Answer, TransportError> {
        self.sent
            .borrow_mut()
            .push((request.method, request.path.clone()));
        self.answers
            .borrow_mut()
            .pop()
            .expect("the script has an answer")
    }
    async fn sleep(&self, milliseconds: u64) {
        self.slept.borrow_mut().push(milliseconds);
    }
}

fn host() -> BitbucketHost {
    BitbucketHost::parse("bitbucket.example.com").unwrap()
}

/// `resolve_owner` over a transport answering `answers`.
fn resolve(
    owner: Owner,
    answers: Vec<std::result::Result<(u16, &str), &str>>,
) -> (Result<ProjectKey>, Scripted) {
    let t = Scripted::new(answers);
    let key = block_on(resolve_owner(&t, &host(), &owner));
    (key, t)
}

/// `ensure_repository` of the private repository `fleet` under `key`.
fn ensure_fleet(t: &Scripted, key: &ProjectKey) -> Result<EnsuredRepository> {
    block_on(ensure_repository(
        t,
        &host(),
        key,
        &RepoName::parse("fleet").unwrap(),
        Visibility::Private,
    ))
}

const PROJECT: &str = r#"{"key":"PLAT","id":1,"name":"Platform"}"#;
const REPO: &str =
    r#"{"slug":"fleet","id":2,"name":"fleet","project":{"key":"PLAT","id":1,"name":"Platform"}}"#;

#[test]
fn reads_are_retried_after_server_errors_writes_are_not() {
    let (key, t) = resolve(
        Owner::ProjectKey(ProjectKey::parse("plat").unwrap()),
        vec![Err("connection refused"), Ok((502, "")), Ok((200, PROJECT))],
    );
    let key = key.unwrap();
    assert_eq!(key.as_str(), "PLAT");
    assert_eq!(*t.slept.borrow(), RETRY_DELAYS_MS[..2]);

    let t = Scripted::new(vec![
        Ok((404, "")),
        Ok((500, r#"{"errors":[{"message":"boom"}]}"#)),
    ]);
    let err = ensure_fleet(&t, &key).unwrap_err();
    assert!(
        err.to_string().contains("500") && err.to_string().contains("boom"),
        "{err}"
    );
    assert_eq!(t.sent.borrow().len(), 2, "the POST is sent once");
}

#[test]
fn a_conflict_on_create_adopts_the_repository() {
    let t = Scripted::new(vec![
        Ok((404, "")),
        Ok((409, "")),
        Ok((200, REPO)),
        Ok((204, "")),
    ]);
    let key = ProjectKey::parse("PLAT").unwrap();
    let ensured = ensure_fleet(&t, &key).unwrap();
    assert_eq!(ensured.origin, RepositoryOrigin::Adopted);
    assert_eq!(ensured.default_branch, None, "204: empty repository");
}

#[test]
fn project_names_must_match_exactly() {
    let page = r#"{"size":2,"limit":100,"isLastPage":true,"start":0,"values":[
        {"key":"COM","id":1,"name":"Community"},{"key":"UNI","id":2,"name":"unity"}]}"#;
    let named = |name: &str| resolve(Owner::ProjectName(name.into()), vec![Ok((200, page))]).0;
    assert_eq!(named("unity").unwrap().as_str(), "UNI");
    let err = named("Unity").unwrap_err();
    assert!(
        err.to_string()
            .contains("no project is named exactly \"Unity\""),
        "{err}"
    );
}

#[test]
fn an_unchanged_access_key_sends_no_write() {
    let listed = r#"{"size":1,"limit":100,"isLastPage":true,"start":0,"values":[
        {"key":{"id":7,"text":"ssh-ed25519 AAAA flux","label":"flux"},"permission":"REPO_READ"}]}"#;
    let t = Scripted::new(vec![Ok((200, listed))]);
    let key = ProjectKey::parse("PLAT").unwrap();
    let slug = RepoSlug::parse("fleet").unwrap();
    let decision = block_on(ensure_access_key(
        &t,
        &host(),
        &key,
        &slug,
        "ssh-ed25519 AAAA\n",
        "flux",
        RepoPermission::Read,
    ))
    .unwrap();
    assert_eq!(decision, AccessKeyDecision::UpToDate { id: 7 });
    assert!(t.sent.borrow().iter().all(|(m, _)| *m == Method::Get));
}

#[test]
fn a_rejected_token_names_the_host_and_bitbucket_message() {
    let t = Scripted::new(vec![Ok((
        401,
        r#"{"errors":[{"context":null,"message":"Authentication failed. Please check your credentials and try again.","exceptionName":"com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException"}]}"#,
    ))]);
    let err = block_on(identify(&t, &host())).unwrap_err().to_string();
    assert!(
        err.contains("bitbucket.example.com")
            && err.contains("401")
            && err.contains("Authentication failed"),
        "{err}"
    );
}

#[test]
fn no_answer_after_the_retries_is_its_own_error() {
    let refused = || Err("connection refused");
    let t = Scripted::new(vec![refused(), refused(), refused(), refused()]);
    let err = block_on(identify(&t, &host())).unwrap_err();
    assert_eq!(
        err,
        Error::BitbucketNoAnswer {
            host: "bitbucket.example.com".into(),
            method: "GET",
            path: "/rest/api/1.0/application-properties".into(),
            cause: TransportError::NoConnection("connection refused".into()),
        }
    );
    assert_eq!(*t.slept.borrow(), RETRY_DELAYS_MS);
}

#[test]
fn a_default_branch_that_cannot_be_read_is_an_error_not_a_change() {
    let key = ProjectKey::parse("PLAT").unwrap();
    let slug = RepoSlug::parse("fleet").unwrap();
    let run = |answers| {
        let t = Scripted::new(answers);
        let outcome = block_on(ensure_default_branch(&t, &host(), &key, &slug, "main"));
        (outcome, t.sent.into_inner())
    };
    let (outcome, sent) = run(vec![Ok((401, r#"{"errors":[{"message":"nope"}]}"#))]);
    assert!(
        matches!(outcome, Err(Error::Bitbucket { status: 401, .. })),
        "{outcome:?}"
    );
    assert_eq!(sent.len(), 1, "no write after a failed read");
    let (outcome, sent) = run(vec![Ok((200, "<html>"))]);
    assert!(
        matches!(
            outcome,
            Err(Error::BitbucketUnexpectedAnswer { status: 200, .. })
        ),
        "{outcome:?}"
    );
    assert_eq!(sent.len(), 1, "no write after an unreadable answer");
    // An empty repository (204) has no default branch yet: it is set.
    let (outcome, sent) = run(vec![Ok((204, "")), Ok((204, ""))]);
    assert_eq!(outcome, Ok(true));
    assert_eq!(sent[1].0, Method::Put);
    let branch = r#"{"id":"refs/heads/main","displayId":"main"}"#;
    let (outcome, sent) = run(vec![Ok((200, branch))]);
    assert_eq!(outcome, Ok(false));
    assert_eq!(sent.len(), 1);
}

#[test]
fn project_permissions_count_only_when_readable() {
    let key = ProjectKey::parse("PLAT").unwrap();
    let slug = RepoSlug::parse("fleet").unwrap();
    let grant = GroupGrant::parse("devs").unwrap();
    let empty = r#"{"size":0,"limit":100,"isLastPage":true,"start":0,"values":[]}"#;
    // Without PROJECT_ADMIN Bitbucket answers 401: only the repository counts.
    let t = Scripted::new(vec![
        Ok((200, empty)),
        Ok((401, r#"{"errors":[{"message":"You are not permitted"}]}"#)),
        Ok((204, "")),
    ]);
    let decision = block_on(ensure_group(&t, &host(), &key, &slug, &grant)).unwrap();
    assert_eq!(decision, GroupDecision::Grant(RepoPermission::Write));
    assert_eq!(t.sent.borrow()[2].0, Method::Put);
    // A server failing to list them is an error, not "no permission".
    let t = Scripted::new(vec![
        Ok((200, empty)),
        Ok((500, "")),
        Ok((500, "")),
        Ok((500, "")),
        Ok((500, "")),
    ]);
    let err = block_on(ensure_group(&t, &host(), &key, &slug, &grant)).unwrap_err();
    assert!(
        matches!(err, Error::Bitbucket { status: 500, .. }),
        "{err:?}"
    );
    assert!(t.sent.borrow().iter().all(|(m, _)| *m == Method::Get));
}

/// `authorize` of `fleet` under `owner`, over `answers` (the token's user is `admin`).
fn authorize_fleet(
    owner: Owner,
    answers: Vec<std::result::Result<(u16, &str), &str>>,
) -> (Result<Authorization>, Vec<(Method, String)>) {
    let t = Scripted::new(answers);
    let name = RepoName::parse("fleet").unwrap();
    let outcome = block_on(authorize(&t, &host(), &owner, &name));
    (outcome, t.sent.into_inner())
}

const PROPERTIES: &str =
    r#"{"version":"8.19.1","buildNumber":"8019001","displayName":"Bitbucket"}"#;
const EMPTY_PAGE: &str = r#"{"size":0,"limit":25,"isLastPage":true,"start":0,"values":[]}"#;
const NOT_PERMITTED: &str =
    r#"{"errors":[{"message":"You are not permitted to access this resource"}]}"#;

#[test]
fn an_administrator_of_the_existing_repository_is_admitted() {
    let owner = Owner::ProjectKey(ProjectKey::parse("PLAT").unwrap());
    let (outcome, sent) = authorize_fleet(
        owner,
        vec![
            Ok((200, PROPERTIES)),
            Ok((200, PROJECT)),
            Ok((200, REPO)),
            Ok((200, EMPTY_PAGE)),
        ],
    );
    let admitted = outcome.unwrap();
    assert_eq!(admitted.user, "admin");
    assert_eq!(admitted.authority, Authority::RepositoryAdmin);
    assert_eq!(
        sent.last().unwrap().1,
        "/rest/api/1.0/projects/PLAT/repos/fleet/permissions/groups"
    );
    // Only reads.
    assert!(sent.iter().all(|(method, _)| *method == Method::Get));
}

#[test]
fn a_new_repository_needs_an_administrator_of_its_project() {
    let owner = Owner::ProjectKey(ProjectKey::parse("PLAT").unwrap());
    let answers = |permissions| {
        vec![
            Ok((200, PROPERTIES)),
            Ok((200, PROJECT)),
            Ok((404, "")),
            permissions,
        ]
    };
    let (outcome, sent) = authorize_fleet(owner.clone(), answers(Ok((200, EMPTY_PAGE))));
    assert_eq!(outcome.unwrap().authority, Authority::ProjectAdmin);
    assert_eq!(
        sent.last().unwrap().1,
        "/rest/api/1.0/projects/PLAT/permissions/groups"
    );

    let (outcome, _) = authorize_fleet(owner, answers(Ok((401, NOT_PERMITTED))));
    let message = outcome.unwrap_err().to_string();
    assert!(
        message.contains("admin may not bootstrap PLAT/fleet") && message.contains("PROJECT_ADMIN"),
        "{message}"
    );
}

#[test]
fn a_reader_of_the_repository_is_refused_with_the_rule() {
    let owner = Owner::ProjectKey(ProjectKey::parse("PLAT").unwrap());
    let (outcome, _) = authorize_fleet(
        owner,
        vec![
            Ok((200, PROPERTIES)),
            Ok((200, PROJECT)),
            Ok((200, REPO)),
            Ok((401, NOT_PERMITTED)),
        ],
    );
    assert!(
        matches!(outcome, Err(Error::NotPermitted { ref rule, .. }) if rule.contains("REPO_ADMIN"))
    );
}

#[test]
fn a_personal_repository_is_its_owners_only() {
    let (outcome, sent) = authorize_fleet(Owner::User("admin".into()), vec![Ok((200, PROPERTIES))]);
    assert_eq!(outcome.unwrap().authority, Authority::Personal);
    assert_eq!(sent.len(), 1);
    let (outcome, _) = authorize_fleet(Owner::User("alice".into()), vec![Ok((200, PROPERTIES))]);
    assert!(matches!(outcome, Err(Error::NotPermitted { .. })));
}

#[test]
fn a_token_bitbucket_refuses_is_not_authorized_at_all() {
    let owner = Owner::ProjectKey(ProjectKey::parse("PLAT").unwrap());
    let (outcome, sent) = authorize_fleet(owner, vec![Ok((401, NOT_PERMITTED))]);
    assert!(
        matches!(outcome, Err(Error::Bitbucket { status: 401, .. })),
        "{outcome:?}"
    );
    assert_eq!(sent.len(), 1);
}
