import EduVaultCLI

@main struct Main { static func main() async { await CommandLineEntry.main() } }
