use crate::failure::not_implemented;

#[derive(clap::Subcommand)]
pub enum DataCommand {
    /// The named sources and the study's tasks.
    List,
    /// Format, shape, counts per split and class, pixel range of a file, source or task.
    Info,
    /// Download named sources.
    Fetch,
}

pub fn run(_command: DataCommand) -> anyhow::Result<()> {
    Err(not_implemented("data"))
}
