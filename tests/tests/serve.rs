//! `fluxstrap serve` as the bootstrap backend, driven with curl against `fluxstrap-sandbox up
//! --clusters N`: a job from request to "healthy" with its events streamed and resumed, history
//! across a restart, a job killed by a crash re-run, many jobs at once, the refusals, and the
//! token nowhere on disk.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use fluxstrap_testkit::TempDir;
use fluxstrap_testkit::paths::{shared, web_dir, workspace_binary};
use fluxstrap_testkit::process::{Process, SandboxUp, start_fluxstrap_serve_logged};
use fluxstrap_testkit::{Curl, CurlAnswer};
use serde_json::{Value, json};

struct Serve {
    process: Process,
    url: String,
    /// Every answer's headers and body, to look for the tokens in at the end.
    answers: RefCell<Vec<String>>,
}

/// `fluxstrap serve --config <config> --data-dir <data>`, logging to `<data>/../serve.log`.
fn serve(config: &Path, data: &Path) -> Serve {
    let log = data.with_file_name("serve.log");
    let config = config.display().to_string();
    let data = data.display().to_string();
    let (process, url) = start_fluxstrap_serve_logged(
        &web_dir(),
        &["--config", &config, "--data-dir", &data],
        &log,
    );
    Serve {
        process,
        url: url.trim_end_matches('/').to_string(),
        answers: RefCell::default(),
    }
}

impl Serve {
    fn send(&self, curl: Curl) -> CurlAnswer {
        let answer = curl.send();
        self.answers
            .borrow_mut()
            .push(format!("{}\n{}", answer.headers, answer.text));
        answer
    }

    fn post_job(&self, token: &str, body: &Value) -> CurlAnswer {
        self.send(
            Curl::new("POST", format!("{}/api/bootstraps", self.url))
                .bearer(token)
                .header(&format!("Origin: {}", self.url))
                .json(&body.to_string()),
        )
    }

    fn get(&self, path: &str) -> CurlAnswer {
        self.send(Curl::get(format!("{}{path}", self.url)))
    }

    /// Panics if any answer so far holds one of `secrets`.
    fn assert_no_answer_holds(&self, secrets: &[&str]) {
        for answer in self.answers.borrow().iter() {
            for secret in secrets {
                assert!(!answer.contains(secret), "a token in an answer: {answer}");
            }
        }
    }

    /// The job's SSE stream read to its end (after `last_event_id`): the ids and the texts.
    fn events(&self, id: &str, last_event_id: Option<&str>) -> (Vec<u64>, String) {
        let mut command = Command::new("curl");
        command.args(["-sN", "--max-time", "240"]);
        if let Some(last) = last_event_id {
            command.args(["-H", &format!("Last-Event-ID: {last}")]);
        }
        let output = command
            .arg(format!("{}/api/bootstraps/{id}/events", self.url))
            .output()
            .expect("running curl");
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        self.answers.borrow_mut().push(text.clone());
        assert!(
            text.contains("event: end"),
            "the stream did not end: {text}"
        );
        let ids = text
            .lines()
            .filter_map(|l| l.strip_prefix("id:"))
            .map(|id| id.trim().parse().expect("numeric event ids"))
            .collect();
        (ids, text)
    }

    fn state(&self, id: &str) -> Value {
        self.get(&format!("/api/bootstraps/{id}")).expect(200).body
    }
}

fn job(server: &str, cluster: &str, owner: &str, repository: &str) -> Value {
    json!({"server": server, "cluster": cluster,
           "flags": {"owner": owner, "repository": repository,
                     "path": format!("clusters/{repository}")}})
}

/// The sandbox's configuration with one more cluster that allows no seed project, and room for
/// twenty jobs at once.
fn with_closed_cluster(sandbox: &SandboxUp, dir: &TempDir) -> std::path::PathBuf {
    let original = &sandbox.settings["FLUXSTRAP_CONFIG"];
    let text = std::fs::read_to_string(original).unwrap();
    let parsed: toml::Value = toml::from_str(&text).unwrap();
    let kubeconfig = parsed["clusters"][0]["kubeconfig"]
        .as_str()
        .unwrap()
        .to_string();
    let path = dir.join("fluxstrap.toml");
    std::fs::write(
        &path,
        format!(
            "{text}\n[limits]\nconcurrent_jobs = 20\n\n[[clusters]]\nname = \"closed\"\nkubeconfig = {}\nprojects = [\"NOBODY\"]\n",
            toml::Value::String(kubeconfig)
        ),
    )
    .unwrap();
    path
}

#[test]
fn jobs_run_stream_survive_restarts_and_refuse_what_they_must() {
    let sandbox = SandboxUp::start_fresh(
        &workspace_binary("fluxstrap-sandbox"),
        &[
            "--clusters",
            "22",
            "--releases",
            &shared().join("flux/releases").display().to_string(),
        ],
    );
    let s = &sandbox.settings;
    let (token, reader, owner) = (
        s["BITBUCKET_TOKEN"].to_string(),
        s["BITBUCKET_READONLY_TOKEN"].to_string(),
        s["BITBUCKET_PROJECT_NAME"].to_string(),
    );
    let scratch = TempDir::new("serve-jobs");
    let config = with_closed_cluster(&sandbox, &scratch);
    let data = scratch.join("data");
    let server = serve(&config, &data);
    let offered = server.get("/api/config").expect(200).body;
    let bitbucket = offered["servers"][0]["name"].as_str().unwrap().to_string();
    assert_eq!(offered["clusters"].as_array().unwrap().len(), 23);
    assert!(!offered.to_string().contains("kubeconfig"), "{offered}");

    // One job, start to healthy, streamed; a second on the same target waits its turn.
    let started = Instant::now();
    let first = server.post_job(&token, &job(&bitbucket, "sandbox-1", &owner, "alone"));
    let id = first.expect(202).body["id"].as_str().unwrap().to_string();
    let again = server.post_job(&token, &job(&bitbucket, "sandbox-1", &owner, "alone"));
    assert_eq!(again.status, 409, "{}", again.text);
    assert!(again.text.contains(&id), "{}", again.text);
    let (ids, stream) = server.events(&id, None);
    let alone = started.elapsed();
    println!("serve: one job from POST to the end of its stream in {alone:.2?}");
    assert!(stream.contains("all components are healthy"), "{stream}");
    assert!(ids.len() >= 10, "{stream}");
    assert!(
        ids.windows(2).all(|w| w[1] == w[0] + 1),
        "ids with a gap: {ids:?}"
    );
    let record = server.state(&id);
    assert_eq!(record["state"], "succeeded", "{record}");
    assert_eq!(record["startedBy"], s["BITBUCKET_USER"]);
    assert!(record["steps"].as_array().unwrap().len() >= 4, "{record}");
    // Resumed after the third event: exactly the rest, and the replay of a finished job ends.
    let (resumed, _) = server.events(&id, Some(&ids[2].to_string()));
    assert_eq!(resumed, ids[3..].to_vec());

    // Refusals, each with its status and nothing recorded.
    let refusals = [
        (
            server.post_job(&reader, &job(&bitbucket, "sandbox-2", &owner, "alone")),
            403,
            "REPO_ADMIN",
        ),
        (
            server.post_job(&reader, &job(&bitbucket, "sandbox-2", &owner, "new-one")),
            403,
            "PROJECT_ADMIN",
        ),
        (
            server.post_job("not-a-token", &job(&bitbucket, "sandbox-2", &owner, "bad")),
            401,
            "",
        ),
        (
            server.post_job(&token, &job(&bitbucket, "closed", &owner, "closed")),
            403,
            "does not allow project",
        ),
        (
            server.post_job(&token, &job("elsewhere", "sandbox-2", &owner, "x")),
            400,
            "no Bitbucket server",
        ),
        (
            server.post_job(
                &token,
                &json!({"server": bitbucket, "cluster": "sandbox-2",
                "flags": {"owner": owner, "repository": "x", "kubeconfig": "/etc/passwd"}}),
            ),
            400,
            "kubeconfig",
        ),
    ];
    let malformed = server.send(
        Curl::new("POST", format!("{}/api/bootstraps", server.url))
            .bearer(&token)
            .json("{\"server\":"),
    );
    assert_eq!(malformed.status, 400, "{}", malformed.text);
    let oversized = server.send(
        Curl::new("POST", format!("{}/api/bootstraps", server.url))
            .bearer(&token)
            .json(&format!("{{\"server\":\"{}\"}}", "x".repeat(100 * 1024))),
    );
    assert_eq!(oversized.status, 413, "{}", oversized.text);
    let cross_origin = server.send(
        Curl::new("POST", format!("{}/api/bootstraps", server.url))
            .bearer(&token)
            .header("Origin: http://evil.example")
            .header("Sec-Fetch-Site: cross-site")
            .json(&job(&bitbucket, "sandbox-2", &owner, "evil").to_string()),
    );
    assert_eq!(cross_origin.status, 403, "{}", cross_origin.text);
    for (answer, status, words) in refusals {
        assert_eq!(answer.status, status, "{}", answer.text);
        assert!(answer.text.contains(words), "{}", answer.text);
    }
    for path in [
        "/api/bitbucket/elsewhere/rest/api/1.0/application-properties".to_string(),
        format!("/api/bitbucket/{bitbucket}/rest/%2e%2e/admin"),
        format!("/api/bitbucket/{bitbucket}/rest/%252e%252e/%252e%252e/x"),
        format!("/api/bitbucket/{bitbucket}/plugins/servlet/x"),
        format!("/api/git/{bitbucket}/scm/PLAT/alone.git/info/refs?service=git-receive-pack"),
    ] {
        let answer = server.send(
            Curl::get(format!("{}{path}", server.url))
                .bearer(&token)
                .args(["--path-as-is"]),
        );
        assert!(
            (400..500).contains(&answer.status),
            "{path}: {}",
            answer.status
        );
    }
    let discovery = server
        .send(
            Curl::get(format!(
                "{}/api/git/{bitbucket}/scm/PLAT/alone.git/info/refs?service=git-upload-pack",
                server.url
            ))
            .bearer(&token),
        )
        .expect(200);

    // A dry run answers the plan and changes nothing: no repository, no job recorded.
    let mut planned = job(&bitbucket, "sandbox-2", &owner, "planned");
    planned["dryRun"] = json!(true);
    let plan = server.post_job(&token, &planned).expect(200).body;
    let files = plan["plan"]["files"].as_array().unwrap();
    assert!(
        files
            .iter()
            .any(|f| f["path"] == "clusters/planned/flux-system/gotk-components.yaml"),
        "{plan}"
    );
    let writes = plan["plan"]["bitbucket"].to_string();
    assert!(
        writes.contains("POST"),
        "the plan creates the repository: {writes}"
    );
    assert!(
        !plan["plan"]["objects"].as_array().unwrap().is_empty(),
        "{plan}"
    );
    let project = &s["BITBUCKET_PROJECT"];
    let missing = server.send(
        Curl::get(format!(
            "{}/api/bitbucket/{bitbucket}/rest/api/1.0/projects/{project}/repos/planned",
            server.url
        ))
        .bearer(&token),
    );
    assert_eq!(missing.status, 404, "a dry run created the repository");
    assert_eq!(
        server.get("/api/bootstraps").body["size"],
        1,
        "a dry run was recorded"
    );
    assert!(
        discovery
            .headers
            .contains("application/x-git-upload-pack-advertisement")
    );

    // A crash mid-run: the job shows interrupted after the restart, and its rerun succeeds.
    let crashed = server.post_job(&token, &job(&bitbucket, "sandbox-2", &owner, "crashed"));
    let crashed = crashed.expect(202).body["id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + std::time::Duration::from_secs(60);
    while server.state(&crashed)["state"] == "queued" || server.state(&crashed)["events"] == 0 {
        assert!(Instant::now() < deadline, "the job never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let pid = server.process.pid().to_string();
    assert!(
        Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .unwrap()
            .success()
    );
    drop(server);
    let server = serve(&config, &data);
    assert_eq!(server.state(&crashed)["state"], "interrupted");
    assert_eq!(
        server.state(&id)["state"],
        "succeeded",
        "history after a restart"
    );
    let listed = server
        .get("/api/bootstraps?cluster=sandbox-1")
        .expect(200)
        .body;
    assert_eq!(listed["values"][0]["id"], id.as_str());
    let rerun = Curl::new(
        "POST",
        format!("{}/api/bootstraps/{crashed}/rerun", server.url),
    )
    .bearer(&token)
    .send()
    .expect(202);
    let rerun = rerun.body["id"].as_str().unwrap().to_string();
    let (_, stream) = server.events(&rerun, None);
    assert_eq!(server.state(&rerun)["state"], "succeeded", "{stream}");
    assert_eq!(server.state(&rerun)["rerunOf"], crashed.as_str());

    // Twenty jobs at once on twenty clusters and repositories.
    let started = Instant::now();
    let ids: Vec<String> = (3..=22)
        .map(|n| {
            let answer = server.post_job(
                &token,
                &job(
                    &bitbucket,
                    &format!("sandbox-{n}"),
                    &owner,
                    &format!("many-{n}"),
                ),
            );
            answer.expect(202).body["id"].as_str().unwrap().to_string()
        })
        .collect();
    for id in &ids {
        server.events(id, None);
        assert_eq!(
            server.state(id)["state"],
            "succeeded",
            "{}",
            server.state(id)
        );
    }
    let many = started.elapsed();
    println!(
        "serve: 20 concurrent jobs in {many:.2?} ({:.1}× one job alone)",
        many.as_secs_f64() / alone.as_secs_f64()
    );
    let metrics = server.get("/metrics").expect(200).text;
    assert!(
        metrics.contains("fluxstrap_jobs{state=\"succeeded\"} 22"),
        "{metrics}"
    );

    // The token is nowhere on disk.
    let database = data.join("jobs.sqlite");
    println!(
        "serve: job database {} KiB after 23 jobs",
        std::fs::metadata(&database)
            .map(|m| m.len() / 1024)
            .unwrap_or(0)
    );
    server.assert_no_answer_holds(&[&token, &reader]);
    drop(server);
    let log = std::fs::read_to_string(data.with_file_name("serve.log")).unwrap();
    assert!(
        log.contains("bootstrap request authorised"),
        "the log is read: {log}"
    );
    assert!(
        !log.contains(&token) && !log.contains(&reader),
        "a token in the log"
    );
    for file in walk(&data) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        for secret in [&token, &reader] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "a token is in {}",
                file.display()
            );
        }
    }
    let ids: BTreeSet<_> = ids.into_iter().collect();
    assert_eq!(ids.len(), 20);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
