use crate::failure::not_implemented;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    Err(not_implemented("bench"))
}
