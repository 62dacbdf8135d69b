//! Prints the memory the compiled example rules hold.
fn main() {
    let loaded = madoguchi::rules::RuleSet::load(std::path::Path::new("rules")).expect("rules");
    println!(
        "sentiment automaton: {} bytes",
        loaded.rules.sentiment().memory_usage()
    );
}
