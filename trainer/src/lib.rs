//! The `lethe` command-line tool's library: backends, data location and download, training and
//! evaluation. `main.rs` is only the command-line front end over it.

pub mod allocator;
pub mod backend;
pub mod bench;
pub mod data_dir;
pub mod download;
pub mod eval;
pub mod live_export;
pub mod memory;
pub mod plots;
pub mod train;
pub mod unlearn;
pub mod web_export;
