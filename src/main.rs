fn main() -> std::process::ExitCode {
    airscope::cli::main()
}
