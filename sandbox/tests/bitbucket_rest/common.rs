//! What the suite's tests share: the seeded tokens, one curl call, the emulator over HTTP, and
//! the shape check against recorded real answers.

use fluxstrap_testkit::paths::recorded_answer as recorded;
use fluxstrap_testkit::{Bitbucket, Curl, CurlAnswer, seed};
use serde_json::Value;

/// The seeded admin's token.
pub(crate) fn admin() -> &'static str {
    &seed::admin().token
}

/// The seeded reader's token.
pub(crate) fn reader() -> &'static str {
    &seed::reader().token
}

/// One HTTP call; `auth` is a Bearer token, or `user:token` for Basic.
pub(crate) fn curl(method: &str, url: &str, auth: Option<&str>, body: Option<&str>) -> CurlAnswer {
    let mut request = Curl::new(method, url);
    request = match auth.map(|auth| (auth, auth.split_once(':'))) {
        Some((_, Some((user, token)))) => request.basic(user, token),
        Some((token, None)) => request.bearer(token),
        None => request,
    };
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send()
}

/// `GET url` as `auth` (see [`curl`]).
pub(crate) fn get(url: impl AsRef<str>, auth: &str) -> CurlAnswer {
    curl("GET", url.as_ref(), Some(auth), None)
}

/// A bodiless `PUT url` as `auth`: a grant, a permission change.
pub(crate) fn put(url: impl AsRef<str>, auth: &str) -> CurlAnswer {
    curl("PUT", url.as_ref(), Some(auth), None)
}

pub(crate) fn delete(url: impl AsRef<str>, auth: &str) -> CurlAnswer {
    curl("DELETE", url.as_ref(), Some(auth), None)
}

/// `POST url` with the JSON `body` as `auth`.
pub(crate) fn post(url: impl AsRef<str>, auth: &str, body: &str) -> CurlAnswer {
    curl("POST", url.as_ref(), Some(auth), Some(body))
}

/// Creates a repository in project PLAT as `auth`; `body` as the REST API takes it.
pub(crate) fn create_in_plat(api: &str, auth: &str, body: &str) -> CurlAnswer {
    post(format!("{api}/projects/PLAT/repos"), auth, body)
}

/// Grants as the admin, `PUT {permissions}?{grant}` (a repository's `…/permissions/users` or
/// `…/permissions/groups`), which Bitbucket answers 204; then the list `GET
/// {permissions}{list}` that `lister` sees.
#[track_caller]
pub(crate) fn grant_then_list(permissions: &str, grant: &str, lister: &str, list: &str) -> Value {
    let granted = put(format!("{permissions}?{grant}"), admin());
    assert_eq!(granted.status, 204, "{}", granted.body);
    get(format!("{permissions}{list}"), lister).body
}

/// The first entry of a permission list grants `permission` to the `kind` (`user` or `group`)
/// called `name`.
#[track_caller]
pub(crate) fn assert_first_grant(list: &Value, kind: &str, name: &str, permission: &str) {
    assert_eq!(list["values"][0][kind]["name"], name);
    assert_eq!(list["values"][0]["permission"], permission);
}

/// The emulator over plain HTTP without SSH, below `context_path`.
pub(crate) async fn start(name: &str, context_path: &str) -> Bitbucket {
    Bitbucket::loopback(&format!("bb-{name}"))
        .context_path(context_path)
        .plain_http()
        .without_ssh()
        .start()
        .await
}

/// `actual` has the fields and JSON types of the recorded real answer `path`.
#[track_caller]
pub(crate) fn assert_recorded_shape(path: &str, actual: &Value) {
    assert_same_shape(&recorded(path), actual, "$");
}

/// Field names and JSON types of `actual` cover those of the real `expected` answer.
pub(crate) fn assert_same_shape(expected: &Value, actual: &Value, at: &str) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, value) in e {
                let Some(other) = a.get(key) else {
                    panic!("{at}.{key} is missing (real Bitbucket has it)");
                };
                assert_same_shape(value, other, &format!("{at}.{key}"));
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if let (Some(first), Some(other)) = (e.first(), a.first()) {
                assert_same_shape(first, other, &format!("{at}[0]"));
            }
        }
        (Value::Null, _) | (_, Value::Null) => {}
        (e, a) => assert_eq!(
            std::mem::discriminant(e),
            std::mem::discriminant(a),
            "{at}: real {e}, emulator {a}"
        ),
    }
}
