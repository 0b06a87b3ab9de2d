//! What the test binaries share (`tests/api`, `tests/faults` and the fuzz seed replay): the
//! service in-process ([`app`]), the test brokers and read-back ([`brokers`]), child processes
//! ([`process`]) and outside tools ([`tools`]).

pub mod app;
pub mod brokers;
pub mod process;
pub mod tools;

use std::path::PathBuf;

pub use app::*;
pub use brokers::*;
pub use process::*;
pub use tools::*;

/// The build's profile folder (`target/debug`), where the service's binary is: the test binary
/// runs from its `deps` folder.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let deps = exe.parent().expect("the test binary's folder");
    deps.parent().expect("the profile folder").to_path_buf()
}

/// Scratch space beside the build (`target/tmp`), as Cargo gives integration tests.
pub fn tmp_dir() -> PathBuf {
    let dir = target_dir()
        .parent()
        .expect("the target folder")
        .join("tmp");
    std::fs::create_dir_all(&dir).expect("target/tmp");
    dir
}
