//! Prints what an IDX file holds: dtype, dims, and min, max and mean of its values (streamed,
//! so any size reads in bounded memory). On a bad file, prints the error and exits 1.
//!
//! ```text
//! cargo run -p mnist-idx --example idx-info -- data/mnist/train-images-idx3-ubyte.gz
//! ```

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path] = args.as_slice() else {
        eprintln!("usage: idx-info FILE");
        return ExitCode::from(2);
    };
    match mnist_idx::summary(path) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
