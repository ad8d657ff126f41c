//! `gan idx`: what an IDX file holds, without loading it into tensors.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Flags of `gan idx`.
#[derive(Parser)]
pub struct IdxArgs {
    #[command(subcommand)]
    command: IdxCommand,
}

#[derive(Subcommand)]
enum IdxCommand {
    /// Print an IDX file's dtype, dimensions, size and value range (gz or raw).
    Info {
        /// The IDX file(s).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// Runs `gan idx`.
pub fn run(a: IdxArgs) -> Result<()> {
    match a.command {
        IdxCommand::Info { files } => {
            for file in files {
                // A FIFO or a device could block the read forever (a FIFO without a writer):
                // only regular files (or links to them) are read.
                let meta = std::fs::metadata(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                if !meta.is_file() {
                    anyhow::bail!(
                        "{}: not a regular file (a folder, FIFO or device); give an IDX file",
                        file.display()
                    );
                }
                let summary = mnist_idx::summary(&file)
                    .with_context(|| format!("cannot summarise {}", file.display()))?;
                println!("{}:\n{summary}", file.display());
            }
            Ok(())
        }
    }
}
