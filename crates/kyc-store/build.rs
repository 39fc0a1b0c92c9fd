//! Rebuilds the crate when a migration is added, not only when one of the embedded files
//! changes (`embed_migrations!` cannot see new directories by itself).

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
