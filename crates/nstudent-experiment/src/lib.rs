//! The study: nested cross-validation over tasks and algorithms, stored cell by cell so that it
//! resumes after a crash and scales out as shards.
