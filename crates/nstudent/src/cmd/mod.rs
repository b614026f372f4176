//! One module per subcommand: its arguments and what it does.

pub mod bench;
pub mod compare;
pub mod curve;
pub mod data;
pub mod format;
pub mod merge;
pub mod predict;
pub mod read_args;
pub mod report;
pub mod run;
pub mod score;
pub mod stats;
pub mod status;
pub mod study_json;
pub mod table_args;
pub mod train;
pub mod verify;
