use crate::failure::not_implemented;

#[derive(clap::Args)]
pub struct Args {}

#[derive(clap::Args)]
pub struct StatusArgs {}

#[derive(clap::Args)]
pub struct MergeArgs {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    Err(not_implemented("run"))
}

pub fn status(_args: StatusArgs) -> anyhow::Result<()> {
    Err(not_implemented("status"))
}

pub fn merge(_args: MergeArgs) -> anyhow::Result<()> {
    Err(not_implemented("merge"))
}
