//! Assertions core's unit tests share.

use std::fmt::Debug;

use crate::error::Result;

/// Asserts that `parse` refuses each input with exactly its message.
#[track_caller]
pub(crate) fn assert_refusals<T: Debug>(parse: impl Fn(&str) -> Result<T>, cases: &[(&str, &str)]) {
    for (input, message) in cases {
        assert_eq!(parse(input).unwrap_err().to_string(), *message, "{input:?}");
    }
}

/// Asserts that `parse` refuses each input with a message that names its reason.
#[track_caller]
pub(crate) fn assert_reasons<T: Debug>(parse: impl Fn(&str) -> Result<T>, cases: &[(&str, &str)]) {
    for (input, reason) in cases {
        let message = parse(input).unwrap_err().to_string();
        assert!(message.contains(reason), "{input}: {message}");
    }
}
