//! Re-embeds the migrations when only their SQL files change (cargo would not notice otherwise).

fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
