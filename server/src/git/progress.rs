//! What the git engine is doing, in flux's words (`Display` prints the line flux prints).

/// One step of a sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// `► cloning branch "main" from Git repository "<url>"`
    Cloning {
        /// The branch.
        branch: String,
        /// The repository URL.
        url: String,
    },
    /// `✔ cloned repository`
    Cloned,
    /// `✔ committed component manifests to "main" ("<sha>")`
    Committed {
        /// What the files are: "component manifests", "sync manifests".
        subject: String,
        /// The branch.
        branch: String,
        /// The new commit.
        commit: String,
    },
    /// `► pushing component manifests to "<url>"`
    Pushing {
        /// What the files are.
        subject: String,
        /// The repository URL.
        url: String,
    },
    /// `◎ git conflict detected, retrying with a fresh clone`
    Conflict,
    /// `✔ component manifests are up to date`
    UpToDate {
        /// What the files are.
        subject: String,
    },
}

impl std::fmt::Display for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Progress::Cloning { branch, url } => {
                write!(
                    f,
                    "► cloning branch \"{branch}\" from Git repository \"{url}\""
                )
            }
            Progress::Cloned => write!(f, "✔ cloned repository"),
            Progress::Committed {
                subject,
                branch,
                commit,
            } => write!(f, "✔ committed {subject} to \"{branch}\" (\"{commit}\")"),
            Progress::Pushing { subject, url } => write!(f, "► pushing {subject} to \"{url}\""),
            Progress::Conflict => write!(f, "◎ git conflict detected, retrying with a fresh clone"),
            Progress::UpToDate { subject } => write!(f, "✔ {subject} are up to date"),
        }
    }
}
