"""The Discord adapter: slash commands, buttons and modals, DMs and live channel quizzes.

`runner.run_discord` runs the client until cancelled; `cli.main` syncs the command tree and
prints the invite URL. Everything course-related is the core's: this package only translates
interactions into `Companion` calls and renders `Reply`s as embeds and components.
"""
