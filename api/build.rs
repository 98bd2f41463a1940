//! `embed_migrations!` reads migrations/ at compile time; cargo must know to rebuild when a
//! migration is added or changed.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
