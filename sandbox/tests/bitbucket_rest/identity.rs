//! Identity headers and authentication; injected faults and the request log.

use fluxstrap_sandbox::bitbucket::{Fault, FaultAction};
use fluxstrap_testkit::{Curl, blocking, seed};

use super::common::{admin, assert_recorded_shape, curl, get, start};

#[tokio::test]
async fn identity_headers_and_authentication() {
    let bitbucket = start("auth", "/bitbucket").await;
    let base = bitbucket.base_url().to_string();
    blocking(move || {
        let anonymous = curl(
            "GET",
            &format!("{base}/rest/api/1.0/application-properties"),
            None,
            None,
        );
        assert_eq!(anonymous.status, 200);
        assert!(!anonymous.headers.contains("x-ausername"));
        assert_recorded_shape(
            "application-properties/sg__application-properties-7.11.2.json",
            &anonymous.body,
        );

        let bearer = get(
            format!("{base}/rest/api/latest/application-properties"),
            admin(),
        );
        assert!(
            bearer.headers.contains("x-ausername: admin"),
            "{}",
            bearer.headers
        );
        let basic = get(
            format!("{base}/rest/api/1.0/projects/PLAT"),
            &format!("{}:{}", seed::admin().name, admin()),
        );
        assert_eq!(basic.status, 200);

        let wrong = get(format!("{base}/rest/api/1.0/projects"), "not-a-token");
        assert_eq!(wrong.status, 401);
        assert_eq!(
            wrong.body["errors"][0]["exceptionName"],
            "com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException"
        );
        // A bodiless POST without X-Atlassian-Token fails Bitbucket's XSRF check.
        let xsrf = curl(
            "POST",
            &format!("{base}/rest/api/1.0/projects/PLAT/repos"),
            Some(admin()),
            None,
        );
        assert_eq!(xsrf.status, 403);
        assert!(xsrf.headers.contains("text/html"));
        // The rate-limit probe go-git-providers sends first.
        assert_eq!(curl("GET", &base, None, None).status, 200);
    })
    .await;
    bitbucket.stop().await;
}

#[tokio::test]
async fn injected_faults_and_the_request_log() {
    let bitbucket = start("faults", "").await;
    let fault = |method: Option<&str>, path: &str, nth, action| Fault {
        method: method.map(str::to_string),
        path_contains: path.to_string(),
        nth,
        action,
    };
    // The second GET of the project fails.
    let server_error = fault(Some("GET"), "/projects/PLAT", 2, FaultAction::ServerError);
    bitbucket.inject(server_error).await;
    let base = bitbucket.base_url().to_string();
    let statuses = blocking(move || {
        (0..3)
            .map(|_| get(format!("{base}/rest/api/1.0/projects/PLAT"), admin()).status)
            .collect::<Vec<_>>()
    })
    .await;
    assert_eq!(statuses, [200, 500, 200]);
    // The first request for the properties is broken off.
    let broken = fault(
        None,
        "/application-properties",
        1,
        FaultAction::DropConnection,
    );
    bitbucket.inject(broken).await;
    let base = bitbucket.base_url().to_string();
    let dropped = blocking(move || {
        Curl::get(format!("{base}/rest/api/1.0/application-properties")).exit_status()
    })
    .await;
    // curl exits non-zero when the server breaks the answer off.
    assert!(!dropped.success());
    let log = bitbucket.request_log().await;
    assert_eq!(log.len(), 4);
    assert!(
        log[..3]
            .iter()
            .all(|r| r.method == "GET" && r.path == "/rest/api/1.0/projects/PLAT")
    );
    assert_eq!(log[3].path, "/rest/api/1.0/application-properties");
    assert_eq!(log[1].status, 500);
    bitbucket.stop().await;
}
