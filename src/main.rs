fn main() {
    let code = rcompose::run(std::env::args_os().collect());
    std::process::exit(code);
}
